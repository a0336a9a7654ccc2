package emulator_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

func TestControlPlaneResetAndState(t *testing.T) {
	e := emulatortest.Start(t)
	w := e.World()
	keysBefore := w.SigningKeys()
	if len(keysBefore) == 0 {
		_ = emulatortest.Token(t, e, emulator.SeedManagementApp) // makes the OP create a key
		keysBefore = w.SigningKeys()
	}
	if _, err := w.CreateOrg("Temporary Club", emulator.SourceAdmin); err != nil {
		t.Fatal(err)
	}
	e.SetRateLimit(5)
	e.Faults().Add(emulator.FaultRule{Operation: "jwks", Status: 500})

	exported := mgmtCall(t.Context(), t, e, "", "GET", "/_emulator/state", "")
	if exported.status != 200 || !strings.Contains(string(exported.raw), "Temporary Club") {
		t.Fatalf("export: %d", exported.status)
	}
	if r := mgmtCall(t.Context(), t, e, "", "POST", "/_emulator/reset?keep=keys", ""); r.status != 200 {
		t.Fatalf("reset: %d %s", r.status, r.raw)
	}
	if len(w.Orgs()) != 4 || len(e.Faults().Rules()) != 0 || e.RateLimit() != 0 {
		t.Fatalf("after reset: %d orgs, %d faults, limit %d", len(w.Orgs()), len(e.Faults().Rules()), e.RateLimit())
	}
	if got := w.SigningKeys(); len(got) != len(keysBefore) || got[0].KID != keysBefore[0].KID {
		t.Error("reset?keep=keys changed the signing keys")
	}
	// Import the exported state into a second emulator: same world, same keys.
	other := emulatortest.Start(t)
	if r := mgmtCall(t.Context(), t, other, "", "PUT", "/_emulator/state", string(exported.raw)); r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.raw)
	}
	if _, ok := other.World().OrgByCode(w.Orgs()[0].Code); !ok || len(other.World().Orgs()) != 5 {
		t.Fatal("import did not bring the orgs")
	}
	if other.World().SigningKeys()[0].KID != keysBefore[0].KID {
		t.Error("import did not bring the signing keys")
	}
	// Seeding replaces what reset restores.
	var s emulator.State
	if err := json.Unmarshal(exported.raw, &s); err != nil {
		t.Fatal(err)
	}
	s.Orgs = s.Orgs[:1]
	s.Memberships = nil
	s.Invites = nil
	b, _ := json.Marshal(s)
	if r := mgmtCall(t.Context(), t, e, "", "POST", "/_emulator/seed", string(b)); r.status != 200 {
		t.Fatalf("seed: %d %s", r.status, r.raw)
	}
	_ = mgmtCall(t.Context(), t, e, "", "POST", "/_emulator/reset", "")
	if len(w.Orgs()) != 1 {
		t.Errorf("reset after seed: %d orgs, want 1", len(w.Orgs()))
	}
	bad := []struct{ method, path, body string }{
		{"PUT", "/_emulator/state", `{"users":[{"id":""}]}`},
		{"PUT", "/_emulator/state", `{"nonsense":true}`},
		{"POST", "/_emulator/seed", `not json`},
		{"GET", "/_emulator/nope", ""},
	}
	for _, tc := range bad {
		if r := mgmtCall(t.Context(), t, e, "", tc.method, tc.path, tc.body); r.status < 400 {
			t.Errorf("%s %s %s answered %d", tc.method, tc.path, tc.body, r.status)
		}
	}
}

