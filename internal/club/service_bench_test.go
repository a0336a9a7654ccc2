package club_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// BenchmarkAddMember100k adds members to a club in a Kinde business of
// 100,000 people (the in-process emulator over loopback HTTP, through the
// real Management API client). kinde-calls/op counts Management API calls
// per add; the M2M token is fetched once and cached. Each case runs raw
// (pacing off) and as the portal runs it: paced, where an add of a person
// someone already knew is held to the time a new person's add takes.
//
//	go test ./internal/club -run '^$' -bench AddMember100k -benchtime 200x
func BenchmarkAddMember100k(b *testing.B) {
	e := emulatortest.Start(b)
	ids := emulatortest.Bulk(e, 100_000)
	id, secret := emulatortest.M2M(b, e)
	admin, err := kinde.NewAdmin(kinde.AdminConfig{Issuer: e.Issuer(), ClientID: id, ClientSecret: secret,
		HTTPClient: &http.Client{Timeout: 30 * time.Second}})
	if err != nil {
		b.Fatal(err)
	}
	roles, err := admin.Roles(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	apiCalls := func() int {
		n := 0
		for _, r := range e.Requests() {
			if strings.HasPrefix(r.Path, "/api/v1/") {
				n++
			}
		}
		return n
	}
	run := func(b *testing.B, dir *memDirectory, email func(i int) string, wantAlready bool, opts ...club.Option) {
		svc := club.NewService(dir, admin, time.Now, nil, opts...)
		e.ResetRequests()
		i := 0
		for b.Loop() {
			res, err := svc.AddMember(b.Context(), owner, emuRiverside, roles,
				club.AddMemberInput{Email: email(i), FirstName: "Bench", Roles: []string{"member"}})
			if err != nil {
				b.Fatal(err)
			}
			if res.AlreadyMember != wantAlready {
				b.Fatalf("add %d: already = %v", i, res.AlreadyMember)
			}
			i++
		}
		b.ReportMetric(float64(apiCalls())/float64(i), "kinde-calls/op")
	}

	offset := 0 // each sub-benchmark (and each b.N round) uses fresh people
	for _, mode := range []struct {
		name string
		opts []club.Option
	}{{"raw", []club.Option{club.WithoutPacing()}}, {"paced", nil}} {
		b.Run("directory-knows-email/"+mode.name, func(b *testing.B) {
			dir := newMemDirectory()
			base := offset
			offset += 20_000
			for i := range 20_000 {
				u, _ := e.World().UserByID(ids[base+i])
				dir.people[u.Email] = club.Person{ID: u.ID, Email: u.Email}
			}
			n := 0
			run(b, dir, func(int) string { u, _ := e.World().UserByID(ids[base+n]); n++; return u.Email }, false, mode.opts...)
		})
		b.Run("kinde-knows-email/"+mode.name, func(b *testing.B) {
			base := offset
			offset += 20_000
			n := 0
			run(b, newMemDirectory(), func(int) string { u, _ := e.World().UserByID(ids[base+n]); n++; return u.Email }, false, mode.opts...)
		})
		b.Run("new-person/"+mode.name, func(b *testing.B) {
			n := 0
			run(b, newMemDirectory(), func(int) string { n++; return fmt.Sprintf("bench-new-%s-%d-%d@example.org", mode.name, b.N, n) }, false, mode.opts...)
		})
	}
}
