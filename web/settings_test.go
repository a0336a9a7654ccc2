package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

func TestSettingsPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	d := doc(t, b.get("/settings"))
	if got := d.Find(`#club-name`).AttrOr("value", ""); got != riversideClub.Name {
		t.Errorf("club name field = %q, want %q", got, riversideClub.Name)
	}
	if got := testid(d, "settings-signin-url").Text(); got != "http://portal.test/auth/login?org_code="+riverside {
		t.Errorf("sign-in link = %q", got)
	}
	if got := testid(d, "settings-club-code").Text(); got != riverside {
		t.Errorf("club code = %q", got)
	}
	if d.Find(`nav.sidenav a[href="/settings"][aria-current="page"]`).Length() != 1 {
		t.Error("Settings is not the current item of the left nav")
	}

	// Admins manage members, not the club: no Settings for them.
	a := e.browser()
	a.signIn(adam)
	if doc(t, a.get("/members")).Find(`nav.sidenav a[href="/settings"]`).Length() != 0 {
		t.Error("an admin without club:manage sees Settings in the nav")
	}
	for _, res := range []*http.Response{a.get("/settings"), a.post("/settings", formOf("name", "Adam's Club"))} {
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("admin %s /settings: status %d, want 403", res.Request.Method, res.StatusCode)
		}
	}
	if e.kinde.calls.Load() != 0 {
		t.Errorf("refused requests called Kinde %d times", e.kinde.calls.Load())
	}
}

func TestRenameClub(t *testing.T) {
	e := newEnv(t)
	var renamed []string
	e.kinde.RenameClubFunc = func(code, name string) error {
		renamed = append(renamed, code+" "+name)
		return nil
	}
	b := e.browser()
	b.signIn(olivia)

	res := b.post("/settings", formOf("name", "  Riverside Rowing & Sculling  "))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings" {
		t.Fatalf("rename: %d to %q, want 303 to /settings", res.StatusCode, res.Header.Get("Location"))
	}
	if len(renamed) != 1 || renamed[0] != riverside+" Riverside Rowing & Sculling" {
		t.Errorf("Kinde renames = %q", renamed)
	}
	if got := b.flashTexts("/settings"); len(got) != 1 || got[0] != "The club is now called Riverside Rowing & Sculling." {
		t.Errorf("flash = %q", got)
	}
	if c := e.dir.clubs[riverside]; c.Name != "Riverside Rowing & Sculling" {
		t.Errorf("directory club = %+v", c)
	}
	if ev := e.dir.audit[len(e.dir.audit)-1]; ev.Action != club.ActionClubRenamed || ev.ActorID != "kp_olivia" || ev.Detail != "Riverside Rowing Club → Riverside Rowing & Sculling" {
		t.Errorf("audit = %+v", ev)
	}
	if _, stale := e.dir.stale["kp_olivia"]; !stale {
		t.Error("the owner's token was not marked for refresh, so the header would keep the old name")
	}
}

func TestRenameClubBadInputAndFaults(t *testing.T) {
	for _, tc := range []struct {
		name       string
		newName    string
		kinde      error
		wantStatus int
		wantField  string // error next to the name field
		wantForm   string // error above the form
	}{
		{"too short", "R", nil, http.StatusUnprocessableEntity, "at least 2 characters", ""},
		{"300 characters", strings.Repeat("x", 300), nil, http.StatusUnprocessableEntity, "at most 80 characters", ""},
		{"empty", "   ", nil, http.StatusUnprocessableEntity, "Enter a club name", ""},
		{"Kinde down", "New Name", club.Errorf(club.EUNAVAILABLE, "Kinde did not answer. Nothing was changed."), http.StatusServiceUnavailable, "", "Kinde did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.kinde.RenameClubFunc = func(string, string) error { return tc.kinde }
			b := e.browser()
			b.signIn(olivia)
			writes := e.dir.writes.Load()
			res := b.post("/settings", formOf("name", tc.newName))
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d", res.StatusCode, tc.wantStatus)
			}
			d := doc(t, res)
			if got := d.Find(`#club-name`).AttrOr("value", "<none>"); got != tc.newName && strings.TrimSpace(got) != strings.TrimSpace(tc.newName) {
				t.Errorf("the field lost what was typed: %q", got)
			}
			if tc.wantField != "" && !strings.Contains(d.Find(`#club-name-error`).Text(), tc.wantField) {
				t.Errorf("field error = %q, want %q in it", d.Find(`#club-name-error`).Text(), tc.wantField)
			}
			if tc.wantForm != "" && !strings.Contains(testid(d, "form-error").Text(), tc.wantForm) {
				t.Errorf("form error = %q, want %q in it", testid(d, "form-error").Text(), tc.wantForm)
			}
			if got := e.dir.writes.Load() - writes; got != 0 {
				t.Errorf("%d directory writes, want none", got)
			}
		})
	}
}
