package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
	"github.com/clubhouse/clubhouse/internal/kinde/kindespec"
)

// apiClient drives the Management API through the spec-validating transport.
type apiClient struct {
	t      *testing.T
	base   string
	http   *http.Client
	bearer string
}

// apiResult is a decoded response.
type apiResult struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func newAPIClient(t *testing.T, spec *kindespec.Spec, e *emulator.Emulator, bearer string) *apiClient {
	t.Helper()
	return &apiClient{
		t:      t,
		base:   e.Issuer(),
		http:   &http.Client{Transport: kindespec.NewValidatingTransport(t, spec, nil)},
		bearer: bearer,
	}
}

func (c *apiClient) do(ctx context.Context, method, path string, body any) apiResult {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		c.t.Fatalf("request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	res := apiResult{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &res.body); err != nil {
			c.t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
		}
	}
	return res
}

// must runs a call and fails the test unless it answers want.
func (c *apiClient) must(want int, method, path string, body any) apiResult {
	c.t.Helper()
	res := c.do(c.t.Context(), method, path, body)
	if res.status != want {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, res.status, want, res.raw)
	}
	return res
}

func cStr(m map[string]any, keys ...string) string {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[k]
	}
	s, _ := v.(string)
	return s
}

func cList(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

func firstErrorCode(m map[string]any) string {
	switch errs := m["errors"].(type) {
	case []any:
		if len(errs) > 0 {
			e, _ := errs[0].(map[string]any)
			return cStr(e, "code")
		}
	case map[string]any:
		return cStr(errs, "code")
	}
	return ""
}

// TestContract drives a full portal-like scenario through a transport that
// validates every request and response against the closed Kinde spec.
func TestContract(t *testing.T) {
	spec := kindespec.Load(t)
	// The portal's app lacks these scopes; the scenario also covers them.
	e := emulatortest.Start(t, emulatortest.WithSeed(func(s *emulator.Seed) {
		for i := range s.Apps {
			if s.Apps[i].Name == emulator.SeedManagementApp {
				s.Apps[i].Scopes = append(s.Apps[i].Scopes, "read:organization_user_permissions", "create:roles", "delete:organizations")
			}
		}
	}))
	api := newAPIClient(t, spec, e, emulatortest.Token(t, e, emulator.SeedManagementApp))
	ctx := t.Context()

	// Organizations.
	org := api.must(200, "POST", "/api/v1/organization", map[string]any{"name": "Lakeside Canoe Club", "external_id": "lcc-1"})
	code := cStr(org.body, "organization", "code")
	if !strings.HasPrefix(code, "org_") || len(code) != 15 {
		t.Fatalf("org code %q, want org_ + 11 hex", code)
	}
	got := api.must(200, "GET", "/api/v1/organization?code="+code, nil)
	if cStr(got.body, "name") != "Lakeside Canoe Club" || cStr(got.body, "external_id") != "lcc-1" {
		t.Fatalf("getOrganization: %s", got.raw)
	}
	api.must(200, "PATCH", "/api/v1/organization/"+code, map[string]any{"name": "Lakeside Canoe & Kayak Club"})
	orgs := api.must(200, "GET", "/api/v1/organizations?sort=name_asc&page_size=2", nil)
	if len(cList(orgs.body, "organizations")) != 2 || cStr(orgs.body, "next_token") == "" {
		t.Fatalf("getOrganizations page 1: %s", orgs.raw)
	}

	// People.
	newUser := map[string]any{
		"profile":           map[string]any{"given_name": "Pia", "family_name": "Lund"},
		"organization_code": code,
		"identities":        []any{map[string]any{"type": "email", "is_verified": true, "details": map[string]any{"email": "pia@example.org"}}},
	}
	created := api.must(200, "POST", "/api/v1/user", newUser)
	pia := cStr(created.body, "id")
	if !strings.HasPrefix(pia, "kp_") || created.body["created"] != true {
		t.Fatalf("createUser: %s", created.raw)
	}
	dup := api.must(400, "POST", "/api/v1/user", newUser)
	if got, want := firstErrorCode(dup.body), "EMAIL_ALREADY_IN_USE"; got != want {
		t.Fatalf("duplicate createUser code %q, want %q", got, want)
	}
	users := api.must(200, "GET", "/api/v1/users?email="+url.QueryEscape("PIA@example.org,nora@example.org")+"&expand=organizations", nil)
	if n := len(cList(users.body, "users")); n != 2 {
		t.Fatalf("getUsers by email: %d users, want 2: %s", n, users.raw)
	}
	user := api.must(200, "GET", "/api/v1/user?id="+pia+"&expand=organizations,identities", nil)
	if cStr(user.body, "preferred_email") != "pia@example.org" {
		t.Fatalf("getUserData: %s", user.raw)
	}
	api.must(200, "PATCH", "/api/v1/user?id="+pia, map[string]any{"given_name": "Pia Maria"})
	search := api.must(200, "GET", "/api/v1/search/users?query=pia&page_size=5", nil)
	if len(cList(search.body, "results")) != 1 {
		t.Fatalf("searchUsers: %s", search.raw)
	}

	// Members and their roles.
	nora, _ := e.World().UserByEmail("nora@example.org")
	added := api.must(200, "POST", "/api/v1/organizations/"+code+"/users", map[string]any{
		"users": []any{map[string]any{"id": nora.ID, "roles": []string{"admin"}}, map[string]any{"id": pia}},
	})
	if got := cList(added.body, "users_added"); len(got) != 1 || got[0] != nora.ID {
		t.Fatalf("AddOrganizationUsers users_added = %v, want [nora] (pia is already a member)", got)
	}
	upd := api.must(200, "PATCH", "/api/v1/organizations/"+code+"/users", map[string]any{
		"users": []any{map[string]any{"id": nora.ID, "roles": []string{"owner"}}},
	})
	if got := cList(upd.body, "users_updated"); len(got) != 1 {
		t.Fatalf("UpdateOrganizationUsers: %s", upd.raw)
	}
	if got := e.World().MemberPermissionKeys(code, nora.ID); strings.Join(got, " ") != "club:manage members:read members:write" {
		t.Fatalf("nora's permissions after update = %v", got)
	}
	var ids []string
	next := ""
	for page := 0; ; page++ {
		q := "/api/v1/organizations/" + code + "/users?sort=email_asc&page_size=1"
		if next != "" {
			q += "&next_token=" + url.QueryEscape(next)
		}
		res := api.must(200, "GET", q, nil)
		for _, u := range cList(res.body, "organization_users") {
			ids = append(ids, cStr(u.(map[string]any), "id"))
		}
		next = cStr(res.body, "next_token")
		if next == "" || page > 5 {
			break
		}
	}
	if len(ids) != 2 || ids[0] != nora.ID || ids[1] != pia {
		t.Fatalf("paged org users (email_asc) = %v, want [nora pia]", ids)
	}
	admins := api.must(200, "GET", "/api/v1/organizations/"+code+"/users?roles=admin,owner", nil)
	if len(cList(admins.body, "organization_users")) != 1 {
		t.Fatalf("roles filter: %s", admins.raw)
	}

	coach, _ := e.World().RoleByKey("coach")
	rolesPath := "/api/v1/organizations/" + code + "/users/" + nora.ID + "/roles"
	api.must(200, "POST", rolesPath, map[string]any{"role_id": coach.ID})
	roles := api.must(200, "GET", rolesPath, nil)
	if len(cList(roles.body, "roles")) != 3 {
		t.Fatalf("GetOrganizationUserRoles: %s", roles.raw)
	}
	api.must(200, "DELETE", rolesPath+"/"+coach.ID, nil)
	perms := api.must(200, "GET", "/api/v1/organizations/"+code+"/users/"+nora.ID+"/permissions?expand=roles", nil)
	if len(cList(perms.body, "permissions")) != 3 {
		t.Fatalf("GetOrganizationUserPermissions: %s", perms.raw)
	}
	api.must(200, "DELETE", "/api/v1/organizations/"+code+"/users/"+nora.ID, nil)
	if e.World().IsMember(code, nora.ID) {
		t.Fatal("nora is still a member after RemoveOrganizationUser")
	}

	// Business-wide roles and permissions.
	allRoles := api.must(200, "GET", "/api/v1/roles?sort=key_asc&page_size=500", nil)
	if len(cList(allRoles.body, "roles")) != 5 {
		t.Fatalf("GetRoles: %s", allRoles.raw)
	}
	newRole := api.must(201, "POST", "/api/v1/roles", map[string]any{"name": "Treasurer", "key": "treasurer"})
	api.must(200, "GET", "/api/v1/roles/"+cStr(newRole.body, "role", "id"), nil)
	api.must(200, "GET", "/api/v1/permissions", nil)

	// Claims.
	before := e.World().ClaimsVersion(pia)
	api.must(200, "POST", "/api/v1/users/"+pia+"/refresh_claims", nil)
	if e.World().ClaimsVersion(pia) != before+1 {
		t.Fatal("refresh_claims did not bump the claims version")
	}

	// Invitations.
	inv := api.must(201, "POST", "/api/v1/organization/"+code+"/invites", map[string]any{
		"email": "quinn@example.org", "first_name": "Quinn", "roles": []string{"member"},
	})
	invCode := cStr(inv.body, "invite", "code")
	if cStr(inv.body, "code") != "INVITATION_CREATED" || !strings.HasPrefix(invCode, "inv_") {
		t.Fatalf("createOrganizationInvite: %s", inv.raw)
	}
	api.must(200, "GET", "/api/v1/organization/"+code+"/invites?sort=created_on_desc", nil)
	api.must(200, "GET", "/api/v1/organization/"+code+"/invites/"+invCode, nil)
	api.must(200, "DELETE", "/api/v1/organization/"+code+"/invites/"+invCode, nil)
	api.must(404, "DELETE", "/api/v1/organization/"+code+"/invites/inv_nope", nil)

	// Webhooks.
	hook := api.must(200, "POST", "/api/v1/webhooks", map[string]any{
		"name": "Portal", "endpoint": "http://127.0.0.1:9/kinde/webhook", "event_types": []string{"user.updated"},
	})
	hookID := cStr(hook.body, "webhook", "id")
	api.must(200, "GET", "/api/v1/webhooks", nil)
	api.must(200, "PATCH", "/api/v1/webhooks/"+hookID, map[string]any{"event_types": []string{"user.updated", "user.deleted"}})
	api.must(200, "DELETE", "/api/v1/webhooks/"+hookID, nil)

	// Deletions.
	api.must(200, "DELETE", "/api/v1/user?id="+pia, nil)
	api.must(200, "DELETE", "/api/v1/organization/"+code, nil)
	api.must(404, "DELETE", "/api/v1/organization/"+code, nil)

	// Errors.
	nf := api.do(kindespec.ExpectUnknownRoute(ctx), "GET", "/api/v1/no_such_thing", nil)
	if nf.status != 404 || firstErrorCode(nf.body) != "ROUTE_NOT_FOUND" {
		t.Fatalf("unknown route: %d %s", nf.status, nf.raw)
	}
	reporter := newAPIClient(t, spec, e, emulatortest.Token(t, e, emulator.SeedReporterApp))
	miss := reporter.must(403, "GET", "/api/v1/organizations", nil)
	if got, want := string(bytes.TrimSpace(miss.raw)), `{"errors":[{"code":"SCOPE_MISSING","message":"Scope is missing: read:organizations"}]}`; got != want {
		t.Fatalf("missing scope body = %s, want %s", got, want)
	}
	for _, bearer := range []string{"", "garbage", "a.b.c"} {
		bad := newAPIClient(t, spec, e, bearer)
		res := bad.must(401, "GET", "/api/v1/users", nil)
		if firstErrorCode(res.body) != "UNAUTHORIZED" {
			t.Fatalf("bad bearer %q: %s", bearer, res.raw)
		}
	}
	invalid := kindespec.ExpectInvalidRequest(ctx)
	for name, tc := range map[string]struct{ method, path, body, code string }{
		"malformed JSON": {"POST", "/api/v1/organization", `{"name":`, "INVALID_JSON"},
		"unknown field":  {"POST", "/api/v1/organization", `{"name":"X","colour":"red"}`, "UNKNOWN_FIELD"},
		"wrong type":     {"POST", "/api/v1/organization", `{"name":42}`, "INVALID_TYPE"},
		"page_size 501":  {"GET", "/api/v1/users?page_size=501", "", "PAGE_SIZE_LIMIT_EXCEEDED"},
		"too many users": {"POST", "/api/v1/organizations/" + emulator.SeedRiversideOrgCode + "/users", tooManyUsers(), "TOO_MANY_USERS"},
	} {
		t.Run(name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			res := api.do(invalid, tc.method, tc.path, body)
			if res.status != 400 || firstErrorCode(res.body) != tc.code {
				t.Fatalf("status %d body %s, want 400 %s", res.status, res.raw, tc.code)
			}
		})
	}
}

func tooManyUsers() string {
	users := make([]map[string]string, 101)
	for i := range users {
		users[i] = map[string]string{"id": "kp_00000000000000000000000000000000"}
	}
	b, _ := json.Marshal(map[string]any{"users": users})
	return string(b)
}
