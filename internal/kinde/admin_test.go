package kinde

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/clubhouse/clubhouse/internal/club"
)

// fakeKinde is a minimal stand-in for Kinde's token endpoint and
// Management API, for the client's retry and mapping logic. api answers
// /api/ requests (after the bearer check); n is the 1-based number of the
// API request.
type fakeKinde struct {
	srv            *httptest.Server
	tokenExpiresIn int

	mu            sync.Mutex
	tokens        int      // tokens issued
	tokenAttempts int      // requests to the token endpoint
	requests      []string // "METHOD /path?query" of API requests
	bodies        [][]byte
	api           func(w http.ResponseWriter, r *http.Request, n int)
	tokenFails    []int // statuses to answer the next token fetches with
}

const (
	fakeClientID     = "m2m-client"
	fakeClientSecret = "m2m-secret-do-not-log"
)

func newFakeKinde(t *testing.T, api func(w http.ResponseWriter, r *http.Request, n int)) *fakeKinde {
	t.Helper()
	f := &fakeKinde{api: api, tokenExpiresIn: 3600}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeKinde) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth2/token" {
		f.serveToken(w, r)
		return
	}
	f.mu.Lock()
	want := fmt.Sprintf("Bearer tok-%d", f.tokens)
	body, _ := io.ReadAll(r.Body)
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	f.bodies = append(f.bodies, body)
	n := len(f.requests)
	api := f.api
	f.mu.Unlock()
	if r.Header.Get("Authorization") != want {
		writeJSON(w, http.StatusUnauthorized, `{"errors":[{"code":"UNAUTHORIZED","message":"Unauthorized"}]}`)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	api(w, r, n)
}

