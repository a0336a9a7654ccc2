package emulator_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

func TestFaultFiring(t *testing.T) {
	tests := []struct {
		name string
		rule emulator.FaultRule
		want []int // statuses of successive getUsers calls
	}{
		{"times", emulator.FaultRule{Operation: "getUsers", Status: 503, Times: 2}, []int{503, 503, 200}},
		{"after", emulator.FaultRule{Operation: "getUsers", Status: 500, After: 1, Times: 1}, []int{200, 500, 200}},
		{"method and path prefix", emulator.FaultRule{Method: "GET", PathPrefix: "/api/v1/us*", Status: 429}, []int{429, 429}},
		{"other operation", emulator.FaultRule{Operation: "getOrganizations", Status: 500}, []int{200, 200}},
		{"seeded probability", emulator.FaultRule{Operation: "getUsers", Status: 502, Probability: 0.5, Seed: 7},
			seededPattern(7, 0.5, 12)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := emulatortest.Start(t)
			tok := emulatortest.Token(t, e, emulator.SeedManagementApp)
			id := e.Faults().Add(tc.rule)
			var got []int
			for range tc.want {
				got = append(got, mgmtCall(t.Context(), t, e, tok, "GET", "/api/v1/users", "").status)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("statuses %v, want %v", got, tc.want)
			}
			faulted := 0
			for _, r := range e.Requests() {
				if r.Operation == "getUsers" && r.Fault == id {
					faulted++
				}
			}
			want := 0
			for _, s := range tc.want {
				if s != 200 {
					want++
				}
			}
			if faulted != want {
				t.Errorf("journal shows %d faulted getUsers, want %d", faulted, want)
			}
		})
	}
}

// seededPattern replays a rule's RNG through a throwaway emulator, so the
// test states that the same seed gives the same pattern.
func seededPattern(seed uint64, p float64, n int) []int {
	e, err := emulator.New("http://127.0.0.1:1", emulator.Options{})
	if err != nil {
		panic(err)
	}
	defer e.Close()
	e.Faults().Add(emulator.FaultRule{Operation: "discovery", Status: 502, Probability: p, Seed: seed})
	var out []int
	for range n {
		rec := newRecorder()
		e.Handler().ServeHTTP(rec, httptestRequest("GET", "/.well-known/openid-configuration"))
		if rec.status == 502 {
			out = append(out, 502)
		} else {
			out = append(out, 200)
		}
	}
	return out
}

func TestFaultDefaultBodies(t *testing.T) {
	e := emulatortest.Start(t)
	tok := emulatortest.Token(t, e, emulator.SeedManagementApp)
	e.Faults().Add(emulator.FaultRule{Operation: "oauth2.token", Status: 503})
	e.Faults().Add(emulator.FaultRule{Operation: "getOrganizations", Status: 429, Headers: map[string]string{"RateLimit-Reset": "7"}})
	tests := []struct {
		name, method, path string
		status             int
		header, body       string
	}{
		{"oauth endpoint", "POST", "/oauth2/token", 503, "", `"error":"temporarily_unavailable"`},
		{"management api", "GET", "/api/v1/organizations", 429, "7", `{"errors":[{"code":"TOO_MANY_REQUESTS"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mgmtCall(t.Context(), t, e, tok, tc.method, tc.path, "")
			if r.status != tc.status || !strings.Contains(string(r.raw), tc.body) {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if got := r.header.Get("RateLimit-Reset"); got != tc.header {
				t.Errorf("RateLimit-Reset = %q, want %q", got, tc.header)
			}
		})
	}
}

func TestFaultDropAndLatency(t *testing.T) {
	e := emulatortest.Start(t)
	tok := emulatortest.Token(t, e, emulator.SeedManagementApp)
	e.Faults().Add(emulator.FaultRule{Operation: "getUsers", Drop: true, Times: 1})
	// A fresh connection, so the client cannot silently retry the GET on
	// another one.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.Issuer()+"/api/v1/users", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	// A latency rule far longer than the test must end as soon as the
	// client gives up: the delay honours request cancellation.
	e.Faults().Add(emulator.FaultRule{Operation: "GetRoles", Latency: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if r := mgmtCall(ctx, t, e, tok, "GET", "/api/v1/roles", ""); r.err == nil {
		t.Fatalf("slow request answered %d", r.status)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("cancelled request took %v", d)
	}
	// The server side has finished too: the journal records the abandoned call.
	wait, stop := context.WithTimeout(t.Context(), 10*time.Second)
	defer stop()
	if !e.WaitForRequests(wait, "GetRoles", 1) {
		t.Fatal("abandoned request never reached the journal")
	}
	if got := e.RequestCount("getUsers"); got != 1 {
		t.Errorf("getUsers journal count %d, want 1 (the dropped call)", got)
	}
	for _, r := range e.Requests() {
		if r.Operation == "getUsers" && r.Status != 0 {
			t.Errorf("dropped call recorded with status %d, want 0", r.Status)
		}
	}
}

func TestFaultsControlPlane(t *testing.T) {
	e := emulatortest.Start(t)
	add := mgmtCall(t.Context(), t, e, "", "POST", "/_emulator/faults",
		`{"operation":"jwks","status":500,"times":1,"latency_ms":1,"headers":{"Retry-After":"1"}}`)
	if add.status != http.StatusCreated {
		t.Fatalf("add rule: %d %s", add.status, add.raw)
	}
	if r := mgmtCall(t.Context(), t, e, "", "GET", "/.well-known/jwks", ""); r.status != 500 {
		t.Fatalf("jwks with fault: %d", r.status)
	}
	list := mgmtCall(t.Context(), t, e, "", "GET", "/_emulator/faults", "").json(t)
	rules, _ := list["rules"].([]any)
	if len(rules) != 1 || rules[0].(map[string]any)["fired"] != float64(1) || rules[0].(map[string]any)["latency_ms"] != float64(1) {
		t.Fatalf("rules: %v", list)
	}
	bad := []string{`{"status":42}`, `{"operation":"x"}`, `{"status":500,"probability":2}`, `{"status":500,"nope":1}`, `[{"status":9999}]`}
	for _, b := range bad {
		if r := mgmtCall(t.Context(), t, e, "", "POST", "/_emulator/faults", b); r.status != 400 {
			t.Errorf("bad rule %s accepted: %d", b, r.status)
		}
	}
	if r := mgmtCall(t.Context(), t, e, "", "POST", "/_emulator/faults", `[{"operation":"discovery","status":503}]`); r.status != 200 {
		t.Fatalf("replace: %d %s", r.status, r.raw)
	}
	if r := mgmtCall(t.Context(), t, e, "", "GET", "/.well-known/openid-configuration", ""); r.status != 503 {
		t.Fatalf("discovery with fault: %d", r.status)
	}
	if r := mgmtCall(t.Context(), t, e, "", "DELETE", "/_emulator/faults", ""); r.status != http.StatusNoContent {
		t.Fatalf("clear: %d", r.status)
	}
	if r := mgmtCall(t.Context(), t, e, "", "GET", "/.well-known/openid-configuration", ""); r.status != 200 {
		t.Fatalf("discovery after clear: %d", r.status)
	}
}
