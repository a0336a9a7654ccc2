package emulator_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// tokenFor gets an M2M token for the app with the given audience.
func tokenFor(t *testing.T, e *emulator.Emulator, app, audience string) string {
	t.Helper()
	id, secret := emulatortest.App(t, e, app)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "audience": {audience}}
	req, _ := http.NewRequestWithContext(t.Context(), "POST", e.Issuer()+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token for %s: %d %v", audience, resp.StatusCode, err)
	}
	return tok.AccessToken
}

func TestManagementAPIAuth(t *testing.T) {
	e := emulatortest.Start(t, emulatortest.WithSeed(func(s *emulator.Seed) {
		for i := range s.Apps {
			if s.Apps[i].Name == emulator.SeedManagementApp {
				s.Apps[i].APIAudiences = []string{emulator.SeedAPIAudience}
			}
		}
	}))
	stranger := emulatortest.Start(t)
	tests := []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"issuer audience", tokenFor(t, e, emulator.SeedManagementApp, e.Issuer()+"/api"), 200, ""},
		{"kinde-go style audience", tokenFor(t, e, emulator.SeedManagementApp, "https://127.0.0.1.kinde.com/api"), 200, ""},
		{"business subdomain audience", tokenFor(t, e, emulator.SeedManagementApp, "https://clubhouse.kinde.com/api"), 200, ""},
		{"wrong audience", tokenFor(t, e, emulator.SeedManagementApp, emulator.SeedAPIAudience), 403, "INVALID_AUDIENCE"},
		{"missing scope", emulatortest.Token(t, e, emulator.SeedReporterApp), 403, "SCOPE_MISSING"},
		{"another emulator's key", emulatortest.Token(t, stranger, emulator.SeedManagementApp), 401, "UNAUTHORIZED"},
		{"no token", "", 401, "UNAUTHORIZED"},
		{"tampered", emulatortest.Token(t, e, emulator.SeedManagementApp) + "x", 401, "UNAUTHORIZED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mgmtCall(t.Context(), t, e, tc.token, "GET", "/api/v1/organizations", "")
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if tc.code != "" && !strings.Contains(string(r.raw), `"code":"`+tc.code+`"`) {
				t.Errorf("body %s, want code %s", r.raw, tc.code)
			}
		})
	}
}

// TestRoleChangeReachesWorld proves the Management API and the OP
// share one world: after a role is granted through the API, the member's
// claims (computed from the world) include it.
func TestRoleChangeReachesWorld(t *testing.T) {
	e := emulatortest.Start(t)
	tok := emulatortest.Token(t, e, emulator.SeedManagementApp)
	mia, _ := e.World().UserByEmail("mia@example.org")
	body := `{"users":[{"id":"` + mia.ID + `","roles":["admin"]}]}`
	if r := mgmtCall(t.Context(), t, e, tok, "PATCH", "/api/v1/organizations/"+emulator.SeedRiversideOrgCode+"/users", body); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	got := e.World().MemberPermissionKeys(emulator.SeedRiversideOrgCode, mia.ID)
	if strings.Join(got, " ") != "members:read members:write" {
		t.Errorf("mia's permissions = %v", got)
	}
}
