package mail_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/mail"
)

func TestDevSender(t *testing.T) {
	full := errors.New("disk full")
	tests := []struct {
		name       string
		deliverErr error
		wantReason string
	}{
		{"delivered", nil, ""},
		{"mailbox refuses", full, "the development mailbox did not accept the email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []club.Mail
			box := &fakeMailbox{DeliverFn: func(_ context.Context, m club.Mail) error {
				got = append(got, m)
				return tt.deliverErr
			}}
			local := time.FixedZone("CET", 3600)
			s := mail.NewDevSender(box, func() time.Time { return t0.In(local) })
			msg := mail.Message{To: "ana@example.org", Subject: "You've been added", HTML: "<p>Hi</p>", Text: "Hi"}

			err := s.Send(t.Context(), msg)
			if tt.deliverErr == nil && err != nil {
				t.Fatalf("Send: %v", err)
			}
			if tt.deliverErr != nil {
				var se *mail.SendError
				if !errors.As(err, &se) || se.Reason != tt.wantReason || !errors.Is(err, tt.deliverErr) {
					t.Fatalf("Send error = %v, want a SendError %q wrapping %v", err, tt.wantReason, tt.deliverErr)
				}
			}
			want := club.Mail{To: msg.To, Subject: msg.Subject, HTML: msg.HTML, Text: msg.Text, At: t0}
			if len(got) != 1 || got[0] != want {
				t.Errorf("delivered %+v, want %+v (time in UTC)", got, want)
			}
		})
	}
}
