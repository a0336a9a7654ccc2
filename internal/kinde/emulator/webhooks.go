package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// webhookTimestampLayout matches Kinde's payload timestamps, e.g.
// "2024-05-01T17:41:45.592145+10:00": microseconds and a numeric offset.
const webhookTimestampLayout = "2006-01-02T15:04:05.000000-07:00"

// webhookAttemptTimeout bounds one delivery attempt. It is not scaled.
const webhookAttemptTimeout = 10 * time.Second

// maxDeliveryLog is how many delivery attempts WebhookDeliveries remembers.
const maxDeliveryLog = 10000

// webhookRetryGiveUp is when Kinde stops retrying a failing delivery.
const webhookRetryGiveUp = 36 * time.Hour

// webhookSchedule returns the waits before each attempt, Kinde's schedule:
// immediately, then 5 s, 30 s, 2 min, 10 min, 1 h, 4 h, then every 12 h
// while the attempt falls within 36 h of the first.
func webhookSchedule() []time.Duration {
	waits := []time.Duration{0, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 4 * time.Hour}
	var total time.Duration
	for _, d := range waits {
		total += d
	}
	for total+12*time.Hour <= webhookRetryGiveUp {
		waits = append(waits, 12*time.Hour)
		total += 12 * time.Hour
	}
	return waits
}

// Delivery is one attempt to deliver an event to a webhook endpoint.
type Delivery struct {
	// WebhookID is the registered webhook's id (webhook_…).
	WebhookID string `json:"webhook_id"`
	// EventID is the event's id (event_…).
	EventID string `json:"event_id"`
	// Type is the event type, such as user.updated.
	Type string `json:"type"`
	// Endpoint is the URL the attempt went to.
	Endpoint string `json:"endpoint"`
	// MessageID is the webhook-id header: the same for every attempt of one
	// event to one webhook, so receivers can deduplicate.
	MessageID string `json:"message_id"`
	// Attempt counts from 1.
	Attempt int `json:"attempt"`
	// Status is the HTTP status the endpoint answered, or 0 when it did not.
	Status int `json:"status"`
	// Error says why the attempt failed without a response, if it did.
	Error string `json:"error,omitempty"`
	// Time is when the attempt finished, by the emulator's clock.
	Time time.Time `json:"time"`
	// Final is true on the last attempt: it succeeded, or it was the last
	// one of the schedule, or the endpoint is not allowed.
	Final bool `json:"final"`
	// HeldID is the held delivery's id when the attempt was a release of
	// one (see HoldWebhooks), else "".
	HeldID string `json:"held_id,omitempty"`
}

// Succeeded reports whether the endpoint accepted the delivery (any 2xx).
func (d Delivery) Succeeded() bool { return d.Status >= 200 && d.Status < 300 }

// webhookDispatcher delivers world events to registered webhooks as signed
// JWTs, retrying on Kinde's schedule (divided by Options.TimeScale). Each
// delivery runs in a goroutine owned by the dispatcher; close stops them.
type webhookDispatcher struct {
	e      *Emulator
	client *http.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	closed     bool
	anyHost    bool
	log        []Delivery
	listeners  map[int]func(Delivery)
	nextListen int
	holding    heldQueue
}

func newWebhookDispatcher(e *Emulator) *webhookDispatcher {
	ctx, cancel := context.WithCancel(context.Background())
	d := &webhookDispatcher{e: e, ctx: ctx, cancel: cancel, listeners: map[int]func(Delivery){}}
	d.holding.byID = map[string]*heldDelivery{}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: d.checkDial}
	d.client = &http.Client{
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
		},
		// A redirect is not a delivery; Kinde does not follow them either.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return d
}

// checkDial refuses connections to non-loopback addresses unless the
// emulator was told to allow any host, so a webhook registered through the
// Management API cannot make the emulator reach out to the network.
func (d *webhookDispatcher) checkDial(_, address string, _ syscall.RawConn) error {
	d.mu.Lock()
	anyHost := d.anyHost
	d.mu.Unlock()
	if anyHost {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("emulator: webhook dial %q: %w", address, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("emulator: webhook endpoint %s is not a loopback address", host)
	}
	return nil
}

// AllowWebhooksToAnyHost lets webhook deliveries reach non-loopback hosts.
// By default the emulator only delivers to loopback endpoints (localhost,
// 127.0.0.0/8, ::1).
func (e *Emulator) AllowWebhooksToAnyHost(allow bool) {
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	e.hooks.anyHost = allow
}

// WebhookDeliveries returns the delivery attempts so far, oldest first (the
// most recent 10,000).
func (e *Emulator) WebhookDeliveries() []Delivery {
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	return slices.Clone(e.hooks.log)
}

// OnDelivery calls fn after every delivery attempt, from the delivering
// goroutine, so tests can wait on a channel instead of sleeping. The
// returned function unregisters fn.
func (e *Emulator) OnDelivery(fn func(Delivery)) (unregister func()) {
	d := e.hooks
	d.mu.Lock()
	id := d.nextListen
	d.nextListen++
	d.listeners[id] = fn
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		delete(d.listeners, id)
		d.mu.Unlock()
	}
}

