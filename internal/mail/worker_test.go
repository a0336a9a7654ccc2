package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/mail"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func invitationItem(id int64, attempts int) club.OutboxItem {
	return club.OutboxItem{
		ID: id,
		Invitation: club.Invitation{
			ClubCode: "org_1a2b3c4d5e6", ClubName: "Riverside Rowing Club",
			Email: "ana@example.org", Name: "Ana Silva", InvitedBy: "Olivia Owner",
		},
		Status:   club.InvitationQueued,
		Attempts: attempts,
	}
}

// renderStub renders a recognisable email from the invitation and link.
func renderStub(inv club.Invitation, link string) (string, string, string, error) {
	return "You've been added to " + inv.ClubName,
		`<p>Hello ` + inv.Name + `</p><a href="` + link + `">Sign in</a>`,
		"Hello " + inv.Name + "\nSign in: " + link,
		nil
}

func failingSender(err error) mail.Sender {
	return senderFunc(func(context.Context, mail.Message) error { return err })
}

func okSender() mail.Sender { return failingSender(nil) }

func fixedNow() time.Time { return t0 }

func equalResults(a, b []result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || a[i].ID != b[i].ID || a[i].Attempt != b[i].Attempt || !a[i].At.Equal(b[i].At) ||
			a[i].Reason != b[i].Reason || a[i].Event != b[i].Event {
			return false
		}
	}
	return true
}

func TestWorkerSendsInvitation(t *testing.T) {
	tests := []struct {
		name    string
		baseURL string
		email   string
		wantURL string
	}{
		{
			name:    "plain address",
			baseURL: "https://clubhouse.example.org",
			email:   "ana@example.org",
			wantURL: "https://clubhouse.example.org/auth/login?org_code=org_1a2b3c4d5e6&login_hint=ana%40example.org",
		},
		{
			name:    "trailing slash and plus address",
			baseURL: "http://127.0.0.1:8080/",
			email:   "ana+rowing@example.org",
			wantURL: "http://127.0.0.1:8080/auth/login?org_code=org_1a2b3c4d5e6&login_hint=ana%2Browing%40example.org",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item := invitationItem(7, 0)
			item.Invitation.Email = tt.email
			outbox := newMemOutbox(item)
			var gotLink string
			render := func(inv club.Invitation, link string) (string, string, string, error) {
				gotLink = link
				return renderStub(inv, link)
			}
			var sent []mail.Message
			sender := senderFunc(func(_ context.Context, m mail.Message) error {
				sent = append(sent, m)
				return nil
			})
			w := mail.NewWorker(outbox, sender, render, mail.WorkerConfig{BaseURL: tt.baseURL, Now: fixedNow})

			if err := w.Deliver(t.Context(), 7, 1, false); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			if got, want := gotLink, tt.wantURL; got != want {
				t.Errorf("sign-in link = %q, want %q", got, want)
			}
			if got, want := w.SignInURL(item.Invitation), tt.wantURL; got != want {
				t.Errorf("SignInURL = %q, want %q", got, want)
			}
			subject, html, text, _ := renderStub(item.Invitation, tt.wantURL)
			want := []mail.Message{{To: tt.email, Subject: subject, HTML: html, Text: text}}
			if len(sent) != 1 || sent[0] != want[0] {
				t.Errorf("sent = %+v, want %+v", sent, want)
			}
			if got, want := outbox.Results(), []result{{Kind: "sent", ID: 7, Attempt: 1, At: t0}}; !equalResults(got, want) {
				t.Errorf("outbox results = %+v, want %+v", got, want)
			}
		})
	}
}

