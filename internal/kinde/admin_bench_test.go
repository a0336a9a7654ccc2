package kinde

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// BenchmarkFindPersonByEmail100k looks people up by email in a Kinde
// business of 100,000 people (the in-process emulator, over loopback HTTP).
// kinde-calls/op counts Management API calls per lookup: the exact-email
// filter makes it 1 whatever the size of the business. The list-and-filter
// sub-benchmark is the approach the portal does not take, for comparison.
// Lookups walk the sample of emails in a scattered order (7919 is prime),
// so they cover the whole business even when b.N is small.
func BenchmarkFindPersonByEmail100k(b *testing.B) {
	e := emulatortest.Start(b)
	ids := emulatortest.Bulk(e, 100_000)
	emails := make([]string, 0, 1000)
	for i := 0; i < len(ids); i += len(ids) / 1000 {
		u, ok := e.World().UserByID(ids[i])
		if !ok {
			b.Fatalf("no user %s", ids[i])
		}
		emails = append(emails, u.Email)
	}
	id, secret := emulatortest.M2M(b, e)
	a, err := NewAdmin(AdminConfig{Issuer: e.Issuer(), ClientID: id, ClientSecret: secret,
		HTTPClient: &http.Client{Timeout: 30 * time.Second}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()

	b.Run("exact-email", func(b *testing.B) {
		e.ResetRequests()
		i := 0
		for b.Loop() {
			if _, err := a.FindPersonByEmail(ctx, emails[(i*7919)%len(emails)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(e.RequestCount("getUsers"))/float64(i), "kinde-calls/op")
	})

	b.Run("list-and-filter", func(b *testing.B) {
		e.ResetRequests()
		i := 0
		for b.Loop() {
			if !listAndFilter(b, a, emails[(i*7919)%len(emails)]) {
				b.Fatal("not found by listing")
			}
			i++
		}
		b.ReportMetric(float64(e.RequestCount("getUsers"))/float64(i), "kinde-calls/op")
	})
}

// listAndFilter pages through every person (500 a page) until it meets
// email: what a client without an exact lookup has to do.
func listAndFilter(b *testing.B, a *Admin, email string) bool {
	b.Helper()
	token := ""
	for {
		q := url.Values{"page_size": {"500"}}
		if token != "" {
			q.Set("next_token", token)
		}
		var resp usersResponse
		if err := a.call(b.Context(), opGetUsers, nil, q, nil, &resp); err != nil {
			b.Fatal(err)
		}
		for _, u := range resp.Users {
			if strings.EqualFold(u.Email, email) {
				return true
			}
		}
		if resp.NextToken == "" {
			return false
		}
		token = resp.NextToken
	}
}
