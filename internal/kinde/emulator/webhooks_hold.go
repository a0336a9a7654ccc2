package emulator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Kinde delivers webhooks asynchronously, in no particular order, more than
// once (retries carry the same webhook-id) and up to 36 hours late. Hold
// mode lets a test produce exactly such a schedule: while it is on, the
// emulator sends nothing by itself and queues every delivery; the test then
// releases, duplicates or drops the queued deliveries by id, each release
// running in the caller's goroutine, so no test has to sleep.

// ErrNotHeld is returned (wrapped) for a held delivery that exists but is
// no longer queued: it was released, is being released, or was dropped.
var ErrNotHeld = errors.New("emulator: webhook delivery is not held")

// errClosed is returned by hold-mode calls after Close.
var errClosed = errors.New("emulator: closed")

// HeldDelivery is one event for one registered webhook that the emulator
// holds back instead of sending (see HoldWebhooks).
type HeldDelivery struct {
	// ID names the held delivery in ReleaseWebhook and the other calls:
	// "held_1", "held_2", … in the order the deliveries were held.
	ID string `json:"id"`
	// WebhookID is the registered webhook's id (webhook_…).
	WebhookID string `json:"webhook_id"`
	// Endpoint is the URL a release posts to.
	Endpoint string `json:"endpoint"`
	// MessageID is the webhook-id header a release sends.
	MessageID string `json:"message_id"`
	// EventID is the event's id (event_…), the payload's event_id.
	EventID string `json:"event_id"`
	// Type is the event type, such as user.updated.
	Type string `json:"type"`
	// UserID is the person the event is about (data.user.id of user.*
	// events), or "".
	UserID string `json:"user_id,omitempty"`
	// OrgCode is the organization the event is about
	// (data.organization.code of organization.* events), or "".
	OrgCode string `json:"org_code,omitempty"`
	// EventTime is when the event happened: the payload's timestamp, which
	// no release or duplicate changes.
	EventTime time.Time `json:"event_time"`
	// Attempt is the attempt number the next release will be, from 1. A
	// release the endpoint does not accept is held again as the next one.
	Attempt int `json:"attempt"`
	// HeldAt is when the delivery was (last) queued, by the emulator's clock.
	HeldAt time.Time `json:"held_at"`
	// CopyOf is the id of the held delivery this one duplicates, or "".
	CopyOf string `json:"copy_of,omitempty"`
}

// heldState is where a held delivery is in its life.
type heldState int

const (
	heldQueued heldState = iota
	heldSending
	heldDone // released for good (accepted, or out of attempts), or dropped
)

// heldDelivery is a HeldDelivery with the signed body it sends.
type heldDelivery struct {
	info  HeldDelivery
	body  []byte
	state heldState
}

// heldQueue is the dispatcher's hold-mode state, guarded by its mu.
type heldQueue struct {
	on    bool
	next  int
	queue []*heldDelivery          // queued, in release order
	byID  map[string]*heldDelivery // every delivery still remembered
	done  []string                 // ids of done deliveries, oldest first
}

// HoldWebhooks turns hold mode on or off. While it is on, every delivery
// of every event to every subscribed webhook is queued instead of sent, and
// HeldWebhooks lists it. Turning it off sends nothing: deliveries already
// held stay held until released or dropped, and later events are delivered
// as usual. Reset turns it off and forgets held deliveries.
func (e *Emulator) HoldWebhooks(on bool) {
	d := e.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	d.holding.on = on
}

// HoldingWebhooks reports whether hold mode is on.
func (e *Emulator) HoldingWebhooks() bool {
	d := e.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.holding.on
}

// HeldWebhooks returns the queued deliveries in release order: the order
// they were held in, except that a release the endpoint did not accept goes
// to the back as its next attempt.
func (e *Emulator) HeldWebhooks() []HeldDelivery {
	d := e.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]HeldDelivery, len(d.holding.queue))
	for i, h := range d.holding.queue {
		out[i] = h.info
	}
	return out
}

// ReleaseWebhook sends the held delivery id now, from the calling goroutine,
// and returns once the endpoint has answered; the Delivery carries its
// status (it is also in WebhookDeliveries and passed to OnDelivery). The
// payload is the one signed when the event happened, so its timestamp is
// the event's time however far the clock has moved since.
//
// When the endpoint answers anything but 2xx, or not at all, the delivery
// is not lost: with hold mode on it is held again, same id and webhook-id,
// as the next attempt of Kinde's schedule; with hold mode off Kinde's
// retries carry on by themselves. After the schedule's last attempt it is
// given up. The error is nil whenever the endpoint answered, whatever the
// status; it is non-nil when it did not (the Delivery then says why), for
// an unknown id (errors.Is(err, ErrNotFound)) and for a delivery that is
// not queued (errors.Is(err, ErrNotHeld)).
func (e *Emulator) ReleaseWebhook(ctx context.Context, id string) (Delivery, error) {
	return e.hooks.release(ctx, id)
}

