package emulator_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// BenchmarkGetUsersByEmail100k looks one person up by email in a business
// of 100,000 people through the Management API's real handler (bearer
// verification, scope check, routing, journal, JSON). "handler" calls the
// handler in-process; "loopback" goes over HTTP on 127.0.0.1.
func BenchmarkGetUsersByEmail100k(b *testing.B) {
	e := emulatortest.Start(b)
	emulatortest.Bulk(e, 100_000-e.World().UserCount())
	if n := e.World().UserCount(); n != 100_000 {
		b.Fatalf("world has %d people", n)
	}
	tok := emulatortest.Token(b, e, emulator.SeedManagementApp)
	path := "/api/v1/users?email=person-0050000%40bulk.example"
	b.Run("handler", func(b *testing.B) {
		h := e.Handler()
		for b.Loop() {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	b.Run("loopback", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequestWithContext(b.Context(), "GET", e.Issuer()+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	e.ResetRequests()
}
