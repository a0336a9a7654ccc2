package emulatortest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

func TestStart(t *testing.T) {
	clock := emulator.NewFakeClock(time.Date(2026, 2, 2, 12, 0, 0, 0, time.UTC))
	e := emulatortest.Start(t,
		emulatortest.WithClock(clock),
		emulatortest.WithSeed(func(s *emulator.Seed) {
			s.Users = append(s.Users, emulator.User{ID: "kp_" + "0123456789abcdef0123456789abcdef", Email: "extra@example.org"})
		}),
	)
	if _, ok := e.World().UserByEmail("extra@example.org"); !ok {
		t.Error("WithSeed edit not applied")
	}
	if got := e.Clock().Now(); !got.Equal(clock.Now()) {
		t.Errorf("clock = %v", got)
	}
	id, secret := emulatortest.M2M(t, e)
	if id == "" || secret == "" {
		t.Fatal("no M2M credentials")
	}
	tok := emulatortest.Token(t, e, emulator.SeedManagementApp)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.Issuer()+"/api/v1/roles", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET roles with the helper's token: %d", resp.StatusCode)
	}
	before := e.World().UserCount()
	if ids := emulatortest.Bulk(e, 1000); len(ids) != 1000 || e.World().UserCount() != before+1000 {
		t.Errorf("Bulk added %d, world grew by %d", len(ids), e.World().UserCount()-before)
	}
}
