package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

// fakeVerifier accepts the token "good" and refuses anything else; fail
// makes it answer err instead.
type fakeVerifier struct {
	fail error
}

func (v *fakeVerifier) Verify(_ context.Context, token []byte) (club.IdentityEvent, error) {
	if v.fail != nil {
		return club.IdentityEvent{}, v.fail
	}
	if string(token) != "good" {
		return club.IdentityEvent{}, errors.New("kinde: webhook rejected: bad signature")
	}
	return club.IdentityEvent{ID: "event_1", Type: club.EventPersonChanged, At: t0,
		Person: &club.PersonChange{Person: club.Person{ID: "kp_mia"}}}, nil
}

// fakeInbox records accepted deliveries and deduplicates by id.
type fakeInbox struct {
	mu   sync.Mutex
	seen map[string]club.IdentityEvent
	fail error
}

func (in *fakeInbox) AcceptWebhook(_ context.Context, id string, ev club.IdentityEvent) (bool, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.fail != nil {
		return false, in.fail
	}
	if _, ok := in.seen[id]; ok {
		return true, nil
	}
	in.seen[id] = ev
	return false, nil
}

func (in *fakeInbox) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.seen)
}

func webhookEnv(t *testing.T, v *fakeVerifier, in *fakeInbox) *env {
	t.Helper()
	return newEnv(t, func(d *Deps) { d.Webhooks = &WebhookReceiver{Inbox: in, Verifier: v} })
}

// postWebhook posts body as Kinde does, with extra headers as name, value
// pairs (an empty value removes the header).
func postWebhook(t *testing.T, e *env, body string, header ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "http://portal.test/webhooks/kinde", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/jwt")
	r.Header.Set("webhook-id", "msg_1")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			r.Header.Del(header[i])
			continue
		}
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w.Result()
}

func TestKindeWebhook(t *testing.T) {
	tests := []struct {
		name       string
		verifier   *fakeVerifier
		inboxFail  error
		body       string
		header     []string
		wantStatus int
		wantQueued int
	}{
		{"verified", &fakeVerifier{}, nil, "good", nil, http.StatusOK, 1},
		{"verified with a charset", &fakeVerifier{}, nil, "good", []string{"Content-Type", "application/jwt; charset=utf-8"}, http.StatusOK, 1},
		{"bad signature", &fakeVerifier{}, nil, "forged", nil, http.StatusBadRequest, 0},
		{"truncated body", &fakeVerifier{}, nil, "goo", nil, http.StatusBadRequest, 0},
		{"empty body", &fakeVerifier{}, nil, "", nil, http.StatusBadRequest, 0},
		{"not a JWT content type", &fakeVerifier{}, nil, "good", []string{"Content-Type", "application/json"}, http.StatusUnsupportedMediaType, 0},
		{"no webhook-id", &fakeVerifier{}, nil, "good", []string{"webhook-id", ""}, http.StatusBadRequest, 0},
		{"oversized webhook-id", &fakeVerifier{}, nil, "good", []string{"webhook-id", strings.Repeat("x", 201)}, http.StatusBadRequest, 0},
		{"body too large", &fakeVerifier{}, nil, strings.Repeat("a", maxWebhookBytes+1), nil, http.StatusRequestEntityTooLarge, 0},
		{"Kinde's keys unavailable", &fakeVerifier{fail: club.Unavailable(errors.New("jwks down"))}, nil, "good", nil, http.StatusServiceUnavailable, 0},
		{"queue down", &fakeVerifier{}, errors.New("database is locked"), "good", nil, http.StatusServiceUnavailable, 0},
		// Kinde posts server to server; a browser-looking cross-site
		// request is not refused by cross-origin protection here, because
		// the signature, not the origin, is what is checked.
		{"cross-site headers", &fakeVerifier{}, nil, "good", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, http.StatusOK, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &fakeInbox{seen: map[string]club.IdentityEvent{}, fail: tt.inboxFail}
			e := webhookEnv(t, tt.verifier, in)
			res := postWebhook(t, e, tt.body, tt.header...)
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if got := in.count(); got != tt.wantQueued {
				t.Errorf("queued = %d, want %d", got, tt.wantQueued)
			}
			if c := res.Header.Get("Set-Cookie"); c != "" {
				t.Errorf("webhook answer sets a cookie: %q", c)
			}
			if w := e.dir.writes.Load(); w != 0 {
				t.Errorf("directory writes = %d, want 0 (a job applies the event)", w)
			}
		})
	}
}

func TestKindeWebhookDuplicate(t *testing.T) {
	in := &fakeInbox{seen: map[string]club.IdentityEvent{}}
	e := webhookEnv(t, &fakeVerifier{}, in)
	for i, want := range []string{"queued\n", "duplicate\n", "duplicate\n"} {
		res := postWebhook(t, e, "good")
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || string(b) != want {
			t.Errorf("delivery %d: %d %q, want 200 %q", i, res.StatusCode, b, want)
		}
	}
	if got := in.count(); got != 1 {
		t.Errorf("queued = %d, want 1", got)
	}
	if ev := in.seen["msg_1"]; ev.ID != "event_1" || !ev.At.Equal(t0) {
		t.Errorf("queued event = %+v", ev)
	}
}

// TestCrossOriginExemptionIsOnlyTheWebhook checks that the bypass is for
// the webhook alone: the same cross-site request to a portal form is still
// refused.
func TestCrossOriginExemptionIsOnlyTheWebhook(t *testing.T) {
	e := webhookEnv(t, &fakeVerifier{}, &fakeInbox{seen: map[string]club.IdentityEvent{}})
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "http://portal.test/members", strings.NewReader("email=a%40example.org"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Origin", "https://evil.example")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("cross-site POST /members = %d, want 403", w.Code)
	}
}

func TestNoWebhookRouteUnconfigured(t *testing.T) {
	e := newEnv(t)
	if res := postWebhook(t, e, "good"); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST /webhooks/kinde without an inbox = %d, want 404", res.StatusCode)
	}
	for _, rt := range e.s.routes {
		if rt.Pattern == webhookPattern {
			t.Errorf("route %s present without an inbox", webhookPattern)
		}
	}
}

func TestWebhookRouteIsOpen(t *testing.T) {
	e := webhookEnv(t, &fakeVerifier{}, &fakeInbox{seen: map[string]club.IdentityEvent{}})
	found := false
	for _, rt := range e.s.routes {
		if rt.Method == http.MethodPost && rt.Pattern == webhookPattern {
			found = true
			if rt.Access != open || rt.Permission != "" {
				t.Errorf("webhook route access %v %q, want open", rt.Access, rt.Permission)
			}
		}
	}
	if !found {
		t.Error("no POST /webhooks/kinde route")
	}
}
