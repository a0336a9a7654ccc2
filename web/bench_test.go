package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

// BenchmarkAuthorizeFreshClaims measures session load, authentication and
// authorization for a signed-in admin whose claims are not stale: the
// common request. It reports Kinde calls per request, which must be 0.
func BenchmarkAuthorizeFreshClaims(b *testing.B) {
	e := newEnv(b)
	br := e.browser()
	cookie := br.signIn(adam)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := e.s.withSession(e.s.authenticate(e.s.authorize(route{Method: "GET", Pattern: "/members", Access: inClub, Permission: club.PermMembersRead}, ok)))
	before := e.auth.refreshes.Load() + e.kinde.calls.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, "/members", nil)
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status = %d", w.Code)
		}
	}
	b.StopTimer()
	calls := e.auth.refreshes.Load() + e.kinde.calls.Load() - before
	b.ReportMetric(float64(calls)/float64(b.N), "kinde-calls/op")
	if calls != 0 {
		b.Fatalf("Kinde calls = %d, want 0", calls)
	}
}
