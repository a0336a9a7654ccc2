package mail

import (
	"context"
	"fmt"
)

// Message is one email, ready to go: a single recipient, a subject and the
// body as both HTML and plain text.
type Message struct {
	To      string
	Subject string
	HTML    string
	Text    string
}

// Sender delivers a Message. A delivery that fails returns an error; when
// the error is (or wraps) a *SendError its Reason is safe to store and show
// to a club owner.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SendError is a failed delivery. Reason is short and safe to show to a club
// owner: it never names a server or carries credentials. Err is the cause,
// for the logs.
type SendError struct {
	Reason string
	Err    error
}

func (e *SendError) Error() string {
	if e.Err == nil {
		return "mail: " + e.Reason
	}
	return fmt.Sprintf("mail: %s: %v", e.Reason, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }
