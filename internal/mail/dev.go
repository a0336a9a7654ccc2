package mail

import (
	"context"
	"fmt"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// DevSender delivers mail into the development mailbox and nowhere else, so
// that `make run` can show invitations without any mail leaving the machine.
type DevSender struct {
	box club.DevMailbox
	now func() time.Time
}

var _ Sender = (*DevSender)(nil)

// NewDevSender returns a Sender that stores every message in box, stamped
// with now() (time.Now when nil).
func NewDevSender(box club.DevMailbox, now func() time.Time) *DevSender {
	if now == nil {
		now = time.Now
	}
	return &DevSender{box: box, now: now}
}

// Send stores m in the development mailbox.
func (d *DevSender) Send(ctx context.Context, m Message) error {
	mail := club.Mail{To: m.To, Subject: m.Subject, HTML: m.HTML, Text: m.Text, At: d.now().UTC()}
	if err := d.box.Deliver(ctx, mail); err != nil {
		return &SendError{Reason: "the development mailbox did not accept the email", Err: fmt.Errorf("deliver to dev mailbox: %w", err)}
	}
	return nil
}