// ReleaseWebhooks releases every delivery queued when it is called, one at
// a time in release order, each as ReleaseWebhook does, and returns their
// Deliveries in that order. It goes on past endpoints that do not answer
// and returns those errors joined; it stops when ctx ends. A release the
// endpoint did not accept is held again but not released a second time by
// the same call.
func (e *Emulator) ReleaseWebhooks(ctx context.Context) ([]Delivery, error) {
	d := e.hooks
	d.mu.Lock()
	ids := make([]string, len(d.holding.queue))
	for i, h := range d.holding.queue {
		ids[i] = h.info.ID
	}
	d.mu.Unlock()
	var out []Delivery
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("emulator: release webhooks: %w", err))
			break
		}
		rec, err := d.release(ctx, id)
		if errors.Is(err, ErrNotHeld) || errors.Is(err, ErrNotFound) {
			continue // released or dropped by someone else meanwhile
		}
		if rec.Attempt > 0 {
			out = append(out, rec)
		}
		if err != nil {
			errs = append(errs, err)
			if errors.Is(err, errClosed) {
				break
			}
		}
	}
	return out, errors.Join(errs...)
}

// DuplicateWebhook queues a copy of the held delivery id, queued or
// already released: the same signed body and the same webhook-id header, as
// Kinde's retries send, so the receiver sees the event twice. Release the
// copy like any other held delivery, before or after the original. It works
// with hold mode on or off.
func (e *Emulator) DuplicateWebhook(id string) (HeldDelivery, error) {
	return e.hooks.duplicate(id, false)
}

// DuplicateWebhookAsNew is DuplicateWebhook with a new webhook-id header:
// the same event (event_id, timestamp, data) arriving as a distinct
// delivery, which a receiver that only deduplicates on webhook-id would
// apply twice.
func (e *Emulator) DuplicateWebhookAsNew(id string) (HeldDelivery, error) {
	return e.hooks.duplicate(id, true)
}

// DropWebhook takes a delivery off the queue without sending it, as if
// Kinde had given up on it. It can still be duplicated.
func (e *Emulator) DropWebhook(id string) error {
	d := e.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	h, err := d.queuedLocked(id)
	if err != nil {
		return fmt.Errorf("emulator: drop webhook: %w", err)
	}
	d.dequeueLocked(h)
	d.doneLocked(h)
	return nil
}

// holdLocked queues ev's delivery to h. The caller holds d.mu.
func (d *webhookDispatcher) holdLocked(ev Event, h Webhook, body []byte) {
	userID, orgCode := eventSubject(ev.Data)
	d.queueLocked(&heldDelivery{
		info: HeldDelivery{
			WebhookID: h.ID,
			Endpoint:  h.Endpoint,
			MessageID: messageID(ev.ID, h.ID),
			EventID:   ev.ID,
			Type:      ev.Type,
			UserID:    userID,
			OrgCode:   orgCode,
			EventTime: ev.Time,
			Attempt:   1,
		},
		body: body,
	})
}

// queueLocked names h and puts it at the back of the queue.
func (d *webhookDispatcher) queueLocked(h *heldDelivery) {
	d.holding.next++
	h.info.ID = "held_" + strconv.Itoa(d.holding.next)
	h.info.HeldAt = d.e.clock.Now()
	h.state = heldQueued
	d.holding.queue = append(d.holding.queue, h)
	d.holding.byID[h.info.ID] = h
}

// eventSubject reads whom an event is about from its webhook data.
func eventSubject(data map[string]any) (userID, orgCode string) {
	if u, ok := data["user"].(map[string]any); ok {
		userID, _ = u["id"].(string)
	}
	if o, ok := data["organization"].(map[string]any); ok {
		orgCode, _ = o["code"].(string)
	}
	return userID, orgCode
}

// queuedLocked finds a queued delivery.
func (d *webhookDispatcher) queuedLocked(id string) (*heldDelivery, error) {
	h, ok := d.holding.byID[id]
	switch {
	case !ok:
		return nil, notFound("held webhook delivery", id)
	case h.state != heldQueued:
		return nil, fmt.Errorf("%s: %w", id, ErrNotHeld)
	}
	return h, nil
}