// TestWorkerRetrySchedule: a failed attempt is recorded for a retry after
// the backoff of its number and asks the job queue to run it again; the
// last one gives the invitation up and tells the owner, and the job is done.
func TestWorkerRetrySchedule(t *testing.T) {
	const reason = "the mail server did not answer in time"
	sendErr := &mail.SendError{Reason: reason, Err: errors.New("dial tcp 10.1.2.3:587: i/o timeout")}
	giveUp := club.AuditEvent{
		ClubCode: "org_1a2b3c4d5e6", ActorName: "Clubhouse", Action: club.ActionInvitationFailed,
		TargetEmail: "ana@example.org", Detail: "Invitation to ana@example.org could not be sent", At: t0,
	}
	perMinute := func(a int) time.Duration { return time.Duration(a) * time.Minute }
	tests := []struct {
		name      string
		attempt   int
		last      bool
		backoff   func(int) time.Duration
		want      result
		wantRetry bool
	}{
		{"first failure waits 30s", 1, false, nil, result{Kind: "retry", ID: 1, Attempt: 1, At: t0.Add(30 * time.Second), Reason: reason}, true},
		{"second failure waits 2m", 2, false, nil, result{Kind: "retry", ID: 1, Attempt: 2, At: t0.Add(2 * time.Minute), Reason: reason}, true},
		{"third failure waits 10m", 3, false, nil, result{Kind: "retry", ID: 1, Attempt: 3, At: t0.Add(10 * time.Minute), Reason: reason}, true},
		{"fourth failure waits 30m", 4, false, nil, result{Kind: "retry", ID: 1, Attempt: 4, At: t0.Add(30 * time.Minute), Reason: reason}, true},
		{"fifth failure waits 2h", 5, false, nil, result{Kind: "retry", ID: 1, Attempt: 5, At: t0.Add(2 * time.Hour), Reason: reason}, true},
		{"last attempt gives up", 6, true, nil, result{Kind: "failed", ID: 1, Attempt: 6, Reason: reason, Event: giveUp}, false},
		{"custom backoff", 1, false, perMinute, result{Kind: "retry", ID: 1, Attempt: 1, At: t0.Add(time.Minute), Reason: reason}, true},
		{"an early last attempt gives up", 2, true, perMinute, result{Kind: "failed", ID: 1, Attempt: 2, Reason: reason, Event: giveUp}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outbox := newMemOutbox(invitationItem(1, tt.attempt-1))
			w := mail.NewWorker(outbox, failingSender(sendErr), renderStub, mail.WorkerConfig{Now: fixedNow, Backoff: tt.backoff})

			err := w.Deliver(t.Context(), 1, tt.attempt, tt.last)
			var re *mail.RetryError
			if got := errors.As(err, &re); got != tt.wantRetry {
				t.Fatalf("Deliver = %v; want a RetryError: %v", err, tt.wantRetry)
			}
			if !tt.wantRetry && err != nil {
				t.Fatalf("Deliver = %v, want nil: the job is done", err)
			}
			if tt.wantRetry && (re.Reason != reason || !re.Next.Equal(tt.want.At) || !re.Next.Equal(t0.Add(w.Backoff(tt.attempt)))) {
				t.Errorf("retry = %+v, want %q at %s, Backoff(%d) from now", re, reason, tt.want.At, tt.attempt)
			}
			if got, want := outbox.Results(), []result{tt.want}; !equalResults(got, want) {
				t.Errorf("outbox results = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{1, 30 * time.Second}, {2, 2 * time.Minute}, {3, 10 * time.Minute},
		{4, 30 * time.Minute}, {5, 2 * time.Hour}, {9, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.want.String(), func(t *testing.T) {
			if got := mail.DefaultBackoff(tt.attempt); got != tt.want {
				t.Errorf("DefaultBackoff(%d) = %s, want %s", tt.attempt, got, tt.want)
			}
			w := mail.NewWorker(newMemOutbox(), okSender(), renderStub, mail.WorkerConfig{})
			if got := w.Backoff(tt.attempt); got != tt.want {
				t.Errorf("a default worker's Backoff(%d) = %s, want %s", tt.attempt, got, tt.want)
			}
		})
	}
}

func TestWorkerFailureReasonIsSafe(t *testing.T) {
	secrets := []string{"smtp.internal.example", "10.1.2.3", "hunter2", "ana@example.org"}
	tests := []struct {
		name       string
		render     mail.RenderFunc
		sendErr    error
		wantReason string
		wantSends  int
	}{
		{
			name:       "unclassified error",
			render:     renderStub,
			sendErr:    errors.New("535 auth failed for ana@example.org password=hunter2 at smtp.internal.example (10.1.2.3)"),
			wantReason: "the email could not be sent",
			wantSends:  1,
		},
		{
			name:   "classified error",
			render: renderStub,
			sendErr: &mail.SendError{
				Reason: "the mail server refused the login",
				Err:    errors.New("535 auth failed for hunter2 at smtp.internal.example"),
			},
			wantReason: "the mail server refused the login",
			wantSends:  1,
		},
		{
			name: "render error",
			render: func(club.Invitation, string) (string, string, string, error) {
				return "", "", "", errors.New("template at smtp.internal.example broke")
			},
			wantReason: "the email could not be written",
			wantSends:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outbox := newMemOutbox(invitationItem(3, 0))
			sends := 0
			sender := senderFunc(func(context.Context, mail.Message) error {
				sends++
				return tt.sendErr
			})
			w := mail.NewWorker(outbox, sender, tt.render, mail.WorkerConfig{Now: fixedNow})
			err := w.Deliver(t.Context(), 3, 1, false)
			if err == nil {
				t.Fatal("Deliver = nil, want the retry")
			}
			if got, want := sends, tt.wantSends; got != want {
				t.Errorf("sends = %d, want %d", got, want)
			}
			res := outbox.Results()
			if len(res) != 1 || res[0].Kind != "retry" {
				t.Fatalf("outbox results = %+v, want one retry", res)
			}
			if got, want := res[0].Reason, tt.wantReason; got != want {
				t.Errorf("reason = %q, want %q", got, want)
			}
			// The job queue stores and logs the returned error: it holds
			// the safe reason only.
			for _, s := range secrets {
				if strings.Contains(res[0].Reason, s) {
					t.Errorf("reason %q leaks %q", res[0].Reason, s)
				}
				if strings.Contains(err.Error(), s) {
					t.Errorf("returned error %q leaks %q", err, s)
				}
			}
		})
	}
}

func TestWorkerLogsNoFullEmail(t *testing.T) {
	tests := []struct {
		name    string
		sendErr error
		last    bool
		wantLog string
	}{
		{"sent", nil, false, "invitation sent"},
		{"retried", errors.New("550 5.1.1 <ana@example.org>: no such user"), false, "***@example.org"},
		{"given up", errors.New("550 5.1.1 <ana@example.org>: no such user"), true, "***@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			outbox := newMemOutbox(invitationItem(4, 0))
			w := mail.NewWorker(outbox, failingSender(tt.sendErr), renderStub, mail.WorkerConfig{Now: fixedNow, Logger: logger})
			_ = w.Deliver(t.Context(), 4, 1, tt.last)
			logs := buf.String()
			if !strings.Contains(logs, tt.wantLog) {
				t.Errorf("logs %q do not contain %q", logs, tt.wantLog)
			}
			if strings.Contains(logs, "ana@example.org") {
				t.Errorf("logs contain the recipient's address: %s", logs)
			}
		})
	}
}

func TestWorkerOutboxErrors(t *testing.T) {
	boom := errors.New("database is locked")
	tests := []struct {
		name      string
		setup     func(o *memOutbox)
		sendErr   error
		wantSends int
	}{
		{
			name: "read fails",
			setup: func(o *memOutbox) {
				o.OutboxItemFn = func(context.Context, int64) (club.OutboxItem, error) { return club.OutboxItem{}, boom }
			},
			wantSends: 0,
		},
		{
			// The job runs again and sends again: better twice than never.
			name: "mark sent fails",
			setup: func(o *memOutbox) {
				o.MarkSentFn = func(context.Context, int64, int, time.Time) (bool, error) { return false, boom }
			},
			wantSends: 1,
		},
		{
			name: "mark retry fails",
			setup: func(o *memOutbox) {
				o.MarkRetryFn = func(context.Context, int64, int, time.Time, string) (bool, error) { return false, boom }
			},
			sendErr:   errors.New("421 try later"),
			wantSends: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outbox := newMemOutbox(invitationItem(1, 0))
			tt.setup(outbox)
			sends := 0
			sender := senderFunc(func(context.Context, mail.Message) error { sends++; return tt.sendErr })
			w := mail.NewWorker(outbox, sender, renderStub, mail.WorkerConfig{Now: fixedNow})

			err := w.Deliver(t.Context(), 1, 1, false)
			if !errors.Is(err, boom) {
				t.Fatalf("Deliver error = %v, want %v", err, boom)
			}
			if !strings.HasPrefix(err.Error(), "mail: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if got, want := sends, tt.wantSends; got != want {
				t.Errorf("sends = %d, want %d", got, want)
			}
		})
	}
}