func (f *fakeKinde) serveToken(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.tokenAttempts++
	f.mu.Unlock()
	if err := r.ParseForm(); err != nil ||
		r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_id") != fakeClientID ||
		r.PostForm.Get("client_secret") != fakeClientSecret ||
		r.PostForm.Get("audience") != f.srv.URL+"/api" {
		writeJSON(w, http.StatusUnauthorized, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.tokenFails) > 0 {
		status := f.tokenFails[0]
		f.tokenFails = f.tokenFails[1:]
		writeJSON(w, status, `{"error":"server_error"}`)
		return
	}
	f.tokens++
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"bearer","expires_in":%d,"scope":""}`, f.tokens, f.tokenExpiresIn))
}

func (f *fakeKinde) tokenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens
}

func (f *fakeKinde) apiRequests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// sleepLog records the waits the client asks for instead of sleeping.
type sleepLog struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepLog) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleepLog) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// testBackoff is a deterministic backoff: attempt × 100ms.
func testBackoff(attempt int) time.Duration { return time.Duration(attempt) * 100 * time.Millisecond }

func newTestAdmin(t *testing.T, f *fakeKinde, mod func(*AdminConfig)) (*Admin, *sleepLog) {
	t.Helper()
	sl := &sleepLog{}
	cfg := AdminConfig{
		Issuer:       f.srv.URL,
		ClientID:     fakeClientID,
		ClientSecret: fakeClientSecret,
		HTTPClient:   &http.Client{Timeout: 5 * time.Second},
		Backoff:      testBackoff,
		Sleep:        sl.sleep,
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := NewAdmin(cfg)
	if err != nil {
		t.Fatalf("NewAdmin: %v", err)
	}
	return a, sl
}

const rolesBody = `{"code":"OK","message":"Success","roles":[
 {"id":"r-owner","key":"owner","name":"Owner","description":null,"is_default_role":false},
 {"id":"r-admin","key":"admin","name":"Admin","description":null,"is_default_role":false},
 {"id":"r-member","key":"member","name":"Member","description":null,"is_default_role":true}]}`

func TestAdminRetries(t *testing.T) {
	ok := func(w http.ResponseWriter) { writeJSON(w, 200, rolesBody) }
	tests := []struct {
		name string
		// api answers the n-th API request.
		api       func(w http.ResponseWriter, r *http.Request, n int)
		mod       func(*AdminConfig)
		wantErr   error // nil: success
		wantCode  string
		wantCalls int
		wantWaits []time.Duration
	}{
		{
			name: "429 waits for RateLimit-Reset then succeeds",
			api: func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					w.Header().Set("RateLimit-Reset", "3")
					writeJSON(w, 429, `{"errors":[{"code":"TOO_MANY_REQUESTS","message":"Request was throttled."}]}`)
					return
				}
				ok(w)
			},
			wantCalls: 2,
			wantWaits: []time.Duration{3 * time.Second},
		},
		{
			name: "429 without a header backs off",
			api: func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					w.WriteHeader(429)
					return
				}
				ok(w)
			},
			wantCalls: 2,
			wantWaits: []time.Duration{100 * time.Millisecond},
		},
		{
			name: "429 longer than MaxRateLimitWait gives up at once",
			api: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("RateLimit-Reset", "120")
				w.WriteHeader(429)
			},
			wantErr:   club.ErrUnavailable,
			wantCode:  club.EUNAVAILABLE,
			wantCalls: 1,
		},
		{
			name: "5xx then success backs off",
			api: func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= 2 {
					writeJSON(w, 503, `{"errors":[{"code":"SERVICE_UNAVAILABLE","message":"Try later"}]}`)
					return
				}
				ok(w)
			},
			wantCalls: 3,
			wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond},
		},
		{
			// net/http itself retries an idempotent request once when a
			// reused connection drops, so two drops reach the client's retry.
			name: "dropped connections then success",
			api: func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= 2 {
					panic(http.ErrAbortHandler)
				}
				ok(w)
			},
			wantCalls: 3,
			wantWaits: []time.Duration{100 * time.Millisecond},
		},
		{
			name: "timeout then success",
			api: func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					<-r.Context().Done() // hang until the client gives up
					return
				}
				ok(w)
			},
			mod:       func(c *AdminConfig) { c.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond} },
			wantCalls: 2,
			wantWaits: []time.Duration{100 * time.Millisecond},
		},
		{
			name: "5xx exhausts MaxAttempts",
			api: func(w http.ResponseWriter, r *http.Request, n int) {
				w.WriteHeader(500)
			},
			wantErr:   club.ErrUnavailable,
			wantCode:  club.EUNAVAILABLE,
			wantCalls: 4,
			wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
		},
		{
			name: "MaxAttempts is configurable",
			api: func(w http.ResponseWriter, r *http.Request, n int) {
				w.WriteHeader(502)
			},
			mod:       func(c *AdminConfig) { c.MaxAttempts = 2 },
			wantErr:   club.ErrUnavailable,
			wantCode:  club.EUNAVAILABLE,
			wantCalls: 2,
			wantWaits: []time.Duration{100 * time.Millisecond},
		},
		{
			name: "other 4xx is not retried",
			api: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, 403, `{"errors":[{"code":"SCOPE_MISSING","message":"Scope is missing: read:roles"}]}`)
			},
			wantCode:  club.EINTERNAL,
			wantCalls: 1,
		},
		{
			name: "404 is not found",
			api: func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, 404, `{"errors":{"code":"ROUTE_NOT_FOUND","message":"The requested API route does not exist"}}`)
			},
			wantErr:   club.ErrNotFound,
			wantCode:  club.ENOTFOUND,
			wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKinde(t, tt.api)
			a, sl := newTestAdmin(t, f, tt.mod)
			roles, err := a.Roles(t.Context())
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Roles: %v", err)
				}
				if got, want := len(roles), 3; got != want {
					t.Errorf("roles: got %d, want %d", got, want)
				}
			} else {
				if err == nil {
					t.Fatal("Roles: got no error")
				}
				if got := club.ErrorCode(err); got != tt.wantCode {
					t.Errorf("error code: got %q, want %q (%v)", got, tt.wantCode, err)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.wantErr)
				}
			}
			if got := len(f.apiRequests()); got != tt.wantCalls {
				t.Errorf("API calls: got %d, want %d", got, tt.wantCalls)
			}
			if got := sl.all(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits: got %v, want %v", got, tt.wantWaits)
			}
			if got := f.tokenCount(); got != 1 {
				t.Errorf("token fetches: got %d, want 1", got)
			}
		})
	}
}

func TestAdminUnauthorizedRefetchesTokenOnce(t *testing.T) {
	f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, rolesBody) })
	a, _ := newTestAdmin(t, f, nil)
	if _, err := a.Roles(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Kinde forgets the token (e.g. revoked): the server now wants tok-2,
	// which the client only gets by fetching again.
	f.mu.Lock()
	f.tokens++
	f.mu.Unlock()
	if err := a.RefreshClaims(t.Context(), "kp_1"); err != nil {
		t.Fatalf("RefreshClaims after 401: %v", err)
	}
	if got, want := f.tokenCount(), 3; got != want {
		t.Errorf("token fetches: got %d, want %d", got, want)
	}
}

func TestAdminTokenEndpointFailures(t *testing.T) {
	tests := []struct {
		name        string
		fails       []int
		mod         func(*AdminConfig)
		wantCode    string
		wantCalls   int
		wantFetches int // requests to the token endpoint
	}{
		{name: "5xx from the token endpoint is retried", fails: []int{503}, wantCalls: 1, wantFetches: 2},
		{name: "wrong secret is not retried", mod: func(c *AdminConfig) { c.ClientSecret = "wrong" }, wantCode: club.EINTERNAL, wantFetches: 1},
		{name: "token endpoint down for good", fails: []int{500, 500, 500, 500}, wantCode: club.EUNAVAILABLE, wantFetches: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, 200, `{"code":"OK","message":"Success"}`)
			})
			f.tokenFails = tt.fails
			a, _ := newTestAdmin(t, f, tt.mod)
			err := a.RefreshClaims(t.Context(), "kp_1")
			if got := club.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error code: got %q, want %q (%v)", got, tt.wantCode, err)
			}
			if err != nil && strings.Contains(err.Error(), fakeClientSecret) {
				t.Errorf("error leaks the client secret: %v", err)
			}
			if got := len(f.apiRequests()); got != tt.wantCalls {
				t.Errorf("API calls: got %d, want %d", got, tt.wantCalls)
			}
			f.mu.Lock()
			fetches := f.tokenAttempts
			f.mu.Unlock()
			if fetches != tt.wantFetches {
				t.Errorf("token requests: got %d, want %d", fetches, tt.wantFetches)
			}
		})
	}
}

func TestAdminTokenCache(t *testing.T) {
	tests := []struct {
		name       string
		expiresIn  int
		calls      int
		wantTokens int
	}{
		{name: "one token serves many calls", expiresIn: 3600, calls: 5, wantTokens: 1},
		// A token within the early-renewal window is never used.
		{name: "a token about to expire is renewed before use", expiresIn: 30, calls: 3, wantTokens: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeJSON(w, 200, `{"code":"OK","message":"Success"}`)
			})
			f.tokenExpiresIn = tt.expiresIn
			a, _ := newTestAdmin(t, f, nil)
			for range tt.calls {
				if err := a.RefreshClaims(t.Context(), "kp_1"); err != nil {
					t.Fatal(err)
				}
			}
			if got := f.tokenCount(); got != tt.wantTokens {
				t.Errorf("token fetches: got %d, want %d", got, tt.wantTokens)
			}
		})
	}
}

func TestAdminContextCanceledWhileWaiting(t *testing.T) {
	f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(503) })
	ctx, cancel := context.WithCancel(t.Context())
	a, _ := newTestAdmin(t, f, func(c *AdminConfig) {
		c.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	})
	err := a.RefreshClaims(ctx, "kp_1")
	if !errors.Is(err, club.ErrUnavailable) {
		t.Fatalf("got %v, want unavailable", err)
	}
	if got := len(f.apiRequests()); got != 1 {
		t.Errorf("API calls: got %d, want 1", got)
	}
}

func TestFindPersonByEmail(t *testing.T) {
	users := `{"code":"OK","message":"Success","users":[
	  {"id":"kp_aaa","email":"Ana.Other@example.org","first_name":"Ana","last_name":"Other"},
	  {"id":"kp_bbb","email":"ANA@Example.org","first_name":"Ana","last_name":"Lima"}]}`
	tests := []struct {
		name    string
		email   string
		body    string
		wantID  string
		wantErr error
	}{
		{name: "exact match, case-insensitive", email: " Ana@example.org ", body: users, wantID: "kp_bbb"},
		{name: "no exact match", email: "ana@example.com", body: users, wantErr: club.ErrNotFound},
		{name: "nobody", email: "nobody@example.org", body: `{"code":"OK","message":"Success","users":[]}`, wantErr: club.ErrNotFound},
		{name: "null users", email: "nobody@example.org", body: `{"code":"OK","message":"Success"}`, wantErr: club.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, tt.body) })
			a, _ := newTestAdmin(t, f, nil)
			p, err := a.FindPersonByEmail(t.Context(), tt.email)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), strings.TrimSpace(tt.email)) {
					t.Errorf("error carries the email: %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if p.ID != tt.wantID {
				t.Errorf("id: got %q, want %q", p.ID, tt.wantID)
			}
			reqs := f.apiRequests()
			if len(reqs) != 1 {
				t.Fatalf("calls: got %v, want one GET", reqs)
			}
			want := "GET /api/v1/users?email=" + strings.ReplaceAll(strings.ToLower(strings.TrimSpace(tt.email)), "@", "%40") + "&page_size=50"
			if reqs[0] != want {
				t.Errorf("request: got %q, want %q", reqs[0], want)
			}
		})
	}
}

func TestCreatePerson(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantID   string
		wantErr  error
		wantCode string
	}{
		{name: "created", status: 200, body: `{"id":"kp_new","created":true,"identities":[{"type":"email","result":{"created":true}}]}`, wantID: "kp_new"},
		{name: "email in use, any code, any case", status: 400, body: `{"errors":[{"code":"SOMETHING","message":"EMAIL already in use"}]}`, wantErr: club.ErrEmailInUse},
		{name: "other 400", status: 400, body: `{"errors":[{"code":"INVALID_ORGANIZATION","message":"Organization not valid"}]}`, wantCode: club.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, tt.status, tt.body) })
			a, _ := newTestAdmin(t, f, nil)
			p, err := a.CreatePerson(t.Context(), club.Person{Email: "New@Example.org", FirstName: "Nia", LastName: "Wood"}, "org_0123456789a")
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
			case tt.wantCode != "":
				if errors.Is(err, club.ErrEmailInUse) || club.ErrorCode(err) != tt.wantCode {
					t.Fatalf("got %v, want code %s", err, tt.wantCode)
				}
			case err != nil:
				t.Fatal(err)
			}
			if p.ID != tt.wantID {
				t.Errorf("id: got %q, want %q", p.ID, tt.wantID)
			}
			f.mu.Lock()
			body := f.bodies[0]
			f.mu.Unlock()
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"profile":           map[string]any{"given_name": "Nia", "family_name": "Wood"},
				"organization_code": "org_0123456789a",
				"identities":        []any{map[string]any{"type": "email", "details": map[string]any{"email": "new@example.org"}}},
			}
			if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Errorf("body: got %s, want %s", g, w)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestClubMembersFollowsPages(t *testing.T) {
	pages := map[string]string{
		"": `{"code":"OK","message":"Success","organization_users":[
		  {"id":"kp_1","email":"A@example.org","first_name":"A","last_name":"One","joined_on":"2024-05-01T10:00:00.123456+10:00","roles":["owner","admin"]},
		  {"id":"kp_2","email":null,"full_name":"B","joined_on":"2024-05-02T10:00:00Z","roles":null}],"next_token":"p2"}`,
		"p2": `{"code":"OK","message":"Success","organization_users":[
		  {"id":"kp_3","email":"c@example.org","joined_on":"2024-05-03","roles":["member"]}],"next_token":""}`,
	}
	f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if got := r.URL.Query().Get("page_size"); got != "500" {
			t.Errorf("page_size: got %q", got)
		}
		writeJSON(w, 200, pages[r.URL.Query().Get("next_token")])
	})
	a, _ := newTestAdmin(t, f, nil)
	ms, err := a.ClubMembers(t.Context(), "org_0123456789a")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s", m.UserID, m.Email, strings.Join(m.Roles, ","), m.JoinedAt.Format(time.RFC3339), m.ClubCode))
	}
	want := []string{
		"kp_1|a@example.org|admin,owner|2024-05-01T00:00:00Z|org_0123456789a",
		"kp_2|||2024-05-02T10:00:00Z|org_0123456789a",
		"kp_3|c@example.org|member|2024-05-03T00:00:00Z|org_0123456789a",
	}
	if !slices.Equal(got, want) {
		t.Errorf("members:\n got %q\nwant %q", got, want)
	}
	if got := len(f.apiRequests()); got != 2 {
		t.Errorf("calls: got %d, want 2", got)
	}
}

func TestRolesCachedAndRevokeUsesID(t *testing.T) {
	f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/api/v1/roles" {
			writeJSON(w, 200, rolesBody)
			return
		}
		writeJSON(w, 200, `{"code":"OK","message":"Success"}`)
	})
	a, _ := newTestAdmin(t, f, nil)
	ctx := t.Context()
	for range 3 {
		if _, err := a.Roles(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.RevokeRole(ctx, "org_0123456789a", "kp_1", "admin"); err != nil {
		t.Fatal(err)
	}
	err := a.RevokeRole(ctx, "org_0123456789a", "kp_1", "nope")
	if club.ErrorCode(err) != club.EINVALID {
		t.Errorf("unknown role: got %v, want EINVALID", err)
	}
	want := []string{
		"GET /api/v1/roles?page_size=500",
		"DELETE /api/v1/organizations/org_0123456789a/users/kp_1/roles/r-admin",
		"GET /api/v1/roles?page_size=500", // an unknown key refreshes the list once
	}
	if got := f.apiRequests(); !slices.Equal(got, want) {
		t.Errorf("requests:\n got %q\nwant %q", got, want)
	}
}

func TestAddMembersChunks(t *testing.T) {
	f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) {
		var req organizationUsersRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Error(err)
		}
		var ids []string
		for _, u := range req.Users {
			ids = append(ids, `"`+u.ID+`"`)
		}
		writeJSON(w, 200, `{"code":"OK","message":"Success","users_added":[`+strings.Join(ids, ",")+`]}`)
	})
	a, _ := newTestAdmin(t, f, nil)
	var ms []NewMember
	for i := range 250 {
		ms = append(ms, NewMember{ID: fmt.Sprintf("kp_%03d", i), Roles: []string{"member"}})
	}
	added, err := a.AddMembers(t.Context(), "org_0123456789a", ms)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(added), 250; got != want {
		t.Errorf("added: got %d, want %d", got, want)
	}
	if got, want := len(f.apiRequests()), 3; got != want {
		t.Errorf("calls: got %d, want %d (chunks of 100)", got, want)
	}
}

func TestAdminMetricsAndLogs(t *testing.T) {
	f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.WriteHeader(503)
			return
		}
		writeJSON(w, 200, `{"code":"OK","message":"Success","users":[{"id":"kp_1","email":"secret.person@example.org"}]}`)
	})
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, _ := newTestAdmin(t, f, func(c *AdminConfig) { c.Metrics = reg; c.Logger = logger })
	if _, err := a.FindPersonByEmail(t.Context(), "secret.person@example.org"); err != nil {
		t.Fatal(err)
	}
	// A second client on the same registry shares the collectors.
	if _, err := NewAdmin(AdminConfig{Issuer: f.srv.URL, ClientID: "x", ClientSecret: "y", Metrics: reg}); err != nil {
		t.Fatalf("second client on one registry: %v", err)
	}
	counts := map[string]float64{
		"getUsers/503":     testutil.ToFloat64(a.metrics.calls.WithLabelValues("getUsers", "503")),
		"getUsers/200":     testutil.ToFloat64(a.metrics.calls.WithLabelValues("getUsers", "200")),
		"oauth2.token/200": testutil.ToFloat64(a.metrics.calls.WithLabelValues("oauth2.token", "200")),
	}
	for k, got := range counts {
		if got != 1 {
			t.Errorf("kinde_calls_total %s: got %v, want 1", k, got)
		}
	}
	if got := testutil.CollectAndCount(a.metrics.duration); got != 2 {
		t.Errorf("duration series: got %d, want 2 (getUsers, oauth2.token)", got)
	}
	out := logs.String()
	for _, secret := range []string{"tok-1", fakeClientSecret, "secret.person", "example.org"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"operation":"getUsers"`, `"attempt":2`, `"status":"503"`, `"duration"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}

func TestNewAdminValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  AdminConfig
		want string
	}{
		{name: "empty", cfg: AdminConfig{}, want: "missing issuer, client id, client secret"},
		{name: "no secret", cfg: AdminConfig{Issuer: "https://acme.kinde.com", ClientID: "x"}, want: "missing client secret"},
		{name: "bad issuer", cfg: AdminConfig{Issuer: "acme", ClientID: "x", ClientSecret: "y"}, want: "issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAdmin(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	t.Run("fillPath", func(t *testing.T) {
		tests := []struct {
			tmpl    string
			args    []string
			want    string
			wantErr bool
		}{
			{"/api/v1/users", nil, "/api/v1/users", false},
			{"/api/v1/organizations/{org_code}/users/{user_id}", []string{"org_1", "kp_2"}, "/api/v1/organizations/org_1/users/kp_2", false},
			{"/api/v1/organizations/{org_code}/users", []string{"a/b?c"}, "/api/v1/organizations/a%2Fb%3Fc/users", false},
			{"/api/v1/organizations/{org_code}/users", nil, "", true},
			{"/api/v1/organizations/{org_code}/users", []string{""}, "", true},
			{"/api/v1/users", []string{"x"}, "", true},
		}
		for _, tt := range tests {
			got, err := fillPath(tt.tmpl, tt.args)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("fillPath(%q, %q) = %q, %v; want %q, err=%v", tt.tmpl, tt.args, got, err, tt.want, tt.wantErr)
			}
		}
	})
	t.Run("parseAPIError", func(t *testing.T) {
		tests := []struct {
			body, code, msg string
		}{
			{`{"errors":[{"code":"SCOPE_MISSING","message":"Scope is missing: x"}]}`, "SCOPE_MISSING", "Scope is missing: x"},
			{`{"errors":{"code":"ROUTE_NOT_FOUND","message":"nope"}}`, "ROUTE_NOT_FOUND", "nope"},
			{``, "", ""},
			{`<html>`, "", ""},
		}
		for _, tt := range tests {
			e := parseAPIError("op", 400, []byte(tt.body))
			if e.Code != tt.code || e.Message != tt.msg {
				t.Errorf("parseAPIError(%s) = %q %q", tt.body, e.Code, e.Message)
			}
		}
	})
	t.Run("rateLimitWait", func(t *testing.T) {
		tests := []struct {
			h    http.Header
			want time.Duration
		}{
			{http.Header{"Ratelimit-Reset": {"30"}}, 30 * time.Second},
			{http.Header{"Ratelimit-Reset": {"0.5"}}, 500 * time.Millisecond},
			{http.Header{"Retry-After": {"2"}}, 2 * time.Second},
			{http.Header{"Ratelimit-Reset": {"soon"}}, -1},
			{http.Header{}, -1},
		}
		for _, tt := range tests {
			if got := rateLimitWait(tt.h); got != tt.want {
				t.Errorf("rateLimitWait(%v) = %v, want %v", tt.h, got, tt.want)
			}
		}
	})
	t.Run("fullJitter", func(t *testing.T) {
		b := fullJitter(200*time.Millisecond, 5*time.Second)
		for attempt, ceiling := range map[int]time.Duration{1: 200 * time.Millisecond, 3: 800 * time.Millisecond, 10: 5 * time.Second, 100: 5 * time.Second} {
			for range 50 {
				if d := b(attempt); d < 0 || d > ceiling {
					t.Fatalf("attempt %d: %v outside [0, %v]", attempt, d, ceiling)
				}
			}
		}
	})
	t.Run("parseKindeTime", func(t *testing.T) {
		for in, want := range map[string]string{
			"2024-05-01T17:41:45.592145+10:00": "2024-05-01T07:41:45Z",
			"2024-11-18T13:32:03+11":           "2024-11-18T02:32:03Z",
			"2021-01-01T00:00:00Z":             "2021-01-01T00:00:00Z",
			"":                                 "0001-01-01T00:00:00Z",
		} {
			if got := parseKindeTime(in).Format(time.RFC3339); got != want {
				t.Errorf("parseKindeTime(%q) = %s, want %s", in, got, want)
			}
		}
	})
}