// enqueue starts delivering ev to every webhook subscribed to its type, or
// holds the deliveries when hold mode is on. It never blocks the world.
func (d *webhookDispatcher) enqueue(ev Event) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()
	var targets []Webhook
	for _, h := range d.e.World().Webhooks() {
		if slices.Contains(h.EventTypes, ev.Type) {
			targets = append(targets, h)
		}
	}
	if len(targets) == 0 {
		return
	}
	body, err := d.payload(ev)
	if err != nil {
		d.e.logger.Error("emulator: sign webhook", "event_id", ev.ID, "type", ev.Type, "err", err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	for _, h := range targets {
		if d.holding.on {
			d.holdLocked(ev, h, body)
			continue
		}
		d.wg.Add(1)
		go d.deliver(ev, h, body)
	}
}

// payload signs the event as Kinde does: an RS256 JWT with the current
// JWKS key's kid, holding data, event_id, source, timestamp and type (no
// iss, aud or exp).
func (d *webhookDispatcher) payload(ev Event) ([]byte, error) {
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	tok, err := signJWT(d.e.oidc.keys, map[string]any{
		"data":      data,
		"event_id":  ev.ID,
		"source":    ev.Source,
		"timestamp": ev.Time.Format(webhookTimestampLayout),
		"type":      ev.Type,
	})
	if err != nil {
		return nil, err
	}
	return []byte(tok), nil
}

// messageID is the webhook-id header for one event and one webhook.
func messageID(eventID, webhookID string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + webhookID))
	return "msg_" + hex.EncodeToString(sum[:16])
}

func (d *webhookDispatcher) deliver(ev Event, h Webhook, body []byte) {
	defer d.wg.Done()
	base := Delivery{
		WebhookID: h.ID,
		EventID:   ev.ID,
		Type:      ev.Type,
		Endpoint:  h.Endpoint,
		MessageID: messageID(ev.ID, h.ID),
	}
	if err := d.allowed(h.Endpoint); err != nil {
		rec := base
		rec.Attempt, rec.Error, rec.Time, rec.Final = 1, err.Error(), d.e.clock.Now(), true
		d.record(rec)
		return
	}
	d.retry(base, body, 0)
}

// retry runs Kinde's schedule from attempt index first (0 is the first
// attempt) until an attempt succeeds, the schedule ends or the dispatcher
// closes. The caller owns a d.wg slot.
func (d *webhookDispatcher) retry(base Delivery, body []byte, first int) {
	scale := d.e.opts.TimeScale
	if scale <= 0 {
		scale = 1
	}
	schedule := webhookSchedule()
	for i := first; i < len(schedule); i++ {
		if wait := schedule[i]; wait > 0 {
			t := time.NewTimer(time.Duration(float64(wait) / scale))
			select {
			case <-d.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		rec := base
		rec.Attempt = i + 1
		rec.Status, rec.Error = d.attempt(d.ctx, base.Endpoint, rec.MessageID, body)
		if d.ctx.Err() != nil {
			return
		}
		rec.Time = d.e.clock.Now()
		rec.Final = rec.Succeeded() || i == len(schedule)-1
		d.record(rec)
		if rec.Succeeded() {
			return
		}
	}
}

// allowed checks an endpoint before any attempt: http(s) only, and a
// loopback host unless any host is allowed.
func (d *webhookDispatcher) allowed(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("emulator: webhook endpoint %q is not an http(s) URL", endpoint)
	}
	d.mu.Lock()
	anyHost := d.anyHost
	d.mu.Unlock()
	if anyHost {
		return nil
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("emulator: webhook endpoint host %q is not loopback; call AllowWebhooksToAnyHost to deliver there", host)
}

// attempt POSTs the signed event once. It gives up when ctx ends, after
// webhookAttemptTimeout, or when the dispatcher closes.
func (d *webhookDispatcher) attempt(ctx context.Context, endpoint, msgID string, body []byte) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, webhookAttemptTimeout)
	defer cancel()
	defer context.AfterFunc(d.ctx, cancel)()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/jwt")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("User-Agent", "kinde-emulator")
	resp, err := d.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, "timeout"
		}
		return 0, err.Error()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, ""
}

func (d *webhookDispatcher) record(rec Delivery) {
	d.mu.Lock()
	d.log = append(d.log, rec)
	if len(d.log) > maxDeliveryLog {
		d.log = slices.Delete(d.log, 0, len(d.log)-maxDeliveryLog)
	}
	listeners := make([]func(Delivery), 0, len(d.listeners))
	for _, fn := range d.listeners {
		listeners = append(listeners, fn)
	}
	d.mu.Unlock()
	if !rec.Succeeded() {
		d.e.logger.Info("emulator: webhook delivery failed", "webhook_id", rec.WebhookID, "event_id", rec.EventID,
			"attempt", rec.Attempt, "status", rec.Status, "error", rec.Error, "final", rec.Final)
	}
	for _, fn := range listeners {
		fn(rec)
	}
}

// close stops pending deliveries and waits for their goroutines.
func (d *webhookDispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	d.client.CloseIdleConnections()
}
