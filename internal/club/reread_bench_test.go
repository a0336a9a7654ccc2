package club_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// BenchmarkRereadPerson is the cost of one webhook: the person's re-read
// (their clubs, then their roles in each club the portal keeps), against
// the in-process emulator through the real Management API client.
// kinde-calls/op is Management API calls per event; a burst of events for
// one person inside the coalescing window costs one such re-read.
//
//	go test ./internal/club -run '^$' -bench RereadPerson -benchtime 500x
func BenchmarkRereadPerson(b *testing.B) {
	e := emulatortest.Start(b)
	id, secret := emulatortest.M2M(b, e)
	admin, err := kinde.NewAdmin(kinde.AdminConfig{Issuer: e.Issuer(), ClientID: id, ClientSecret: secret,
		HTTPClient: &http.Client{Timeout: 30 * time.Second}})
	if err != nil {
		b.Fatal(err)
	}
	// Mia is in all three seeded clubs.
	mia, ok := e.World().UserByEmail("mia@example.org")
	if !ok {
		b.Fatal("no seeded Mia")
	}
	for _, tc := range []struct {
		name string
		kept []string // clubs the portal keeps members of
	}{
		{"in-1-kept-club", []string{emulator.SeedRiversideOrgCode}},
		{"in-3-kept-clubs", e.World().OrgCodesOfUser(mia.ID)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dir := newMemDirectory()
			for _, code := range tc.kept {
				dir.clubs[code] = club.Club{Code: code}
			}
			svc := club.NewService(dir, admin, time.Now, nil)
			e.ResetRequests()
			n := 0
			for b.Loop() {
				if err := svc.RereadPerson(b.Context(), mia.ID); err != nil {
					b.Fatal(err)
				}
				n++
			}
			calls := 0
			for _, r := range e.Requests() {
				if strings.HasPrefix(r.Path, "/api/v1/") {
					calls++
				}
			}
			b.ReportMetric(float64(calls)/float64(n), "kinde-calls/op")
		})
	}
}
