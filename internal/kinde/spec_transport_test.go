package kinde

import (
	"net/http"
	"os"
	"testing"

	"github.com/clubhouse/clubhouse/internal/kinde/kindespec"
)

// specTransport is the transport of the Management API clients in the
// emulator tests: every /api/v1 request and response is validated against
// Kinde's pinned, closed spec (kindespec), and a violation fails the test.
// The statuses the tests inject on purpose (5xx, 429 without a declared
// body) are allowed. Without the spec file the traffic is not validated
// (the rest of the test still runs), except under CI=true.
func specTransport(t testing.TB) http.RoundTripper {
	t.Helper()
	base := http.DefaultTransport.(*http.Transport).Clone()
	path, err := kindespec.Path()
	if err == nil {
		_, err = os.Stat(path)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Kinde's spec: %v", err)
		}
		t.Logf("Management API traffic is not validated: %v (set KINDE_SPEC)", err)
		return base
	}
	spec, err := kindespec.LoadFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return kindespec.NewValidatingTransport(t, spec, base,
		kindespec.AllowUndeclaredStatus(http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable))
}