func TestControlPlaneLoopbackOnly(t *testing.T) {
	e := emulatortest.Start(t)
	tests := []struct {
		remote string
		want   int
	}{
		{"127.0.0.1:4000", 200},
		{"[::1]:4000", 200},
		{"192.0.2.10:4000", 403},
		{"garbage", 403},
	}
	for _, tc := range tests {
		t.Run(tc.remote, func(t *testing.T) {
			r := httptestRequest("GET", "/_emulator/requests")
			r.RemoteAddr = tc.remote
			rec := newRecorder()
			e.Handler().ServeHTTP(rec, r)
			if rec.status != tc.want {
				t.Errorf("status %d, want %d", rec.status, tc.want)
			}
		})
	}
	off := emulatortest.Start(t, emulatortest.WithoutControlPlane())
	rec := newRecorder()
	off.Handler().ServeHTTP(rec, httptestRequest("GET", "/_emulator/state"))
	if rec.status != http.StatusNotFound {
		t.Errorf("control plane off: status %d, want 404", rec.status)
	}
}

func TestJournal(t *testing.T) {
	e := emulatortest.Start(t)
	tok := emulatortest.Token(t, e, emulator.SeedManagementApp)
	id, _ := emulatortest.M2M(t, e)
	e.ResetRequests()
	_ = mgmtCall(t.Context(), t, e, tok, "GET", "/api/v1/users?email=mia@example.org", "")
	_ = mgmtCall(t.Context(), t, e, tok, "GET", "/api/v1/organizations", "")
	_ = mgmtCall(t.Context(), t, e, tok, "GET", "/api/v1/nope", "")
	_ = mgmtCall(t.Context(), t, e, "", "GET", "/.well-known/jwks", "")
	_ = mgmtCall(t.Context(), t, e, "", "GET", "/_emulator/state", "")
	reqs := e.Requests()
	if len(reqs) != 4 {
		t.Fatalf("journal has %d entries, want 4 (control plane not recorded): %+v", len(reqs), reqs)
	}
	want := []emulator.Request{
		{Method: "GET", Path: "/api/v1/users", Operation: "getUsers", Status: 200, ClientID: id},
		{Method: "GET", Path: "/api/v1/organizations", Operation: "getOrganizations", Status: 200, ClientID: id},
		{Method: "GET", Path: "/api/v1/nope", Operation: "routeNotFound", Status: 404},
		{Method: "GET", Path: "/.well-known/jwks", Operation: "jwks", Status: 200},
	}
	for i, w := range want {
		got := reqs[i]
		got.Time = time.Time{}
		if got != w {
			t.Errorf("entry %d = %+v, want %+v", i, got, w)
		}
	}
	if got := e.RequestCount("getUsers"); got != 1 {
		t.Errorf("RequestCount(getUsers) = %d", got)
	}
	r := mgmtCall(t.Context(), t, e, "", "GET", "/_emulator/requests?operation=getOrganizations", "").json(t)
	if r["count"] != float64(1) {
		t.Errorf("control-plane filter: %v", r)
	}
	if strings.Contains(string(mgmtCall(t.Context(), t, e, "", "GET", "/_emulator/requests", "").raw), tok[:20]) {
		t.Error("the journal leaks bearer tokens")
	}
}

func TestClockControl(t *testing.T) {
	clock := emulator.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := emulatortest.Start(t, emulatortest.WithClock(clock))
	tok := emulatortest.Token(t, e, emulator.SeedManagementApp)
	if r := mgmtCall(t.Context(), t, e, tok, "GET", "/api/v1/roles", ""); r.status != 200 {
		t.Fatalf("fresh token: %d", r.status)
	}
	if r := mgmtCall(t.Context(), t, e, "", "POST", "/_emulator/clock", `{"advance":"48h"}`); r.status != 200 {
		t.Fatalf("advance: %d %s", r.status, r.raw)
	}
	if r := mgmtCall(t.Context(), t, e, tok, "GET", "/api/v1/roles", ""); r.status != 401 {
		t.Fatalf("token after 48h: %d, want 401 (expired by the emulator's clock)", r.status)
	}
	sys := emulatortest.Start(t)
	if r := mgmtCall(t.Context(), t, sys, "", "POST", "/_emulator/clock", `{"advance":"1h"}`); r.status != http.StatusConflict {
		t.Errorf("system clock advance: %d, want 409", r.status)
	}
}
