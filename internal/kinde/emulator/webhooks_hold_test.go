package emulator_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// hookReceiver is a webhook endpoint that records every POST and answers
// with the next of its statuses (200 once they run out). A release returns
// only after the endpoint answered, so reading what it got needs no wait.
type hookReceiver struct {
	url      string
	mu       sync.Mutex
	got      []received
	statuses []int
}

func newHookReceiver(t *testing.T, statuses ...int) *hookReceiver {
	t.Helper()
	r := &hookReceiver{statuses: statuses}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{id: req.Header.Get("webhook-id"), contentType: req.Header.Get("Content-Type"), body: string(body)})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/kinde/webhooks"
	return r
}

func (r *hookReceiver) posts() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// holdAll turns hold mode on and registers rcv for the event types the
// portal listens to.
func holdAll(t *testing.T, e *emulator.Emulator, rcv *hookReceiver) emulator.Webhook {
	t.Helper()
	e.HoldWebhooks(true)
	hook, err := e.World().CreateWebhook(emulator.Webhook{
		Name:       "portal",
		Endpoint:   rcv.url,
		EventTypes: []string{"user.created", "user.updated", "user.deleted", "organization.created"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return hook
}

func createPerson(t *testing.T, w *emulator.World, email string) emulator.User {
	t.Helper()
	u, err := w.CreateUser(emulator.User{Email: email, FirstName: "Ana", LastName: "Silva"}, "", emulator.SourceAPI)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestWebhookHoldAndReleaseInReverseOrder(t *testing.T) {
	h := startEmulator(t)
	e, w := h.emu, h.emu.World()
	rcv := newHookReceiver(t)
	hook := holdAll(t, e, rcv)

	ana := createPerson(t, w, "ana@example.org")
	lake, err := w.CreateOrg("Lakeside Club", emulator.SourceAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddMember(lake.Code, ana.ID, []string{"member"}, emulator.SourceAdmin); err != nil {
		t.Fatal(err)
	}

	held := e.HeldWebhooks()
	type subject struct{ typ, user, org string }
	var got []subject
	for _, d := range held {
		got = append(got, subject{d.Type, d.UserID, d.OrgCode})
		if d.WebhookID != hook.ID || d.Attempt != 1 || !d.EventTime.Equal(h.clock.Now()) || d.MessageID == "" || d.CopyOf != "" {
			t.Errorf("held delivery %+v", d)
		}
	}
	want := []subject{{"user.created", ana.ID, ""}, {"organization.created", "", lake.Code}, {"user.updated", ana.ID, ""}}
	if !slices.Equal(got, want) {
		t.Fatalf("held = %v, want %v", got, want)
	}
	if n, m := len(rcv.posts()), len(e.WebhookDeliveries()); n != 0 || m != 0 {
		t.Fatalf("hold mode sent %d requests and logged %d deliveries", n, m)
	}

	for i := len(held) - 1; i >= 0; i-- {
		d, err := e.ReleaseWebhook(t.Context(), held[i].ID)
		if err != nil {
			t.Fatalf("release %s: %v", held[i].ID, err)
		}
		if d.Status != http.StatusOK || !d.Final || d.Attempt != 1 || d.HeldID != held[i].ID || d.MessageID != held[i].MessageID || d.EventID != held[i].EventID {
			t.Errorf("release %s = %+v", held[i].ID, d)
		}
		// The release returned after the endpoint answered: it has the
		// post already.
		if n := len(rcv.posts()); n != len(held)-i {
			t.Fatalf("after releasing %s the endpoint has %d posts, want %d", held[i].ID, n, len(held)-i)
		}
	}
	posts := rcv.posts()
	for i, p := range posts {
		src := held[len(held)-1-i]
		claims := claimsOf(t, p.body)
		if p.id != src.MessageID || claims["event_id"] != src.EventID || claims["type"] != src.Type || p.contentType != "application/jwt" {
			t.Errorf("post %d: webhook-id %q, claims %v; want %s of %s", i, p.id, claims, src.Type, src.ID)
		}
	}
	if rest := e.HeldWebhooks(); len(rest) != 0 {
		t.Errorf("still held: %+v", rest)
	}
	if _, err := e.ReleaseWebhook(t.Context(), held[0].ID); !errors.Is(err, emulator.ErrNotHeld) {
		t.Errorf("second release: %v, want ErrNotHeld", err)
	}
	if _, err := e.ReleaseWebhook(t.Context(), "held_999"); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("unknown release: %v, want ErrNotFound", err)
	}

	// Off again: new events go out by themselves, as before.
	deliveries := make(chan emulator.Delivery, 4)
	t.Cleanup(e.OnDelivery(func(d emulator.Delivery) { deliveries <- d }))
	e.HoldWebhooks(false)
	bo := createPerson(t, w, "bo@example.org")
	if d := waitDelivery(t, deliveries); d.Type != "user.created" || d.HeldID != "" || !d.Succeeded() {
		t.Errorf("delivery after hold = %+v (bo %s)", d, bo.ID)
	}
}

func TestWebhookReleaseAllInOrder(t *testing.T) {
	h := startEmulator(t)
	rcv := newHookReceiver(t)
	holdAll(t, h.emu, rcv)
	var emails []string
	for i := range 3 {
		emails = append(emails, fmt.Sprintf("p%d@example.org", i))
		createPerson(t, h.emu.World(), emails[i])
	}
	held := h.emu.HeldWebhooks()
	ds, err := h.emu.ReleaseWebhooks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 {
		t.Fatalf("%d deliveries, want 3", len(ds))
	}
	for i, p := range rcv.posts() {
		user, _ := claimsOf(t, p.body)["data"].(map[string]any)["user"].(map[string]any)
		if user["email"] != emails[i] || ds[i].HeldID != held[i].ID || ds[i].Status != http.StatusOK {
			t.Errorf("post %d: %v, delivery %+v; want %s", i, user["email"], ds[i], emails[i])
		}
	}
}

func TestWebhookDuplicateKeepsWebhookID(t *testing.T) {
	h := startEmulator(t)
	e := h.emu
	rcv := newHookReceiver(t)
	holdAll(t, e, rcv)
	createPerson(t, e.World(), "ana@example.org")
	orig := e.HeldWebhooks()[0]

	dup, err := e.DuplicateWebhook(orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if dup.ID == orig.ID || dup.CopyOf != orig.ID || dup.MessageID != orig.MessageID || dup.EventID != orig.EventID || !dup.EventTime.Equal(orig.EventTime) {
		t.Fatalf("duplicate %+v of %+v", dup, orig)
	}
	// The copy first, then the original: the receiver sees the same
	// delivery twice, as on a Kinde retry.
	for _, id := range []string{dup.ID, orig.ID} {
		if d, err := e.ReleaseWebhook(t.Context(), id); err != nil || d.Status != http.StatusOK {
			t.Fatalf("release %s: %+v, %v", id, d, err)
		}
	}
	// A released delivery can be duplicated too: a replay long after.
	again, err := e.DuplicateWebhook(orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ReleaseWebhook(t.Context(), again.ID); err != nil {
		t.Fatal(err)
	}
	// As a distinct delivery: same event, new webhook-id.
	distinct, err := e.DuplicateWebhookAsNew(orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if distinct.MessageID == orig.MessageID || distinct.EventID != orig.EventID {
		t.Fatalf("distinct duplicate %+v of %+v", distinct, orig)
	}
	if _, err := e.ReleaseWebhook(t.Context(), distinct.ID); err != nil {
		t.Fatal(err)
	}

	posts := rcv.posts()
	if len(posts) != 4 {
		t.Fatalf("%d posts, want 4", len(posts))
	}
	for i, p := range posts {
		wantID := orig.MessageID
		if i == 3 {
			wantID = distinct.MessageID
		}
		if p.id != wantID || p.body != posts[0].body {
			t.Errorf("post %d: webhook-id %q (want %q), same body %v", i, p.id, wantID, p.body == posts[0].body)
		}
	}
}

func TestWebhookLateDeliveryKeepsEventTimestamp(t *testing.T) {
	h := startEmulator(t)
	e := h.emu
	rcv := newHookReceiver(t)
	holdAll(t, e, rcv)
	eventTime := h.clock.Now()
	createPerson(t, e.World(), "ana@example.org")
	held := e.HeldWebhooks()[0]

	h.clock.Advance(30 * time.Hour)
	if n := len(rcv.posts()); n != 0 {
		t.Fatalf("%d posts before the release", n)
	}
	d, err := e.ReleaseWebhook(t.Context(), held.ID)
	if err != nil || d.Status != http.StatusOK {
		t.Fatalf("release: %+v, %v", d, err)
	}
	if want := eventTime.Add(30 * time.Hour); !d.Time.Equal(want) {
		t.Errorf("delivered at %v, want %v", d.Time, want)
	}
	if !held.EventTime.Equal(eventTime) {
		t.Errorf("held event time %v, want %v", held.EventTime, eventTime)
	}
	body := rcv.posts()[0].body
	keys := oidc.NewRemoteKeySet(t.Context(), h.issuer()+"/.well-known/jwks.json")
	if _, err := keys.VerifySignature(t.Context(), body); err != nil {
		t.Fatalf("a late delivery must still verify: %v", err)
	}
	stamp, err := time.Parse("2006-01-02T15:04:05.000000-07:00", claimsOf(t, body)["timestamp"].(string))
	if err != nil || !stamp.Equal(eventTime) {
		t.Errorf("timestamp %v (%v), want the event time %v", stamp, err, eventTime)
	}
}

func TestWebhookFailedReleaseIsHeldAgain(t *testing.T) {
	h := startEmulator(t)
	e := h.emu
	rcv := newHookReceiver(t, http.StatusServiceUnavailable)
	holdAll(t, e, rcv)
	createPerson(t, e.World(), "ana@example.org")
	held := e.HeldWebhooks()[0]

	d, err := e.ReleaseWebhook(t.Context(), held.ID)
	if err != nil || d.Status != http.StatusServiceUnavailable || d.Final || d.Attempt != 1 {
		t.Fatalf("first release: %+v, %v", d, err)
	}
	again := e.HeldWebhooks()
	if len(again) != 1 || again[0].ID != held.ID || again[0].Attempt != 2 || again[0].MessageID != held.MessageID {
		t.Fatalf("after a 503: held %+v", again)
	}
	d, err = e.ReleaseWebhook(t.Context(), held.ID)
	if err != nil || d.Status != http.StatusOK || !d.Final || d.Attempt != 2 {
		t.Fatalf("retry: %+v, %v", d, err)
	}
	if posts := rcv.posts(); len(posts) != 2 || posts[0].id != posts[1].id {
		t.Errorf("posts %+v: want two with one webhook-id", posts)
	}

	// An endpoint that does not answer: an error, and still held.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	hook, err := e.World().CreateWebhook(emulator.Webhook{Name: "gone", Endpoint: gone.URL, EventTypes: []string{"organization.deleted"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.World().DeleteOrganization(emulator.SeedRiversideOrgCode, emulator.SourceAdmin); err != nil {
		t.Fatal(err)
	}
	lost := e.HeldWebhooks()[0]
	if lost.WebhookID != hook.ID || lost.OrgCode != emulator.SeedRiversideOrgCode {
		t.Fatalf("held %+v", lost)
	}
	d, err = e.ReleaseWebhook(t.Context(), lost.ID)
	if err == nil || d.Status != 0 || d.Error == "" {
		t.Fatalf("release to a closed endpoint: %+v, %v", d, err)
	}
	if held := e.HeldWebhooks(); len(held) != 1 || held[0].Attempt != 2 {
		t.Errorf("after no answer: held %+v", held)
	}
	if err := e.DropWebhook(lost.ID); err != nil {
		t.Fatal(err)
	}
	if held := e.HeldWebhooks(); len(held) != 0 {
		t.Errorf("after drop: held %+v", held)
	}
}

func TestWebhookControlPlane(t *testing.T) {
	clock := emulator.NewFakeClock(time.Now().Truncate(time.Second))
	e := emulatortest.Start(t, emulatortest.WithClock(clock))
	ctx := t.Context()
	rcv := newHookReceiver(t)
	if _, err := e.World().CreateWebhook(emulator.Webhook{Name: "portal", Endpoint: rcv.url, EventTypes: []string{"user.created"}}); err != nil {
		t.Fatal(err)
	}
	if r := mgmtCall(ctx, t, e, "", "PUT", "/_emulator/webhooks/hold", `{"hold":true}`); r.status != 200 || r.json(t)["hold"] != true {
		t.Fatalf("hold: %d %s", r.status, r.raw)
	}
	ana := createPerson(t, e.World(), "ana@example.org")

	r := mgmtCall(ctx, t, e, "", "GET", "/_emulator/webhooks/held", "")
	heldList, _ := r.json(t)["held"].([]any)
	if r.status != 200 || len(heldList) != 1 {
		t.Fatalf("held: %d %s", r.status, r.raw)
	}
	orig := heldList[0].(map[string]any)
	if orig["type"] != "user.created" || orig["user_id"] != ana.ID || orig["event_time"] == nil {
		t.Errorf("held item %v", orig)
	}
	id := orig["id"].(string)

	r = mgmtCall(ctx, t, e, "", "POST", "/_emulator/webhooks/held/"+id+"/duplicate", "")
	dup := r.json(t)
	if r.status != 201 || dup["message_id"] != orig["message_id"] || dup["copy_of"] != id {
		t.Fatalf("duplicate: %d %s", r.status, r.raw)
	}
	r = mgmtCall(ctx, t, e, "", "POST", "/_emulator/webhooks/held/"+dup["id"].(string)+"/release", "")
	if d, _ := r.json(t)["delivery"].(map[string]any); r.status != 200 || d["status"] != float64(200) || d["message_id"] != orig["message_id"] {
		t.Fatalf("release copy: %d %s", r.status, r.raw)
	}

	if r := mgmtCall(ctx, t, e, "", "POST", "/_emulator/clock", `{"advance":"30h"}`); r.status != 200 {
		t.Fatalf("clock: %d %s", r.status, r.raw)
	}
	r = mgmtCall(ctx, t, e, "", "POST", "/_emulator/webhooks/held/release", "")
	ds, _ := r.json(t)["deliveries"].([]any)
	if r.status != 200 || len(ds) != 1 || ds[0].(map[string]any)["held_id"] != id {
		t.Fatalf("release all: %d %s", r.status, r.raw)
	}
	if posts := rcv.posts(); len(posts) != 2 || posts[0].id != posts[1].id {
		t.Errorf("posts %+v", posts)
	}

	bad := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/_emulator/webhooks/held/" + id + "/release", "", 409},
		{"POST", "/_emulator/webhooks/held/held_999/release", "", 404},
		{"DELETE", "/_emulator/webhooks/held/held_999", "", 404},
		{"POST", "/_emulator/webhooks/held/" + id + "/duplicate?as=old", "", 400},
		{"PUT", "/_emulator/webhooks/hold", `{"hold":"yes"}`, 400},
		{"PUT", "/_emulator/webhooks/hold", `{}`, 400},
	}
	for _, tc := range bad {
		if r := mgmtCall(ctx, t, e, "", tc.method, tc.path, tc.body); r.status != tc.status {
			t.Errorf("%s %s %s: %d %s, want %d", tc.method, tc.path, tc.body, r.status, r.raw, tc.status)
		}
	}
	r = mgmtCall(ctx, t, e, "", "GET", "/_emulator/webhooks/deliveries", "")
	if r.status != 200 || r.json(t)["count"] != float64(2) {
		t.Errorf("deliveries: %d %s", r.status, r.raw)
	}

	// Reset turns hold mode off.
	if r := mgmtCall(ctx, t, e, "", "POST", "/_emulator/reset", ""); r.status != 200 {
		t.Fatal(r.status)
	}
	r = mgmtCall(ctx, t, e, "", "GET", "/_emulator/webhooks/hold", "")
	if m := r.json(t); m["hold"] != false || len(m["held"].([]any)) != 0 {
		t.Errorf("after reset: %s", r.raw)
	}
}

func TestWebhookFailedReleaseAfterHoldRetriesByItself(t *testing.T) {
	h := startEmulator(t, withTimeScale(100000))
	e := h.emu
	rcv := newHookReceiver(t, http.StatusInternalServerError)
	holdAll(t, e, rcv)
	createPerson(t, e.World(), "ana@example.org")
	held := e.HeldWebhooks()[0]
	e.HoldWebhooks(false)

	deliveries := make(chan emulator.Delivery, 4)
	t.Cleanup(e.OnDelivery(func(d emulator.Delivery) { deliveries <- d }))
	d, err := e.ReleaseWebhook(t.Context(), held.ID)
	if err != nil || d.Status != http.StatusInternalServerError || d.Final {
		t.Fatalf("release: %+v, %v", d, err)
	}
	if first := waitDelivery(t, deliveries); first.HeldID != held.ID || first.Attempt != 1 {
		t.Fatalf("first recorded attempt %+v", first)
	}
	retry := waitDelivery(t, deliveries)
	if retry.Attempt != 2 || !retry.Succeeded() || !retry.Final || retry.MessageID != held.MessageID || retry.HeldID != "" {
		t.Errorf("Kinde's own retry = %+v", retry)
	}
	if rest := e.HeldWebhooks(); len(rest) != 0 {
		t.Errorf("held with hold mode off: %+v", rest)
	}
}