func (d *webhookDispatcher) dequeueLocked(h *heldDelivery) {
	if i := slices.Index(d.holding.queue, h); i >= 0 {
		d.holding.queue = slices.Delete(d.holding.queue, i, i+1)
	}
}

// doneLocked marks h done, remembering the most recent maxDeliveryLog done
// deliveries so they can still be duplicated.
func (d *webhookDispatcher) doneLocked(h *heldDelivery) {
	h.state = heldDone
	d.holding.done = append(d.holding.done, h.info.ID)
	if n := len(d.holding.done) - maxDeliveryLog; n > 0 {
		for _, old := range d.holding.done[:n] {
			delete(d.holding.byID, old)
		}
		d.holding.done = slices.Delete(d.holding.done, 0, n)
	}
}

// release sends one held delivery synchronously (see ReleaseWebhook).
func (d *webhookDispatcher) release(ctx context.Context, id string) (Delivery, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return Delivery{}, fmt.Errorf("emulator: release webhook %s: %w", id, errClosed)
	}
	h, err := d.queuedLocked(id)
	if err != nil {
		d.mu.Unlock()
		return Delivery{}, fmt.Errorf("emulator: release webhook: %w", err)
	}
	d.dequeueLocked(h)
	h.state = heldSending
	info := h.info
	d.wg.Add(1)
	d.mu.Unlock()
	defer d.wg.Done()

	rec := Delivery{
		WebhookID: info.WebhookID,
		EventID:   info.EventID,
		Type:      info.Type,
		Endpoint:  info.Endpoint,
		MessageID: info.MessageID,
		Attempt:   info.Attempt,
		HeldID:    info.ID,
	}
	last := info.Attempt >= len(webhookSchedule())
	if err := d.allowed(info.Endpoint); err != nil {
		rec.Error, rec.Time, rec.Final = err.Error(), d.e.clock.Now(), true
		d.settle(h, rec)
		return rec, fmt.Errorf("emulator: release webhook %s: %w", id, err)
	}
	rec.Status, rec.Error = d.attempt(ctx, info.Endpoint, info.MessageID, h.body)
	if d.ctx.Err() != nil {
		return rec, fmt.Errorf("emulator: release webhook %s: %w", id, errClosed)
	}
	rec.Time = d.e.clock.Now()
	rec.Final = rec.Succeeded() || last
	d.settle(h, rec)
	if rec.Status == 0 {
		return rec, fmt.Errorf("emulator: release webhook %s: no answer from %s: %s", id, info.Endpoint, rec.Error)
	}
	return rec, nil
}

// settle records a released attempt and decides what becomes of h: done
// when final, else held again as the next attempt (hold mode on) or handed
// to Kinde's retry schedule (hold mode off).
func (d *webhookDispatcher) settle(h *heldDelivery, rec Delivery) {
	d.record(rec)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.holding.byID[h.info.ID] != h {
		return // Reset forgot it while it was being sent
	}
	switch {
	case rec.Final:
		d.doneLocked(h)
	case d.holding.on:
		id := h.info.ID
		h.info.Attempt++
		h.info.HeldAt = d.e.clock.Now()
		h.state = heldQueued
		d.holding.queue = append(d.holding.queue, h)
		d.holding.byID[id] = h
	case !d.closed:
		d.doneLocked(h)
		base := rec
		base.HeldID, base.Status, base.Error, base.Final = "", 0, "", false
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.retry(base, h.body, rec.Attempt)
		}()
	}
}

// duplicate queues a copy of a held delivery (see DuplicateWebhook).
func (d *webhookDispatcher) duplicate(id string, newMessageID bool) (HeldDelivery, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return HeldDelivery{}, fmt.Errorf("emulator: duplicate webhook %s: %w", id, errClosed)
	}
	src, ok := d.holding.byID[id]
	if !ok {
		return HeldDelivery{}, fmt.Errorf("emulator: duplicate webhook: %w", notFound("held webhook delivery", id))
	}
	cp := &heldDelivery{info: src.info, body: src.body}
	cp.info.Attempt = 1
	cp.info.CopyOf = id
	if newMessageID {
		cp.info.MessageID = "msg_" + randomHex(16)
	}
	d.queueLocked(cp)
	return cp.info, nil
}

// resetHold turns hold mode off and forgets every held delivery.
func (d *webhookDispatcher) resetHold() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.holding.on = false
	d.holding.queue = nil
	d.holding.done = nil
	d.holding.byID = map[string]*heldDelivery{}
}
