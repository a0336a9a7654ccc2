package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/mail"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// fakeClock is an injectable clock that only moves when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

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
			outbox := newRecordingOutbox(item)
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
			w := mail.NewWorker(outbox, sender, render, mail.WorkerConfig{
				BaseURL: tt.baseURL, Now: func() time.Time { return t0 },
			})

			n, err := w.RunOnce(t.Context())
			if err != nil {
				t.Fatalf("RunOnce: %v", err)
			}
			if got, want := n, 1; got != want {
				t.Errorf("handled = %d, want %d", got, want)
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
			if got, want := outbox.Results(), []result{{Kind: "sent", ID: 7, At: t0}}; !equalResults(got, want) {
				t.Errorf("outbox results = %+v, want %+v", got, want)
			}
		})
	}
}

func equalResults(a, b []result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || a[i].ID != b[i].ID || !a[i].At.Equal(b[i].At) ||
			a[i].Reason != b[i].Reason || a[i].Event != b[i].Event {
			return false
		}
	}
	return true
}

func TestWorkerRetrySchedule(t *testing.T) {
	const reason = "the mail server did not answer in time"
	sendErr := &mail.SendError{Reason: reason, Err: errors.New("dial tcp 10.1.2.3:587: i/o timeout")}
	giveUp := club.AuditEvent{
		ClubCode: "org_1a2b3c4d5e6", ActorName: "Clubhouse", Action: club.ActionInvitationFailed,
		TargetEmail: "ana@example.org", Detail: "Invitation to ana@example.org could not be sent", At: t0,
	}
	tests := []struct {
		name     string
		attempts int // already recorded before this one
		cfg      mail.WorkerConfig
		want     result
	}{
		{"first failure waits 30s", 0, mail.WorkerConfig{}, result{Kind: "retry", ID: 1, At: t0.Add(30 * time.Second), Reason: reason}},
		{"second failure waits 2m", 1, mail.WorkerConfig{}, result{Kind: "retry", ID: 1, At: t0.Add(2 * time.Minute), Reason: reason}},
		{"third failure waits 10m", 2, mail.WorkerConfig{}, result{Kind: "retry", ID: 1, At: t0.Add(10 * time.Minute), Reason: reason}},
		{"fourth failure waits 30m", 3, mail.WorkerConfig{}, result{Kind: "retry", ID: 1, At: t0.Add(30 * time.Minute), Reason: reason}},
		{"fifth failure waits 2h", 4, mail.WorkerConfig{}, result{Kind: "retry", ID: 1, At: t0.Add(2 * time.Hour), Reason: reason}},
		{"sixth failure gives up", 5, mail.WorkerConfig{}, result{Kind: "failed", ID: 1, Reason: reason, Event: giveUp}},
		{
			"custom backoff", 0,
			mail.WorkerConfig{MaxAttempts: 2, Backoff: func(a int) time.Duration { return time.Duration(a) * time.Minute }},
			result{Kind: "retry", ID: 1, At: t0.Add(time.Minute), Reason: reason},
		},
		{"custom max attempts gives up", 1, mail.WorkerConfig{MaxAttempts: 2}, result{Kind: "failed", ID: 1, Reason: reason, Event: giveUp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outbox := newRecordingOutbox(invitationItem(1, tt.attempts))
			cfg := tt.cfg
			cfg.Now = func() time.Time { return t0 }
			w := mail.NewWorker(outbox, failingSender(sendErr), renderStub, cfg)

			n, err := w.RunOnce(t.Context())
			if err != nil {
				t.Fatalf("RunOnce: %v", err)
			}
			if got, want := n, 1; got != want {
				t.Errorf("handled = %d, want %d", got, want)
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
		})
	}
}

func TestWorkerFailureReasonIsSafe(t *testing.T) {
	secrets := []string{"smtp.internal.example", "10.1.2.3", "hunter2"}
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
			sendErr:    errors.New("535 auth failed for user relay password=hunter2 at smtp.internal.example (10.1.2.3)"),
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
			outbox := newRecordingOutbox(invitationItem(3, 0))
			sends := 0
			sender := senderFunc(func(context.Context, mail.Message) error {
				sends++
				return tt.sendErr
			})
			w := mail.NewWorker(outbox, sender, tt.render, mail.WorkerConfig{Now: func() time.Time { return t0 }})
			if _, err := w.RunOnce(t.Context()); err != nil {
				t.Fatalf("RunOnce: %v", err)
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
			for _, s := range secrets {
				if strings.Contains(res[0].Reason, s) {
					t.Errorf("reason %q leaks %q", res[0].Reason, s)
				}
			}
		})
	}
}

