// Package mail owns the invitation email: how a message leaves Clubhouse
// (an SMTP sender built on go-mail, or the development mailbox under
// `make run`) and the worker that makes one attempt at an invitation for
// the job queue, recording the outcome in the outbox, fenced by attempt,
// and telling the club's owner through the audit log when an invitation
// was given up on.
//
// It imports only the domain (internal/club). The email's words and markup
// come from a RenderFunc that cmd wires to the views package.
package mail