func TestWorkerCancelledMidSend(t *testing.T) {
	tests := []struct {
		name        string
		sendResult  error
		wantResults []result
		wantErr     error
	}{
		// Stopping is not the invitation's fault: nothing is recorded, and
		// the error wraps the cancel so River runs the attempt again
		// without counting it.
		{"send fails because of the cancel", context.Canceled, nil, context.Canceled},
		// The server took the email: record it, or it would be sent twice.
		{"send succeeds just before the cancel", nil, []result{{Kind: "sent", ID: 1, Attempt: 1, At: t0}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			outbox := newMemOutbox(invitationItem(1, 0))
			markSent := outbox.MarkSentFn
			outbox.MarkSentFn = func(ctx context.Context, id int64, attempt int, at time.Time) (bool, error) {
				if err := ctx.Err(); err != nil {
					t.Errorf("MarkSent got a done context: %v", err)
				}
				return markSent(ctx, id, attempt, at)
			}
			sender := senderFunc(func(context.Context, mail.Message) error {
				cancel()
				return tt.sendResult
			})
			w := mail.NewWorker(outbox, sender, renderStub, mail.WorkerConfig{Now: fixedNow})

			err := w.Deliver(ctx, 1, 1, true)
			if tt.wantErr == nil && err != nil {
				t.Errorf("Deliver error = %v, want nil", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Deliver error = %v, want %v", err, tt.wantErr)
			}
			if got, want := outbox.Results(), tt.wantResults; !equalResults(got, want) {
				t.Errorf("outbox results = %+v, want %+v", got, want)
			}
		})
	}
}

// TestWorkerStaleAttempt is the unfenced-mark bug: attempt A is still
// sending when its job is handed to attempt B (River rescued it as stuck,
// as the old outbox's lease ran out), B sends and records it, and then A's
// send fails. Whatever A then records must change nothing: the invitation
// stays sent, with no "given up" in the audit log.
func TestWorkerStaleAttempt(t *testing.T) {
	tests := []struct {
		name  string
		aLast bool // A was the job's last attempt: it would give up
	}{
		{"stale retry", false},
		{"stale give-up", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outbox := newMemOutbox(invitationItem(1, 0))
			aSending, aFails := make(chan struct{}), make(chan struct{})
			sender := senderFunc(func(context.Context, mail.Message) error {
				select {
				case <-aSending: // B
					return nil
				default: // A: stuck until B has sent
					close(aSending)
					<-aFails
					return &mail.SendError{Reason: "the mail server did not answer in time"}
				}
			})
			w := mail.NewWorker(outbox, sender, renderStub, mail.WorkerConfig{Now: fixedNow})

			aDone := make(chan error, 1)
			go func() { aDone <- w.Deliver(t.Context(), 1, 1, tt.aLast) }()
			<-aSending
			if err := w.Deliver(t.Context(), 1, 2, false); err != nil {
				t.Fatalf("B: %v", err)
			}
			close(aFails)
			if err := <-aDone; err != nil {
				t.Errorf("A = %v, want nil: a newer attempt owns the invitation", err)
			}

			if got, want := outbox.Results(), []result{{Kind: "sent", ID: 1, Attempt: 2, At: t0}}; !equalResults(got, want) {
				t.Errorf("outbox results = %+v, want B's send alone", got)
			}
			if it := outbox.Item(1); it.Status != club.InvitationSent || it.Attempts != 2 || it.LastError != "" {
				t.Errorf("item = %+v, want sent by attempt 2", it)
			}
		})
	}
}

