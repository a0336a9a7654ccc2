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
	OutboxItemFn func(ctx context.Context, id int64) (club.OutboxItem, error)
	MarkSentFn   func(ctx context.Context, id int64, attempt int, at time.Time) (bool, error)
	MarkRetryFn  func(ctx context.Context, id int64, attempt int, next time.Time, reason string) (bool, error)
	MarkFailedFn func(ctx context.Context, id int64, attempt int, reason string, ev club.AuditEvent) (bool, error)
}

var _ club.Outbox = (*fakeOutbox)(nil)

func (f *fakeOutbox) OutboxItem(ctx context.Context, id int64) (club.OutboxItem, error) {
	return f.OutboxItemFn(ctx, id)
}

func (f *fakeOutbox) MarkSent(ctx context.Context, id int64, attempt int, at time.Time) (bool, error) {
	return f.MarkSentFn(ctx, id, attempt, at)
}

func (f *fakeOutbox) MarkRetry(ctx context.Context, id int64, attempt int, next time.Time, reason string) (bool, error) {
	return f.MarkRetryFn(ctx, id, attempt, next, reason)
}

func (f *fakeOutbox) MarkFailed(ctx context.Context, id int64, attempt int, reason string, ev club.AuditEvent) (bool, error) {
	return f.MarkFailedFn(ctx, id, attempt, reason, ev)
}

// senderFunc is a mail.Sender made of one function.
type senderFunc func(ctx context.Context, m mail.Message) error

func (f senderFunc) Send(ctx context.Context, m mail.Message) error { return f(ctx, m) }

// result is one outcome the worker recorded in the outbox.
type result struct {
	Kind    string // "sent", "retry" or "failed"
	ID      int64
	Attempt int
	At      time.Time // sent at, or next attempt
	Reason  string
	Event   club.AuditEvent
}

// memOutbox keeps items in memory and fences marks as the store does: a
// mark changes an item only while it is queued and no attempt numbered
// the same or later has recorded an outcome. It records every mark that
// changed an item.
type memOutbox struct {
	fakeOutbox
	mu      sync.Mutex
	items   map[int64]club.OutboxItem
	results []result
}

func newMemOutbox(items ...club.OutboxItem) *memOutbox {
	o := &memOutbox{items: map[int64]club.OutboxItem{}}
	for _, it := range items {
		o.items[it.ID] = it
	}
	o.OutboxItemFn = func(_ context.Context, id int64) (club.OutboxItem, error) {
		o.mu.Lock()
		defer o.mu.Unlock()
		it, ok := o.items[id]
		if !ok {
			return club.OutboxItem{}, club.ErrNotFound
		}
		return it, nil
	}
	o.MarkSentFn = func(_ context.Context, id int64, attempt int, at time.Time) (bool, error) {
		return o.mark(result{Kind: "sent", ID: id, Attempt: attempt, At: at})
	}
	o.MarkRetryFn = func(_ context.Context, id int64, attempt int, next time.Time, reason string) (bool, error) {
		return o.mark(result{Kind: "retry", ID: id, Attempt: attempt, At: next, Reason: reason})
	}
	o.MarkFailedFn = func(_ context.Context, id int64, attempt int, reason string, ev club.AuditEvent) (bool, error) {
		return o.mark(result{Kind: "failed", ID: id, Attempt: attempt, Reason: reason, Event: ev})
	}
	return o
}

func (o *memOutbox) mark(r result) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	it, ok := o.items[r.ID]
	if !ok {
		return false, club.ErrNotFound
	}
	if it.Status != club.InvitationQueued || it.Attempts >= r.Attempt {
		return false, nil
	}
	it.Attempts, it.LastError = r.Attempt, r.Reason
	switch r.Kind {
	case "sent":
		it.Status, it.SentAt = club.InvitationSent, r.At
	case "retry":
		it.NextAttemptAt = r.At
	case "failed":
		it.Status = club.InvitationFailed
	}
	o.items[r.ID] = it
	o.results = append(o.results, r)
	return true, nil
}

func (o *memOutbox) Results() []result {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]result(nil), o.results...)
}

func (o *memOutbox) Item(id int64) club.OutboxItem {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.items[id]
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
