package kinde

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// jwksServer serves a key set that tests can change, and counts fetches.
type jwksServer struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	status  int
	fetches atomic.Int32
	url     string
}

func newJWKSServer(t *testing.T) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks" {
			http.NotFound(w, r)
			return
		}
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.status != http.StatusOK {
			w.WriteHeader(s.status)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: s.keys})
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *jwksServer) set(keys ...*testKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = nil
	for _, k := range keys {
		s.keys = append(s.keys, jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: "RS256", Use: "sig"})
	}
}

type testKey struct {
	kid  string
	priv *rsa.PrivateKey
}

func newTestKey(t *testing.T, kid string) *testKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{kid: kid, priv: priv}
}

// sign returns payload as a compact JWS signed by k with alg.
func (k *testKey) sign(t *testing.T, payload any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// samplePayload is shaped like Kinde's real user.updated sample.
func samplePayload(typ string) map[string]any {
	return map[string]any{
		"data": map[string]any{
			"user": map[string]any{
				"email": "Daniel@Kinde.com", "first_name": "Daniel", "last_name": "Rivers",
				"id": "kp_65b28d71bba14fa380d56d2d8d3503da", "is_suspended": false, "phone": nil, "username": "daniel",
				"organizations": []any{
					map[string]any{"code": "org_590d7f1a86a", "permissions": nil, "roles": nil},
					map[string]any{"code": "org_0000000000b", "permissions": nil,
						"roles": []any{map[string]any{"id": "0190-a", "key": "admin"}, map[string]any{"id": "0190-b", "key": "coach"}}},
				},
			},
			"organization": map[string]any{"code": "org_590d7f1a86a", "name": "Riverside"},
		},
		"event_id":  "event_018f331a3178f7fef284b95fe6770384",
		"source":    "admin",
		"timestamp": "2024-05-01T17:41:45.592145+10:00",
		"type":      typ,
	}
}

func TestWebhookVerifier(t *testing.T) {
	t.Parallel()
	good := newTestKey(t, "4c:fa:9e:d6:47:23:b7:39:c7:8f:97:28:45:a1:84:35")
	forger := newTestKey(t, good.kid) // same kid, another key: a forgery
	other := newTestKey(t, "other")
	jwks := newJWKSServer(t)
	jwks.set(good)
	v := NewWebhookVerifier(jwks.url, nil)

	at := time.Date(2024, 5, 1, 7, 41, 45, 592145000, time.UTC)
	hs := func() string {
		// An HS256 token "signed" with the public modulus, the classic
		// algorithm confusion attack.
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: good.priv.PublicKey.N.Bytes()},
			(&jose.SignerOptions{}).WithHeader("kid", good.kid))
		b, _ := json.Marshal(samplePayload(EventUserUpdated))
		jws, _ := signer.Sign(b)
		s, _ := jws.CompactSerialize()
		return s
	}()
	valid := good.sign(t, samplePayload(EventUserUpdated))
	parts := strings.Split(valid, ".")
	tampered := func() string {
		p := samplePayload(EventUserUpdated)
		p["data"].(map[string]any)["user"].(map[string]any)["id"] = "kp_00000000000000000000000000000001"
		b, _ := json.Marshal(p)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
	}()
	payloadWith := func(edit func(p map[string]any)) string {
		p := samplePayload(EventUserUpdated)
		edit(p)
		return good.sign(t, p)
	}

	tests := []struct {
		name     string
		token    string
		rejected bool
		check    func(t *testing.T, ev club.IdentityEvent)
	}{
		{"user.updated", valid, false, func(t *testing.T, ev club.IdentityEvent) {
			if ev.Type != club.EventPersonChanged || ev.ID != "event_018f331a3178f7fef284b95fe6770384" || !ev.At.Equal(at) {
				t.Errorf("event = %+v", ev)
			}
			p := ev.Person
			if p == nil || p.Person.ID != "kp_65b28d71bba14fa380d56d2d8d3503da" || p.Person.Email != "daniel@kinde.com" || p.Person.FirstName != "Daniel" || p.Deleted {
				t.Fatalf("person = %+v", p)
			}
			want := []club.ClubRoles{{Code: "org_590d7f1a86a", Roles: []string{}}, {Code: "org_0000000000b", Roles: []string{"admin", "coach"}}}
			if len(p.Clubs) != 2 || p.Clubs[0].Code != want[0].Code || len(p.Clubs[0].Roles) != 0 || !slices.Equal(p.Clubs[1].Roles, want[1].Roles) {
				t.Errorf("clubs = %+v, want %+v", p.Clubs, want)
			}
		}},
		{"user.deleted", good.sign(t, samplePayload(EventUserDeleted)), false, func(t *testing.T, ev club.IdentityEvent) {
			if ev.Type != club.EventPersonDeleted || ev.Person == nil || !ev.Person.Deleted || len(ev.Person.Clubs) != 0 {
				t.Errorf("event = %+v, person = %+v", ev, ev.Person)
			}
		}},
		{"organization.updated", good.sign(t, samplePayload(EventOrganizationUpdated)), false, func(t *testing.T, ev club.IdentityEvent) {
			if ev.Type != club.EventClubChanged || ev.Club == nil || ev.Club.Club.Code != "org_590d7f1a86a" || ev.Club.Club.Name != "Riverside" || ev.Person != nil {
				t.Errorf("event = %+v, club = %+v", ev, ev.Club)
			}
		}},
		{"organization.deleted", good.sign(t, samplePayload(EventOrganizationDeleted)), false, func(t *testing.T, ev club.IdentityEvent) {
			if ev.Type != club.EventClubDeleted || ev.Club == nil || !ev.Club.Deleted || ev.Club.Club.Code != "org_590d7f1a86a" {
				t.Errorf("event = %+v, club = %+v", ev, ev.Club)
			}
		}},
		{"signed by another key under the same kid", forger.sign(t, samplePayload(EventUserUpdated)), true, nil},
		{"signed by a key Kinde does not publish", other.sign(t, samplePayload(EventUserUpdated)), true, nil},
		{"payload changed after signing", tampered, true, nil},
		{"HS256 with the public key", hs, true, nil},
		{"alg none", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+good.kid+`"}`)) + "." + parts[1] + ".", true, nil},
		{"truncated", valid[:len(valid)-20], true, nil},
		{"only the header", parts[0], true, nil},
		{"header and payload", parts[0] + "." + parts[1], true, nil},
		{"four parts", valid + "." + parts[2], true, nil},
		{"JSON serialization, two signatures", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] +
			`"},{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, true, nil},
		{"empty", "", true, nil},
		{"unknown event type", good.sign(t, samplePayload("user.authenticated")), true, nil},
		{"no type", payloadWith(func(p map[string]any) { delete(p, "type") }), true, nil},
		{"no timestamp", payloadWith(func(p map[string]any) { delete(p, "timestamp") }), true, nil},
		{"no user id", payloadWith(func(p map[string]any) { delete(p["data"].(map[string]any)["user"].(map[string]any), "id") }), true, nil},
		{"too large", strings.Repeat("a", MaxWebhookBytes+1), true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := v.Verify(t.Context(), []byte(tt.token))
			if tt.rejected {
				if !errors.Is(err, ErrWebhookRejected) {
					t.Fatalf("Verify = %+v, %v; want ErrWebhookRejected", ev, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			tt.check(t, ev)
		})
	}
}

func TestWebhookVerifierKeyRotation(t *testing.T) {
	t.Parallel()
	old, rotated := newTestKey(t, "k1"), newTestKey(t, "k2")
	jwks := newJWKSServer(t)
	jwks.set(old)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	v := NewWebhookVerifier(jwks.url, nil)
	v.now = func() time.Time { return now }
	ctx := t.Context()
	verify := func(k *testKey) error {
		_, err := v.Verify(ctx, []byte(k.sign(t, samplePayload(EventUserUpdated))))
		return err
	}

	if err := verify(old); err != nil {
		t.Fatalf("old key: %v", err)
	}
	if err := verify(old); err != nil {
		t.Fatalf("old key again: %v", err)
	}
	if got := jwks.fetches.Load(); got != 1 {
		t.Errorf("fetches after two tokens = %d, want 1 (cached)", got)
	}

	// Kinde rotates: the new kid is unknown, so the set is fetched again.
	jwks.set(old, rotated)
	now = now.Add(time.Minute)
	if err := verify(rotated); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if got := jwks.fetches.Load(); got != 2 {
		t.Errorf("fetches after rotation = %d, want 2", got)
	}

	// A flood of tokens with unknown kids fetches at most once per window.
	stranger := newTestKey(t, "k-unknown")
	now = now.Add(time.Minute)
	for range 20 {
		if err := verify(stranger); !errors.Is(err, ErrWebhookRejected) {
			t.Fatalf("unknown kid: %v, want rejected", err)
		}
	}
	if got := jwks.fetches.Load(); got != 3 {
		t.Errorf("fetches after 20 unknown kids = %d, want 3", got)
	}

	// Kinde's key set cannot be read: not a rejection (Kinde retries).
	jwks.mu.Lock()
	jwks.status = http.StatusBadGateway
	jwks.mu.Unlock()
	now = now.Add(time.Minute)
	err := verify(newTestKey(t, "k3"))
	if err == nil || errors.Is(err, ErrWebhookRejected) || club.ErrorCode(err) != club.EUNAVAILABLE {
		t.Errorf("JWKS down: err = %v, want an EUNAVAILABLE error that is not a rejection", err)
	}
	// Cached keys still verify.
	if err := verify(rotated); err != nil {
		t.Errorf("cached key while JWKS is down: %v", err)
	}
}

// TestWebhookVerifierEmulator verifies real deliveries of the emulator,
// which signs webhooks as Kinde does, across a key rotation; a second
// emulator stands in for another Kinde business (the wrong issuer).
func TestWebhookVerifierEmulator(t *testing.T) {
	t.Parallel()
	e := emulatortest.Start(t)
	stranger := emulatortest.Start(t)
	bodies := make(chan []byte, 16)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/jwt" || r.Header.Get("webhook-id") == "" {
			t.Errorf("delivery headers: %v", r.Header)
		}
		bodies <- b
	}))
	t.Cleanup(sink.Close)
	for _, em := range []*emulator.Emulator{e, stranger} {
		if _, err := em.World().CreateWebhook(emulator.Webhook{Name: "portal", Endpoint: sink.URL, EventTypes: WebhookEventTypes()}); err != nil {
			t.Fatal(err)
		}
	}
	v := NewWebhookVerifier(e.Issuer(), nil)
	v.every = 0 // the refresh window has its own test
	ctx := t.Context()
	riverside := emulator.SeedRiversideOrgCode

	u, err := e.World().CreateUser(emulator.User{Email: "wh@example.org", FirstName: "Web", LastName: "Hook"}, riverside, "api")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := v.Verify(ctx, <-bodies)
	if err != nil {
		t.Fatalf("user.created from the emulator: %v", err)
	}
	if ev.Type != club.EventPersonChanged || ev.Person.Person.ID != u.ID || len(ev.Person.Clubs) != 1 || ev.Person.Clubs[0].Code != riverside {
		t.Errorf("event = %+v / %+v", ev, ev.Person)
	}

	if err := e.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	if err := e.World().AddMember(emulator.SeedHilltopOrgCode, u.ID, []string{"coach"}, "api"); err != nil {
		t.Fatal(err)
	}
	ev, err = v.Verify(ctx, <-bodies)
	if err != nil {
		t.Fatalf("user.updated after a key rotation: %v", err)
	}
	var hilltop []string
	for _, c := range ev.Person.Clubs {
		if c.Code == emulator.SeedHilltopOrgCode {
			hilltop = c.Roles
		}
	}
	if !slices.Contains(hilltop, "coach") {
		t.Errorf("clubs = %+v, want coach at hilltop", ev.Person.Clubs)
	}

	if _, err := stranger.World().CreateUser(emulator.User{Email: "x@example.org"}, "", "api"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, <-bodies); !errors.Is(err, ErrWebhookRejected) {
		t.Errorf("webhook from another Kinde business: %v, want rejected", err)
	}
}

// TestWebhookEventTypes checks the types the portal subscribes to and what
// each becomes in the domain's words.
func TestWebhookEventTypes(t *testing.T) {
	want := []string{"organization.created", "organization.deleted", "organization.updated", "user.created", "user.deleted", "user.updated"}
	if got := WebhookEventTypes(); !slices.Equal(got, want) {
		t.Errorf("WebhookEventTypes() = %v, want %v", got, want)
	}
	kinds := map[string]string{
		"user.created": club.EventPersonChanged, "user.updated": club.EventPersonChanged, "user.deleted": club.EventPersonDeleted,
		"organization.created": club.EventClubChanged, "organization.updated": club.EventClubChanged, "organization.deleted": club.EventClubDeleted,
		"user.authenticated": "",
	}
	for typ, want := range kinds {
		got, ok := EventKind(typ)
		if got != want || ok != (want != "") {
			t.Errorf("EventKind(%q) = %q, %v; want %q, %v", typ, got, ok, want, want != "")
		}
	}
}