// TestWorkerSkipsSettledInvitations: an attempt that finds its invitation
// settled, or an outcome recorded by it or a later attempt, sends nothing.
func TestWorkerSkipsSettledInvitations(t *testing.T) {
	sent := invitationItem(1, 2)
	sent.Status = club.InvitationSent
	failed := invitationItem(1, 6)
	failed.Status = club.InvitationFailed
	tests := []struct {
		name    string
		item    club.OutboxItem
		attempt int
	}{
		{"sent", sent, 3},
		{"given up", failed, 7},
		{"a later attempt recorded a retry", invitationItem(1, 3), 2},
		{"this attempt recorded already", invitationItem(1, 2), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outbox := newMemOutbox(tt.item)
			sender := senderFunc(func(context.Context, mail.Message) error {
				t.Error("an email was sent")
				return nil
			})
			w := mail.NewWorker(outbox, sender, renderStub, mail.WorkerConfig{Now: fixedNow})
			if err := w.Deliver(t.Context(), 1, tt.attempt, false); err != nil {
				t.Errorf("Deliver = %v, want nil", err)
			}
			if got := outbox.Results(); len(got) != 0 {
				t.Errorf("outbox results = %+v, want none", got)
			}
		})
	}

	t.Run("not in the outbox", func(t *testing.T) {
		outbox := newMemOutbox()
		w := mail.NewWorker(outbox, failingSender(errors.New("must not send")), renderStub, mail.WorkerConfig{Now: fixedNow})
		if err := w.Deliver(t.Context(), 42, 1, false); err != nil {
			t.Errorf("Deliver = %v, want nil (retrying finds nothing either)", err)
		}
	})
}
