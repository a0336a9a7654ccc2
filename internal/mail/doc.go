// Package mail owns the invitation email: how a message leaves Clubhouse
// (an SMTP sender built on go-mail, or the development mailbox under
// `make run`) and the worker that drains the invitation outbox, retrying
// with backoff and telling the club's owner through the audit log when an
// invitation could not be sent.
//
// It imports only the domain (internal/club). The email's words and markup
// come from a RenderFunc that cmd wires to the views package.
package mail