func TestWorkerLogsNoFullEmail(t *testing.T) {
	tests := []struct {
		name    string
		sendErr error
		wantLog string
	}{
		{"sent", nil, "invitation sent"},
		{"retried", errors.New("550 5.1.1 <ana@example.org>: no such user"), "<recipient>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			outbox := newRecordingOutbox(invitationItem(4, 0))
			w := mail.NewWorker(outbox, failingSender(tt.sendErr), renderStub, mail.WorkerConfig{
				Now: func() time.Time { return t0 }, Logger: logger,
			})
			if _, err := w.RunOnce(t.Context()); err != nil {
				t.Fatalf("RunOnce: %v", err)
			}
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

func TestWorkerRunOnceDrainsInBatches(t *testing.T) {
	var items []club.OutboxItem
	for id := range int64(5) {
		items = append(items, invitationItem(id+1, 0))
	}
	outbox := newRecordingOutbox(items...)
	var limits []int
	claim := outbox.ClaimDueFn
	outbox.ClaimDueFn = func(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]club.OutboxItem, error) {
		limits = append(limits, limit)
		if got, want := lease, 3*time.Minute; got != want {
			t.Errorf("lease = %s, want %s", got, want)
		}
		if !now.Equal(t0) {
			t.Errorf("claim now = %s, want %s", now, t0)
		}
		return claim(ctx, now, limit, lease)
	}
	sender := senderFunc(func(context.Context, mail.Message) error { return nil })
	w := mail.NewWorker(outbox, sender, renderStub, mail.WorkerConfig{
		Now: func() time.Time { return t0 }, BatchSize: 2, Lease: 3 * time.Minute,
	})

	n, err := w.RunOnce(t.Context())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if got, want := n, 5; got != want {
		t.Errorf("handled = %d, want %d", got, want)
	}
	if got, want := len(limits), 3; got != want {
		t.Errorf("claims = %d, want %d (2 + 2 + 1)", got, want)
	}
	if got := len(outbox.Results()); got != 5 {
		t.Errorf("results = %d, want 5", got)
	}
}

func TestWorkerRunOnceOutboxErrors(t *testing.T) {
	boom := errors.New("database is locked")
	tests := []struct {
		name      string
		setup     func(o *recordingOutbox)
		wantSends int
	}{
		{
			name: "claim fails",
			setup: func(o *recordingOutbox) {
				o.ClaimDueFn = func(context.Context, time.Time, int, time.Duration) ([]club.OutboxItem, error) {
					return nil, boom
				}
			},
			wantSends: 0,
		},
		{
			name: "mark sent fails and stops the pass",
			setup: func(o *recordingOutbox) {
				o.MarkSentFn = func(context.Context, int64, time.Time) error { return boom }
			},
			wantSends: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outbox := newRecordingOutbox(invitationItem(1, 0), invitationItem(2, 0))
			tt.setup(outbox)
			sends := 0
			sender := senderFunc(func(context.Context, mail.Message) error { sends++; return nil })
			w := mail.NewWorker(outbox, sender, renderStub, mail.WorkerConfig{Now: func() time.Time { return t0 }})

			n, err := w.RunOnce(t.Context())
			if !errors.Is(err, boom) {
				t.Fatalf("RunOnce error = %v, want %v", err, boom)
			}
			if !strings.HasPrefix(err.Error(), "mail: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if n != 0 {
				t.Errorf("handled = %d, want 0", n)
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
		// Shutting down is not the invitation's fault: no attempt is counted
		// and the item comes back when its lease runs out.
		{"send fails because of the cancel", context.Canceled, nil, context.Canceled},
		// The server took the email: record it, or it would be sent twice.
		{"send succeeds just before the cancel", nil, []result{{Kind: "sent", ID: 1, At: t0}}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			outbox := newRecordingOutbox(invitationItem(1, 0), invitationItem(2, 0))
			markSent := outbox.MarkSentFn
			outbox.MarkSentFn = func(ctx context.Context, id int64, at time.Time) error {
				if err := ctx.Err(); err != nil {
					t.Errorf("MarkSent got a done context: %v", err)
				}
				return markSent(ctx, id, at)
			}
			sends := 0
			sender := senderFunc(func(context.Context, mail.Message) error {
				sends++
				cancel()
				return tt.sendResult
			})
			w := mail.NewWorker(outbox, sender, renderStub, mail.WorkerConfig{Now: func() time.Time { return t0 }})

			_, err := w.RunOnce(ctx)
			if got, want := err, tt.wantErr; !errors.Is(got, want) {
				t.Errorf("RunOnce error = %v, want %v", got, want)
			}
			if got, want := sends, 1; got != want {
				t.Errorf("sends = %d, want %d (nothing after the cancel)", got, want)
			}
			if got, want := outbox.Results(), tt.wantResults; !equalResults(got, want) {
				t.Errorf("outbox results = %+v, want %+v", got, want)
			}
		})
	}
}

// TestWorkerRetryOnALaterPass: a failed attempt is stored for its backoff
// time, and the first pass at that time sends it.
func TestWorkerRetryOnALaterPass(t *testing.T) {
	clock := &fakeClock{now: t0}
	var claimedAt []time.Time
	attempts := 0
	outbox := newRecordingOutbox()
	outbox.ClaimDueFn = func(_ context.Context, now time.Time, _ int, _ time.Duration) ([]club.OutboxItem, error) {
		claimedAt = append(claimedAt, now)
		if len(claimedAt) > 2 {
			return nil, nil
		}
		return []club.OutboxItem{invitationItem(9, len(claimedAt)-1)}, nil
	}
	sender := senderFunc(func(context.Context, mail.Message) error {
		attempts++
		if attempts == 1 {
			return &mail.SendError{Reason: "the mail server could not be reached"}
		}
		return nil
	})
	w := mail.NewWorker(outbox, sender, renderStub, mail.WorkerConfig{Now: clock.Now})

	if n, err := w.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("first pass = %d, %v; want 1 handled", n, err)
	}
	clock.Advance(30 * time.Second)
	if n, err := w.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("pass at the retry time = %d, %v; want 1 handled", n, err)
	}

	want := []result{
		{Kind: "retry", ID: 9, At: t0.Add(30 * time.Second), Reason: "the mail server could not be reached"},
		{Kind: "sent", ID: 9, At: t0.Add(30 * time.Second)},
	}
	if got := outbox.Results(); !equalResults(got, want) {
		t.Errorf("outbox results = %+v, want %+v", got, want)
	}
	if len(claimedAt) != 2 || !claimedAt[1].Equal(t0.Add(30*time.Second)) {
		t.Errorf("claims at %v, want the second at the retry time", claimedAt)
	}
}
