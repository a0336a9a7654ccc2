package web

import (
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

// TestRouteTableAccess walks the route table: every route is listed here
// with the access it must have, every state-changing route needs a
// signed-in person and the right permission, and the portal really refuses
// them without.
func TestRouteTableAccess(t *testing.T) {
	want := map[string]struct {
		access access
		perm   string
	}{
		"GET /{$}":                  {anyone, ""},
		"GET /auth/login":           {anyone, ""},
		"GET /auth/callback":        {anyone, ""},
		"POST /auth/logout":         {signedIn, ""},
		"GET /auth/switch":          {signedIn, ""},
		"POST /auth/switch":         {signedIn, ""},
		"GET /onboarding":           {signedIn, ""},
		"POST /onboarding":          {signedIn, ""},
		"GET /club":                 {inClub, ""},
		"GET /members":              {inClub, club.PermMembersRead},
		"GET /members/new":          {inClub, club.PermMembersWrite},
		"POST /members":             {inClub, club.PermMembersWrite},
		"POST /members/refresh":     {inClub, club.PermMembersWrite},
		"GET /members/{id}/roles":   {inClub, club.PermMembersWrite},
		"POST /members/{id}/roles":  {inClub, club.PermMembersWrite},
		"GET /members/{id}/remove":  {inClub, club.PermMembersWrite},
		"POST /members/{id}/remove": {inClub, club.PermMembersWrite},
		"GET /activity":             {inClub, club.PermClubManage},
		"GET /staff":                {staffOnly, ""},
		"GET /staff/clubs/{code}":   {staffOnly, ""},
		"POST /staff/view-as":       {staffOnly, ""},
		"POST /staff/view-as/stop":  {staffOnly, ""},
		"GET /staff/audit":          {staffOnly, ""},
		"GET /dev/mailbox":          {anyone, ""},
		"GET /dev/mailbox/{id}":     {anyone, ""},
		"POST /members/{id}/invite": {inClub, club.PermMembersWrite},
		"GET /invitations":          {inClub, club.PermMembersWrite},
		"GET /settings":             {inClub, club.PermClubManage},
		"POST /settings":            {inClub, club.PermClubManage},
		"GET /healthz":              {open, ""},
		"GET /readyz":               {open, ""},
		"GET /static/":              {open, ""},
	}
	e := newEnv(t)
	s, err := newServer(Deps{Service: club.NewService(e.dir, e.kinde, nil, nil), Directory: e.dir, AuditLog: e.audit, Invitations: e.dir, Auth: e.auth,
		Roles: &fakeRoles{}, Freshness: e.fresh, Sessions: e.records, Assets: mustAssets(t), DevMailbox: e.mailbox})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rt := range s.routes {
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		w, ok := want[key]
		if !ok {
			t.Errorf("route %s is not in this test's table: add it with its access", key)
			continue
		}
		if rt.Access != w.access || rt.Permission != w.perm {
			t.Errorf("%s: access %v %q, want %v %q", key, rt.Access, rt.Permission, w.access, w.perm)
		}
		if rt.Method != http.MethodGet && rt.Access < signedIn {
			t.Errorf("%s changes state without a signed-in person", key)
		}
		if rt.Method != http.MethodGet && strings.HasPrefix(rt.Pattern, "/members") && rt.Permission != club.PermMembersWrite {
			t.Errorf("%s changes members without %s", key, club.PermMembersWrite)
		}
		if rt.Access != staffOnly && (strings.Contains(rt.Pattern, "org_code") || strings.Contains(rt.Pattern, "{club") || strings.Contains(rt.Pattern, "{code")) {
			t.Errorf("%s takes a club from the URL", key)
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("route %s is missing", key)
		}
	}

	// Behaviour: every state-changing route refuses a visitor (sign-in
	// redirect) and, where it needs a permission, a plain member (403),
	// and nothing is written either way.
	for _, rt := range s.routes {
		if rt.Method == http.MethodGet {
			continue
		}
		target := strings.ReplaceAll(rt.Pattern, "{id}", "kp_mia")
		t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
			e := newEnv(t)
			form := url.Values{"email": {"ana@example.org"}, "roles": {"member"}, "name": {"Club"}}
			res := e.browser().post(target, form)
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/auth/login") {
				t.Errorf("visitor: %d %q, want a sign-in redirect", res.StatusCode, res.Header.Get("Location"))
			}
			if rt.Permission != "" {
				b := e.browser()
				b.signIn(mia)
				if res := b.post(target, form); res.StatusCode != http.StatusForbidden {
					t.Errorf("member without %s: %d, want 403", rt.Permission, res.StatusCode)
				}
			}
			if w, c := e.dir.writes.Load(), e.kinde.calls.Load(); w != 0 || c != 0 {
				t.Errorf("writes = %d, Kinde calls = %d; want 0, 0", w, c)
			}
		})
	}
}

func TestNoMailboxRoutesOutsideDev(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.DevMailbox = nil })
	if res := e.browser().get("/dev/mailbox"); res.StatusCode != http.StatusNotFound {
		t.Errorf("/dev/mailbox without a mailbox = %d, want 404", res.StatusCode)
	}
}

// TestDependencies keeps web off the adapters: Kinde, the database and mail
// reach it only through interfaces.
func TestDependencies(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"internal/store", "internal/kinde", "internal/mail"} {
			if strings.HasSuffix(dep, "clubhouse/"+banned) || strings.Contains(dep, "clubhouse/"+banned+"/") {
				t.Errorf("web depends on %s", dep)
			}
		}
	}
}
