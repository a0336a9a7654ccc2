package store

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// BenchmarkMembers10k measures a members page of a 10,000-member club in
// SQLite: plain pages at the start, middle and end in every order, and
// searches that match many, few and no members. Besides ns/op it reports
// the 95th percentile (p95-ms); the budget for the whole page is 15 ms.
//
//	go test ./internal/store -run '^$' -bench Members10k
func BenchmarkMembers10k(b *testing.B) {
	db, err := Open(b.Context(), "sqlite:"+filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	b.Cleanup(func() { db.Close() })
	const n = 10_000
	seedClub(b, db, "org_big", n)
	seedClub(b, db, "org_other", 2_000) // other clubs share the tables

	tests := []struct {
		name string
		q    club.MemberQuery
	}{
		{"page/name/first", club.MemberQuery{Sort: club.SortNameAsc, Limit: 25}},
		{"page/name/middle", club.MemberQuery{Sort: club.SortNameAsc, Offset: n / 2, Limit: 25}},
		{"page/name/last", club.MemberQuery{Sort: club.SortNameAsc, Offset: n - 25, Limit: 25}},
		{"page/-name/middle", club.MemberQuery{Sort: club.SortNameDesc, Offset: n / 2, Limit: 25}},
		{"page/joined/middle", club.MemberQuery{Sort: club.SortJoinedAsc, Offset: n / 2, Limit: 25}},
		{"page/-joined/first", club.MemberQuery{Sort: club.SortJoinedDesc, Limit: 25}},
		{"page/name/first/100", club.MemberQuery{Sort: club.SortNameAsc, Limit: club.MaxPageSize}},
		{"search/many", club.MemberQuery{Search: "ana", Sort: club.SortNameAsc, Limit: 25}},
		{"search/many/-joined/page4", club.MemberQuery{Search: "silva", Sort: club.SortJoinedDesc, Offset: 75, Limit: 25}},
		{"search/email", club.MemberQuery{Search: "member4242@", Sort: club.SortNameAsc, Limit: 25}},
		{"search/none", club.MemberQuery{Search: "zzzz", Sort: club.SortNameAsc, Limit: 25}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := db.Members(b.Context(), "org_big", tt.q); err != nil {
					b.Fatalf("members: %v", err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			p95 := took[len(took)*95/100]
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
		})
	}
}

// seedClub fills a club with n members as a sync from Kinde would.
func seedClub(tb testing.TB, db *DB, code string, n int) {
	tb.Helper()
	firsts := []string{"Ana", "Bruno", "Carla", "Duarte", "Émile", "Filipa", "Gil", "Helena", "Inês", "João", "Luana", "Mariana", "Nuno", "Olga", "Pedro", "Rita"}
	lasts := []string{"Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins", "Jesus", "Sousa", "Fernandes", "Gonçalves"}
	roles := [][]string{{club.RoleMember}, {club.RoleMember, club.RoleCoach}, {club.RoleAdmin}, {club.RoleOwner}}
	ms := make([]club.Member, n)
	for i := range ms {
		ms[i] = club.Member{
			UserID:    fmt.Sprintf("kp_%s_%028x", code, i),
			Email:     fmt.Sprintf("member%d@%s.example.org", i, code),
			FirstName: firsts[i%len(firsts)],
			LastName:  fmt.Sprintf("%s %d", lasts[(i/len(firsts))%len(lasts)], i),
			Roles:     roles[i%len(roles)],
			JoinedAt:  time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*7919%n) * time.Hour),
		}
	}
	ev := club.AuditEvent{ClubCode: code, Action: club.ActionClubSynced}
	if _, err := db.ReplaceMembers(tb.Context(), club.Club{Code: code, Name: code}, ms, readVersion(tb, db), time.Now(), always(ev)); err != nil {
		tb.Fatalf("seed %s: %v", code, err)
	}
}
