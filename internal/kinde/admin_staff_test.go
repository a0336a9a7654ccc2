package kinde

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

func TestClubsAgainstEmulator(t *testing.T) {
	e := emulatortest.Start(t)
	a, _ := newEmulatorAdmin(t, e, nil)
	ctx := t.Context()
	got, err := a.Clubs(ctx)
	if err != nil {
		t.Fatalf("Clubs: %v", err)
	}
	want := []club.Club{
		{Code: emulator.SeedStaffOrgCode, Name: "Clubhouse Staff"},
		{Code: "org_f1930dfcfbc", Name: "Harbour Sailing Club"},
		{Code: "org_0e2d022a42a", Name: "Hilltop Tennis Club"},
		{Code: emulator.SeedRiversideOrgCode, Name: "Riverside Rowing Club"},
	}
	for _, c := range want {
		if !slices.Contains(got, c) {
			t.Errorf("Clubs lacks %+v; got %+v", c, got)
		}
	}
	if !slices.IsSortedFunc(got, func(x, y club.Club) int { return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)) }) {
		t.Errorf("Clubs not sorted by name: %+v", got)
	}
	// A second call within the cache's lifetime asks Kinde nothing.
	before := e.RequestCount("getOrganizations")
	if _, err := a.Clubs(ctx); err != nil {
		t.Fatalf("Clubs again: %v", err)
	}
	if after := e.RequestCount("getOrganizations"); after != before {
		t.Errorf("getOrganizations calls: %d then %d, want the cache to answer", before, after)
	}
}

// TestClubsFollowsPages makes more clubs than one page holds.
func TestClubsFollowsPages(t *testing.T) {
	e := emulatortest.Start(t)
	a, _ := newEmulatorAdmin(t, e, nil)
	for i := range membersPageSize + 3 {
		if _, err := e.World().CreateOrg(fmt.Sprintf("Club %03d", i), emulator.SourceAPI); err != nil {
			t.Fatalf("create org: %v", err)
		}
	}
	got, err := a.Clubs(t.Context())
	if err != nil {
		t.Fatalf("Clubs: %v", err)
	}
	if n := len(got); n != membersPageSize+3+4 {
		t.Errorf("clubs = %d, want %d", n, membersPageSize+3+4)
	}
	if n := e.RequestCount("getOrganizations"); n != 2 {
		t.Errorf("getOrganizations calls = %d, want 2 pages", n)
	}
}

func TestRolePermissionsAgainstEmulator(t *testing.T) {
	e := emulatortest.Start(t)
	a, _ := newEmulatorAdmin(t, e, nil)
	tests := []struct {
		name  string
		roles []string
		want  []string
	}{
		{"owner", []string{club.RoleOwner}, []string{club.PermClubManage, club.PermMembersRead, club.PermMembersWrite}},
		{"admin", []string{club.RoleAdmin}, []string{club.PermMembersRead, club.PermMembersWrite}},
		{"coach and member", []string{club.RoleCoach, club.RoleMember}, []string{club.PermMembersRead}},
		{"member", []string{club.RoleMember}, []string{}},
		{"unknown role grants nothing", []string{"no-such-role", club.RoleCoach}, []string{club.PermMembersRead}},
		{"no roles", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.RolePermissions(t.Context(), tt.roles)
			if err != nil {
				t.Fatalf("RolePermissions: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	// Each role was asked once; the answers are cached.
	calls := e.RequestCount("GetRolePermissions")
	if _, err := a.RolePermissions(t.Context(), []string{club.RoleOwner, club.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if got := e.RequestCount("GetRolePermissions"); got != calls || calls != 4 {
		t.Errorf("GetRolePermissions calls = %d then %d, want 4 (one per role) and no more", calls, got)
	}
	// The role list is read once: an unknown key does not refresh it.
	if got := e.RequestCount("GetRoles"); got != 1 {
		t.Errorf("GetRoles calls = %d, want 1", got)
	}
}

// TestListingsRefuseRepeatedPageToken: a listing whose next_token comes
// back unchanged is an error, not a short list (which Clubs and the role
// caches would then keep), and nothing is cached from it.
func TestListingsRefuseRepeatedPageToken(t *testing.T) {
	f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/api/v1/organizations":
			writeJSON(w, 200, `{"code":"OK","message":"Success","organizations":[{"code":"org_0123456789a","name":"A"}],"next_token":"again"}`)
		case "/api/v1/roles":
			writeJSON(w, 200, `{"code":"OK","message":"Success","roles":[{"id":"r-owner","key":"owner","name":"Owner"}],"next_token":"again"}`)
		case "/api/v1/organizations/org_0123456789a/users":
			writeJSON(w, 200, `{"code":"OK","message":"Success","organization_users":[{"id":"kp_1","roles":[]}],"next_token":"again"}`)
		default:
			writeJSON(w, 404, `{"errors":[{"code":"ROUTE_NOT_FOUND","message":"no"}]}`)
		}
	})
	a, _ := newTestAdmin(t, f, nil)
	ctx := t.Context()
	calls := []struct {
		name string
		call func() error
	}{
		{"clubs", func() error { _, err := a.Clubs(ctx); return err }},
		{"roles", func() error { _, err := a.Roles(ctx); return err }},
		{"club members", func() error { _, err := a.ClubMembers(ctx, "org_0123456789a"); return err }},
	}
	for _, c := range calls {
		for try := range 2 { // the second try must ask Kinde again
			before := len(f.apiRequests())
			err := c.call()
			if err == nil || !strings.Contains(err.Error(), "next_token repeated") {
				t.Errorf("%s (try %d): err = %v, want a repeated next_token error", c.name, try+1, err)
			}
			if got := len(f.apiRequests()) - before; got != 2 {
				t.Errorf("%s (try %d): %d calls, want 2 (the first page, then the repeated token)", c.name, try+1, got)
			}
		}
	}
}

func TestRolePermissionsRefusesRepeatedPageToken(t *testing.T) {
	f := newFakeKinde(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/api/v1/roles":
			writeJSON(w, 200, rolesBody)
		case "/api/v1/roles/r-owner/permissions":
			writeJSON(w, 200, `{"code":"OK","message":"Success","permissions":[{"id":"p1","key":"club:manage"}],"next_token":"again"}`)
		default:
			writeJSON(w, 404, `{"errors":[{"code":"ROUTE_NOT_FOUND","message":"no"}]}`)
		}
	})
	a, _ := newTestAdmin(t, f, nil)
	got, err := a.RolePermissions(t.Context(), []string{club.RoleOwner})
	if err == nil || !strings.Contains(err.Error(), "next_token repeated") {
		t.Errorf("RolePermissions = %v, %v; want a repeated next_token error", got, err)
	}
}
