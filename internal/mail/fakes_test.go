package mail_test

import (
	"context"
	"sync"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/mail"
)

// fakeOutbox is a club.Outbox made of function fields; a nil field panics
// when called, so a test states every call it expects.
type fakeOutbox struct {
	ClaimDueFn   func(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]club.OutboxItem, error)
	MarkSentFn   func(ctx context.Context, id int64, at time.Time) error
	MarkRetryFn  func(ctx context.Context, id int64, next time.Time, reason string) error
	MarkFailedFn func(ctx context.Context, id int64, reason string, ev club.AuditEvent) error
}

var _ club.Outbox = (*fakeOutbox)(nil)

func (f *fakeOutbox) ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]club.OutboxItem, error) {
	return f.ClaimDueFn(ctx, now, limit, lease)
}

func (f *fakeOutbox) MarkSent(ctx context.Context, id int64, at time.Time) error {
	return f.MarkSentFn(ctx, id, at)
}

func (f *fakeOutbox) MarkRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	return f.MarkRetryFn(ctx, id, next, reason)
}

func (f *fakeOutbox) MarkFailed(ctx context.Context, id int64, reason string, ev club.AuditEvent) error {
	return f.MarkFailedFn(ctx, id, reason, ev)
}

// senderFunc is a mail.Sender made of one function.
type senderFunc func(ctx context.Context, m mail.Message) error

func (f senderFunc) Send(ctx context.Context, m mail.Message) error { return f(ctx, m) }

// result is one outcome the worker recorded in the outbox.
type result struct {
	Kind   string // "sent", "retry" or "failed"
	ID     int64
	At     time.Time // sent at, or next attempt
	Reason string
	Event  club.AuditEvent
}

// recordingOutbox hands out its items on the first claim, nothing after, and
// records every outcome.
type recordingOutbox struct {
	fakeOutbox
	mu      sync.Mutex
	pending []club.OutboxItem
	claims  int
	results []result
}

func newRecordingOutbox(items ...club.OutboxItem) *recordingOutbox {
	o := &recordingOutbox{pending: items}
	o.ClaimDueFn = func(_ context.Context, _ time.Time, limit int, _ time.Duration) ([]club.OutboxItem, error) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.claims++
		n := min(limit, len(o.pending))
		out := o.pending[:n]
		o.pending = o.pending[n:]
		return out, nil
	}
	o.MarkSentFn = func(_ context.Context, id int64, at time.Time) error {
		o.record(result{Kind: "sent", ID: id, At: at})
		return nil
	}
	o.MarkRetryFn = func(_ context.Context, id int64, next time.Time, reason string) error {
		o.record(result{Kind: "retry", ID: id, At: next, Reason: reason})
		return nil
	}
	o.MarkFailedFn = func(_ context.Context, id int64, reason string, ev club.AuditEvent) error {
		o.record(result{Kind: "failed", ID: id, Reason: reason, Event: ev})
		return nil
	}
	return o
}

func (o *recordingOutbox) record(r result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.results = append(o.results, r)
}

func (o *recordingOutbox) Results() []result {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]result(nil), o.results...)
}

// fakeMailbox is a club.DevMailbox made of function fields.
type fakeMailbox struct {
	DeliverFn  func(ctx context.Context, m club.Mail) error
	MessagesFn func(ctx context.Context, limit int) ([]club.Mail, error)
	MessageFn  func(ctx context.Context, id int64) (club.Mail, error)
}

var _ club.DevMailbox = (*fakeMailbox)(nil)

func (f *fakeMailbox) Deliver(ctx context.Context, m club.Mail) error { return f.DeliverFn(ctx, m) }

func (f *fakeMailbox) Messages(ctx context.Context, limit int) ([]club.Mail, error) {
	return f.MessagesFn(ctx, limit)
}

func (f *fakeMailbox) Message(ctx context.Context, id int64) (club.Mail, error) {
	return f.MessageFn(ctx, id)
}
