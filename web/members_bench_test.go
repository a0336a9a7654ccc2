package web

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/store"
)

// BenchmarkMembersPage10k measures the server time of the members page for
// a club of 10,000 members on SQLite: the whole handler (session, auth,
// directory query, templ rendering), for paging and for search. It reports
// the p50 and p95 of the individual requests.
//
// The club has 10,000 people plus its owner. Each of the 16 first names is
// given to 625 of them, and no first name is part of another (nor of a
// last name or an email), so every search-name query matches 625; every
// search-email query matches one person. The setup checks both.
//
//	go test ./web -run '^$' -bench MembersPage10k -benchtime 2000x
func BenchmarkMembersPage10k(b *testing.B) {
	db, err := store.Open(b.Context(), "sqlite:"+b.TempDir()+"/bench.db", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	first := []string{"Ana", "Ben", "Carla", "Dev", "Ella", "Femi", "Gus", "Hugo", "Ivan", "Jun", "Kai", "Lena", "Mia", "Noah", "Omar", "Pia"}
	last := []string{"Hart", "Brooks", "Diaz", "Chen", "Patel", "Moreau", "Evans", "Sato", "Novak", "King", "Lee", "Petrov", "Ortiz", "Haddad", "Quinn", "Rivera"}
	page := func(i int) string { return fmt.Sprintf("/members?page=%d", 1+(i*37)%200) }
	searchName := func(i int) string { return first[i%len(first)] }
	searchEmail := func(i int) string { return fmt.Sprintf("person%05d", (i*7919)%10_000) }
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := make([]club.Member, 0, 10_000)
	for i := range 10_000 {
		roles := []string{club.RoleMember}
		if i%50 == 0 {
			roles = []string{club.RoleCoach}
		}
		ms = append(ms, club.Member{ClubCode: riverside, UserID: fmt.Sprintf("kp_%032x", i+1),
			Email: fmt.Sprintf("person%05d@example.org", i), FirstName: first[i%len(first)], LastName: last[(i/len(first))%len(last)],
			Roles: roles, JoinedAt: t0.Add(time.Duration(i) * time.Hour)})
	}
	ms = append(ms, club.Member{ClubCode: riverside, UserID: "kp_olivia", Email: "olivia@example.org", FirstName: "Olivia", LastName: "Hart", Roles: []string{club.RoleOwner}, JoinedAt: t0})
	if _, err := db.ReplaceMembers(b.Context(), club.Club{Code: riverside, Name: "Riverside Rowing Club"}, ms, 1, time.Now(), func(club.SyncChanges) *club.AuditEvent { return nil }); err != nil {
		b.Fatal(err)
	}
	// The match counts docs/PERFORMANCE.md gives. A first name inside
	// another ("Ana" in "Hana") once made one search match twice as many.
	const nameMatches, emailMatches = 10_000 / 16, 1
	wantMatches := func(q string, want int) {
		b.Helper()
		got, err := db.Members(b.Context(), riverside, club.MemberQuery{Search: q, Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		if got.Total != want || got.ClubTotal != 10_001 {
			b.Fatalf("q=%s matches %d of %d members, want %d of 10,001", q, got.Total, got.ClubTotal, want)
		}
	}
	for _, name := range first {
		wantMatches(name, nameMatches)
	}
	for i := range 16 {
		wantMatches(searchEmail(i), emailMatches)
	}
	e := newEnv(b, func(d *Deps) { d.Directory = db; d.Freshness = db; d.Invitations = db })
	br := e.browser()
	br.signIn(olivia)

	for _, bc := range []struct {
		name  string
		query func(i int) string
	}{
		{"page", page},
		{"page-joined-desc", func(i int) string { return fmt.Sprintf("/members?sort=-joined&page=%d", 1+(i*37)%200) }},
		{"search-name", func(i int) string { return "/members?q=" + searchName(i) }},
		{"search-email", func(i int) string { return "/members?q=" + searchEmail(i) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var durs []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				res := br.get(bc.query(i))
				durs = append(durs, time.Since(start))
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: status %d", bc.query(i), res.StatusCode)
				}
				i++
			}
			reportPercentiles(b, durs)
		})
	}

	// Four owners at once on the 2 cores, alternating paging and broad
	// name searches: each request's time includes waiting for a core.
	b.Run("mixed-4-concurrent", func(b *testing.B) {
		const clients = 4
		var (
			mu   sync.Mutex
			durs []time.Duration
			wg   sync.WaitGroup
		)
		b.ResetTimer()
		for c := range clients {
			own := &browser{e: br.e, cookies: maps.Clone(br.cookies), header: br.header.Clone()}
			wg.Go(func() {
				var mine []time.Duration
				for i := c; i < b.N; i += clients {
					q := page(i)
					if i%2 == 1 {
						q = "/members?q=" + searchName(i)
					}
					start := time.Now()
					res := own.get(q)
					mine = append(mine, time.Since(start))
					if res.StatusCode != http.StatusOK {
						b.Errorf("%s: status %d", q, res.StatusCode)
						return
					}
				}
				mu.Lock()
				durs = append(durs, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		reportPercentiles(b, durs)
	})
}

// reportPercentiles reports the p50 and p95 of individual request times.
func reportPercentiles(b *testing.B, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(durs[len(durs)*95/100].Microseconds())/1000, "p95-ms")
}
