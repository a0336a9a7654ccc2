package kindespec_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/kinde/kindespec"
)

func TestValidatingTransport(t *testing.T) {
	spec := kindespec.Load(t)
	tests := []struct {
		name       string
		method     string
		path       string
		reqBody    string
		status     int
		ctype      string
		respBody   string
		violations int
	}{
		{"valid", "GET", "/api/v1/organizations?page_size=2", "", 200, "application/json",
			`{"code":"OK","message":"Success","organizations":[{"code":"org_1ccfb819462","name":"A","handle":null,"is_default":false,"external_id":null,"is_auto_membership_enabled":false}]}`, 0},
		{"invented response field", "GET", "/api/v1/organizations", "", 200, "application/json",
			`{"code":"OK","message":"Success","organizations":[],"invented":1}`, 1},
		{"wrong type", "GET", "/api/v1/organizations", "", 200, "application/json",
			`{"code":"OK","message":"Success","organizations":[{"code":7}]}`, 1},
		{"charset where spec has none", "GET", "/api/v1/organizations", "", 200, "application/json; charset=utf-8",
			`{"code":"OK","message":"Success","organizations":[]}`, 1},
		{"either declared media type", "GET", "/api/v1/webhooks", "", 200, "application/json; charset=utf-8",
			`{"code":"OK","message":"Success","webhooks":[]}`, 0},
		{"undeclared media type", "GET", "/api/v1/webhooks", "", 200, "application/problem+json",
			`{"code":"OK","message":"Success","webhooks":[]}`, 1},
		{"undeclared status", "GET", "/api/v1/organizations", "", 500, "application/json",
			`{"errors":[{"code":"X","message":"Y"}]}`, 1},
		{"allowed 401", "GET", "/api/v1/organizations", "", 401, "application/json",
			`{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}`, 0},
		{"undeclared query parameter", "GET", "/api/v1/organizations?colour=red", "", 200, "application/json",
			`{"code":"OK","message":"Success","organizations":[]}`, 1},
		{"unknown request field", "POST", "/api/v1/organization", `{"name":"A","colour":"red"}`, 200, "application/json",
			`{"message":"Success","code":"OK","organization":{"code":"org_1ccfb819462"}}`, 1},
		{"missing required request field", "POST", "/api/v1/organization", `{"external_id":"x"}`, 200, "application/json",
			`{"message":"Success","code":"OK","organization":{"code":"org_1ccfb819462"}}`, 1},
		{"unknown route", "GET", "/api/v1/nope", "", 404, "application/json",
			`{"errors":{"code":"ROUTE_NOT_FOUND","message":"The requested API route does not exist"}}`, 1},
		{"oauth endpoints pass", "POST", "/oauth2/token", "grant_type=x", 400, "application/json", `{"error":"x"}`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.respBody))
			}))
			t.Cleanup(srv.Close)
			var got []error
			client := &http.Client{Transport: kindespec.NewValidatingTransport(t, spec, nil,
				kindespec.OnViolation(func(err error) { got = append(got, err) }))}
			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, strings.NewReader(tc.reqBody))
			if err != nil {
				t.Fatal(err)
			}
			if tc.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if len(got) != tc.violations {
				t.Fatalf("violations = %d, want %d: %v", len(got), tc.violations, got)
			}
		})
	}
}
