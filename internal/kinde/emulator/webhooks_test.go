package emulator_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// received is one webhook POST as the receiver saw it.
type received struct {
	id          string
	contentType string
	body        string
}

// waitDelivery returns the next delivery attempt, failing the test if none
// comes: deliveries are observed through OnDelivery, never by sleeping.
func waitDelivery(t *testing.T, ch <-chan emulator.Delivery) emulator.Delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-t.Context().Done():
		t.Fatal("test ended before a delivery")
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivery within 10s")
	}
	return emulator.Delivery{}
}

func TestWebhookRetriesUntilAccepted(t *testing.T) {
	h := startEmulator(t, withTimeScale(100000))
	var calls atomic.Int32
	got := make(chan received, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{id: r.Header.Get("webhook-id"), contentType: r.Header.Get("Content-Type"), body: string(body)}
		if calls.Add(1) <= 2 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(receiver.Close)

	deliveries := make(chan emulator.Delivery, 10)
	t.Cleanup(h.emu.OnDelivery(func(d emulator.Delivery) { deliveries <- d }))
	w := h.emu.World()
	hook, err := w.CreateWebhook(emulator.Webhook{Name: "portal", Endpoint: receiver.URL + "/kinde/webhooks", EventTypes: []string{"user.created"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateUser(emulator.User{Email: "ana@example.org", FirstName: "Ana", LastName: "Silva"}, "", emulator.SourceAPI); err != nil {
		t.Fatal(err)
	}

	var attempts []emulator.Delivery
	for len(attempts) == 0 || !attempts[len(attempts)-1].Final {
		attempts = append(attempts, waitDelivery(t, deliveries))
	}
	if len(attempts) != 3 {
		t.Fatalf("%d attempts, want 3 (two failures, then success)", len(attempts))
	}
	for i, d := range attempts {
		wantStatus := http.StatusServiceUnavailable
		if i == 2 {
			wantStatus = http.StatusOK
		}
		if d.Attempt != i+1 || d.Status != wantStatus || d.WebhookID != hook.ID || d.Type != "user.created" {
			t.Errorf("attempt %d = %+v", i+1, d)
		}
	}
	if all := h.emu.WebhookDeliveries(); len(all) != 3 {
		t.Errorf("WebhookDeliveries has %d entries, want 3", len(all))
	}

	var reqs []received
	for range 3 {
		reqs = append(reqs, <-got)
	}
	for _, r := range reqs {
		if r.id == "" || r.id != reqs[0].id || r.id != attempts[0].MessageID {
			t.Errorf("webhook-id %q not stable across retries (first %q)", r.id, reqs[0].id)
		}
		if r.contentType != "application/jwt" {
			t.Errorf("Content-Type = %q", r.contentType)
		}
		if r.body != reqs[0].body {
			t.Error("retries must resend the same signed body")
		}
	}

	// Verify the JWT as @kinde/webhooks does: against /.well-known/jwks.json.
	keys := oidc.NewRemoteKeySet(t.Context(), h.issuer()+"/.well-known/jwks.json")
	payload, err := keys.VerifySignature(t.Context(), reqs[0].body)
	if err != nil {
		t.Fatalf("verify webhook JWT: %v", err)
	}
	hdr := headerOf(t, reqs[0].body)
	if hdr["alg"] != "RS256" || hdr["kid"] == nil {
		t.Errorf("header = %v", hdr)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(claims)); !slices.Equal(keys, []string{"data", "event_id", "source", "timestamp", "type"}) {
		t.Errorf("payload keys = %v", keys)
	}
	if claims["type"] != "user.created" || claims["source"] != "api" || claims["event_id"] != attempts[0].EventID {
		t.Errorf("payload = %v", claims)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000-07:00", claims["timestamp"].(string)); err != nil {
		t.Errorf("timestamp %v: %v", claims["timestamp"], err)
	}
	user, _ := claims["data"].(map[string]any)["user"].(map[string]any)
	if user["email"] != "ana@example.org" {
		t.Errorf("data.user = %v", user)
	}
}

func TestWebhookRefusesNonLoopbackEndpoints(t *testing.T) {
	h := startEmulator(t)
	deliveries := make(chan emulator.Delivery, 4)
	t.Cleanup(h.emu.OnDelivery(func(d emulator.Delivery) { deliveries <- d }))
	w := h.emu.World()
	if _, err := w.CreateWebhook(emulator.Webhook{Name: "remote", Endpoint: "https://hooks.example.com/kinde", EventTypes: []string{"user.created"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateUser(emulator.User{Email: "ana@example.org", FirstName: "Ana", LastName: "Silva"}, "", emulator.SourceAPI); err != nil {
		t.Fatal(err)
	}
	d := waitDelivery(t, deliveries)
	if d.Status != 0 || d.Error == "" || !d.Final {
		t.Errorf("delivery = %+v, want a final refusal without a request", d)
	}
}

func TestCloseStopsPendingRetries(t *testing.T) {
	h := startEmulator(t) // TimeScale 1: the second attempt would wait 5 s
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(receiver.Close)
	deliveries := make(chan emulator.Delivery, 4)
	t.Cleanup(h.emu.OnDelivery(func(d emulator.Delivery) { deliveries <- d }))
	w := h.emu.World()
	if _, err := w.CreateWebhook(emulator.Webhook{Name: "failing", Endpoint: receiver.URL, EventTypes: []string{"user.created"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateUser(emulator.User{Email: "ana@example.org", FirstName: "Ana", LastName: "Silva"}, "", emulator.SourceAPI); err != nil {
		t.Fatal(err)
	}
	if d := waitDelivery(t, deliveries); d.Attempt != 1 || d.Final {
		t.Fatalf("first attempt = %+v", d)
	}
	start := time.Now()
	if err := h.emu.Close(); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("Close waited %v for a pending retry", waited)
	}
}
