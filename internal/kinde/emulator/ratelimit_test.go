package emulator_test

import (
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

func TestRateLimitFixedWindow(t *testing.T) {
	clock := emulator.NewFakeClock(time.Date(2026, 5, 4, 10, 0, 15, 0, time.UTC))
	e := emulatortest.Start(t, emulatortest.WithClock(clock))
	tok := emulatortest.Token(t, e, emulator.SeedManagementApp)
	e.SetRateLimit(2)
	steps := []struct {
		name      string
		advance   time.Duration
		path      string
		status    int
		resetHdr  string
		bodyEmpty bool
	}{
		{"first", 0, "/api/v1/users", 200, "", false},
		{"second", 0, "/api/v1/organizations", 200, "", false},
		{"third is throttled", 0, "/api/v1/users", 429, "45", false},
		{"later in the window", 30 * time.Second, "/api/v1/users", 429, "15", false},
		{"spec documents no 429 body here", 0, "/api/v1/permissions", 429, "15", true},
		{"next window", 15 * time.Second, "/api/v1/users", 200, "", false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.Advance(st.advance)
			r := mgmtCall(t.Context(), t, e, tok, "GET", st.path, "")
			if r.status != st.status {
				t.Fatalf("status %d, want %d: %s", r.status, st.status, r.raw)
			}
			if got := r.header.Get("RateLimit-Reset"); got != st.resetHdr {
				t.Errorf("RateLimit-Reset = %q, want %q", got, st.resetHdr)
			}
			if st.status == 429 && (len(r.raw) == 0) != st.bodyEmpty {
				t.Errorf("body %q, want empty=%v", r.raw, st.bodyEmpty)
			}
		})
	}
	// The OAuth endpoints are not counted.
	_ = emulatortest.Token(t, e, emulator.SeedManagementApp)
	// Via the control plane.
	if r := mgmtCall(t.Context(), t, e, "", "PUT", "/_emulator/ratelimit", `{"per_minute":0}`); r.status != 200 {
		t.Fatalf("put ratelimit: %d", r.status)
	}
	if e.RateLimit() != 0 {
		t.Fatal("rate limit not cleared")
	}
}
