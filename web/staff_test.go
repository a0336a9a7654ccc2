package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
)

// TestViewAsOwner walks a staff view from the start: it is recorded with
// the reason, IP and user agent; pages render as the owner sees them,
// with the banner, and each is recorded; the staff person's own sign-in
// is untouched.
func TestViewAsOwner(t *testing.T) {
	e := newStaffEnv(t)
	b := e.staffBrowser()
	b.startViewAs(riverside, club.ViewAsOwner)

	started := e.audit.withAction(club.ActionViewAsStarted)
	if len(started) != 1 {
		t.Fatalf("start rows = %d, want 1", len(started))
	}
	want := club.AuditEvent{ClubCode: riverside, ActorID: "kp_sam", ActorName: "Sam Rivera (Clubhouse staff)",
		Action: club.ActionViewAsStarted, TargetID: "kp_olivia", TargetEmail: "olivia@example.org",
		Detail: "Reason: " + goodReason, At: t0, IP: "192.0.2.1", UserAgent: "Mozilla/5.0 (staff laptop)"}
	if got := started[0]; got != want {
		t.Errorf("start row:\n got %+v\nwant %+v", got, want)
	}

	// Home sends the owner to the members page, as it would Olivia.
	res := b.get("/")
	if got := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || got != "/members" {
		t.Fatalf("home: %d %q, want the owner's members page", res.StatusCode, got)
	}
	d := doc(t, b.get("/members"))
	banner := testid(d, "staff-banner")
	for _, w := range []string{"Sam Rivera", "Olivia Hart", "Riverside Rowing Club", "30 minutes left.", "Nothing can be changed."} {
		if !strings.Contains(banner.Text(), w) {
			t.Errorf("banner %q lacks %q", strings.Join(strings.Fields(banner.Text()), " "), w)
		}
	}
	if got := testid(d, "member-row").Length(); got != 3 {
		t.Errorf("member rows = %d, want Riverside's 3", got)
	}
	if d.Find(`[data-testid="member-row"][data-email="olivia@example.org"] .tag`).Text() != "You" {
		t.Error("the owner's own row is not marked as theirs")
	}
	if d.Find(`a.sidenav__link[href="/activity"]`).Length() != 1 {
		t.Error("the owner's admin navigation is missing")
	}
	if got := e.audit.withAction(club.ActionViewAsPage); len(got) != 2 || got[0].Detail != "/" || got[1].Detail != "/members" {
		t.Errorf("page rows = %+v, want / and /members", got)
	}

	// Ten minutes later the banner counts down; the staff session is Sam's.
	e.advance(10 * time.Minute)
	d = doc(t, b.get("/activity"))
	if !strings.Contains(testid(d, "staff-banner").Text(), "20 minutes left.") {
		t.Errorf("banner after 10 minutes: %q", testid(d, "staff-banner").Text())
	}
	rec := e.records.rows[session.RecordKey(b.sessionCookie().Value)]
	if !strings.Contains(string(rec.data), `"at-kp_sam"`) || strings.Contains(string(rec.data), "at-kp_olivia") {
		t.Error("the session no longer holds only Sam's own tokens")
	}
	if e.auth.refreshes.Load() != 0 || e.auth.exchanges.Load() != 1 {
		t.Errorf("Kinde sign-in calls: %d refreshes, %d exchanges; want none for the view", e.auth.refreshes.Load(), e.auth.exchanges.Load())
	}
	if e.dir.writes.Load() != 0 || e.kinde.calls.Load() != 0 {
		t.Errorf("directory writes %d, Kinde calls %d; want 0", e.dir.writes.Load(), e.kinde.calls.Load())
	}
}

// TestViewAsMember renders pages with the member's roles: no admin pages.
func TestViewAsMember(t *testing.T) {
	e := newStaffEnv(t)
	b := e.staffBrowser()
	b.startViewAs(riverside, "kp_mia")
	if got := b.get("/").Header.Get("Location"); got != "/club" {
		t.Errorf("home sends Mia to %q, want /club", got)
	}
	d := doc(t, b.get("/club"))
	if got := strings.TrimSpace(testid(d, "role-badge").Text()); got != "Member" {
		t.Errorf("roles on club home = %q, want Member", got)
	}
	if testid(d, "staff-banner").Length() != 1 {
		t.Error("no banner on club home")
	}
	if res := b.get("/members"); res.StatusCode != http.StatusForbidden {
		t.Errorf("/members as a member = %d, want 403", res.StatusCode)
	}
	// The member's other clubs are not shown: the view is of one club.
	if testid(d, "other-clubs").Length() != 0 {
		t.Error("the view lists other clubs")
	}
}

// TestViewAsIsReadOnlyOnEveryRoute walks the whole route table during a
// staff view: every state-changing route but Stop is refused with the
// same message, audited, and changes nothing; every page changes nothing
// either; and the view is still running afterwards.
func TestViewAsIsReadOnlyOnEveryRoute(t *testing.T) {
	e := newStaffEnv(t)
	for _, rt := range e.s.routes {
		if rt.Method == http.MethodGet || rt.Method == http.MethodHead || rt.Pattern == viewAsStopPattern || rt.Access == open {
			continue
		}
		t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
			e := newStaffEnv(t)
			b := e.staffBrowser()
			b.startViewAs(riverside, club.ViewAsOwner)
			writes, calls, rows := e.dir.writes.Load(), e.kinde.calls.Load(), e.audit.count()
			form := url.Values{"email": {"ana@example.org"}, "first_name": {"Ana"}, "roles": {"member", "owner"},
				"name": {"New Club"}, "club": {hilltop}, "target": {"owner"}, "reason": {goodReason}}
			for _, hx := range []bool{false, true} {
				var res *http.Response
				if hx {
					res = b.do(rt.Method, fillPattern(rt.Pattern), form, HXRequest, "true")
				} else {
					res = b.do(rt.Method, fillPattern(rt.Pattern), form)
				}
				wantStatus, wantText := http.StatusForbidden, "Staff view is read-only. Nothing was changed."
				if rt.Pattern == viewAsStartPattern {
					wantStatus, wantText = http.StatusConflict, "A staff view is already running."
				}
				if got := res.StatusCode; got != wantStatus {
					t.Errorf("htmx=%v: status = %d, want %d", hx, got, wantStatus)
				}
				if got := body(t, res); !strings.Contains(got, wantText) {
					t.Errorf("htmx=%v: page lacks %q", hx, wantText)
				}
			}
			if w, c := e.dir.writes.Load()-writes, e.kinde.calls.Load()-calls; w != 0 || c != 0 {
				t.Errorf("directory writes %d, Kinde calls %d; want 0", w, c)
			}
			if got := e.audit.count() - rows; got != 2 {
				t.Errorf("audit rows added = %d, want 2 (one per refused attempt)", got)
			}
			last := e.audit.last()
			wantAction := club.ActionViewAsWriteRefused
			if rt.Pattern == viewAsStartPattern {
				wantAction = club.ActionViewAsRefused
			}
			if last.Action != wantAction || last.ActorID != "kp_sam" || last.TargetID != "kp_olivia" || last.ClubCode != riverside {
				t.Errorf("refusal row = %+v", last)
			}
			if !strings.Contains(testid(doc(t, b.get("/club")), "staff-banner").Text(), "Olivia Hart") {
				t.Error("the view did not survive the refused attempt")
			}
		})
	}

	t.Run("every page changes nothing", func(t *testing.T) {
		e := newStaffEnv(t)
		b := e.staffBrowser()
		b.startViewAs(riverside, club.ViewAsOwner)
		e.fresh.synced = time.Time{} // a club never synced: the members page must not sync during a view
		writes, calls := e.dir.writes.Load(), e.kinde.calls.Load()
		for _, rt := range e.s.routes {
			if rt.Method != http.MethodGet || rt.Access == open || isStaffRoute(rt) {
				continue // the staff pages are Sam's own, outside the view
			}
			res := b.get(fillPattern(rt.Pattern))
			if res.StatusCode >= 500 {
				t.Errorf("GET %s = %d", rt.Pattern, res.StatusCode)
			}
		}
		if w, c := e.dir.writes.Load()-writes, e.kinde.calls.Load()-calls; w != 0 || c != 0 {
			t.Errorf("directory writes %d, Kinde calls %d during the view's pages; want 0", w, c)
		}
	})
}

// TestNonStaffCannotStartAViewAs tries every staff route, with forged
// fields, as each kind of person who is not staff. Each attempt is refused
// and audited, and no view starts.
func TestNonStaffCannotStartAViewAs(t *testing.T) {
	people := []struct {
		name string
		id   club.Identity
	}{
		{"club owner", olivia},
		{"plain member", mia},
		{"staff org member without the permission", samNoPerm},
		{"the permission in a club, not the staff org", rogue},
		{"no club at all", nora},
	}
	forged := url.Values{"club": {riverside}, "target": {"owner"}, "reason": {goodReason}, "view_as": {"va_forged"},
		"staff": {"1"}, "org_code": {staffOrg}}
	for _, p := range people {
		t.Run(p.name, func(t *testing.T) {
			e := newStaffEnv(t)
			b := e.browser()
			b.signIn(p.id)
			for _, rt := range e.s.routes {
				if rt.Access != staffOnly {
					continue
				}
				target := fillPattern(rt.Pattern)
				rows := e.audit.count()
				var res *http.Response
				if rt.Method == http.MethodGet {
					res = b.get(target + "?" + forged.Encode())
				} else {
					res = b.post(target, forged)
				}
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s: status %d, want 403", rt.Method, rt.Pattern, res.StatusCode)
				}
				if got := body(t, res); !strings.Contains(got, "for Clubhouse staff only") {
					t.Errorf("%s %s: refusal page lacks its message", rt.Method, rt.Pattern)
				}
				if e.audit.count() != rows+1 {
					t.Fatalf("%s %s: audit rows %d → %d, want one refusal", rt.Method, rt.Pattern, rows, e.audit.count())
				}
				ev := e.audit.last()
				if ev.Action != club.ActionStaffRouteRefused || ev.ActorID != p.id.UserID || ev.IP == "" ||
					!strings.Contains(ev.Detail, rt.Method+" "+target) {
					t.Errorf("%s %s: refusal row %+v", rt.Method, rt.Pattern, ev)
				}
			}
			if n := len(e.audit.withAction(club.ActionViewAsStarted)); n != 0 {
				t.Errorf("%d views started", n)
			}
			// Their own pages show them as themselves, with no banner.
			d := doc(t, b.get("/club"))
			if testid(d, "staff-banner").Length() != 0 {
				t.Error("a staff banner appeared")
			}
			if !strings.Contains(body(t, b.get("/club")), p.id.Name()) && p.id.ClubCode != "" {
				t.Error("their own page does not show them")
			}
		})
	}

	t.Run("visitor is sent to sign in", func(t *testing.T) {
		e := newStaffEnv(t)
		res := e.browser().post("/staff/view-as", forged)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/auth/login") {
			t.Errorf("visitor: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
	})

	t.Run("console off without a staff org", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser()
		b.signIn(sam)
		if res := b.get("/staff"); res.StatusCode != http.StatusForbidden {
			t.Errorf("/staff with no staff org configured = %d, want 403", res.StatusCode)
		}
	})
}

// TestViewAsStartRefusals checks each bad start is refused, audited, and
// starts nothing.
func TestViewAsStartRefusals(t *testing.T) {
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantText   string
		wantClub   string
	}{
		{"missing reason", url.Values{"club": {riverside}, "target": {"owner"}}, http.StatusUnprocessableEntity,
			"Say why you need to see this club", riverside},
		{"short reason", url.Values{"club": {riverside}, "target": {"owner"}, "reason": {"  too short "}}, http.StatusUnprocessableEntity,
			"at least 10 characters", riverside},
		{"long reason", url.Values{"club": {riverside}, "target": {"owner"}, "reason": {strings.Repeat("x", 501)}}, http.StatusUnprocessableEntity,
			"500 characters or fewer", riverside},
		{"unknown club", url.Values{"club": {"org_nosuchclub"}, "target": {"owner"}, "reason": {goodReason}}, http.StatusNotFound,
			"There is no club with that code.", ""},
		{"malformed club code", url.Values{"club": {"org_x/../../admin"}, "target": {"owner"}, "reason": {goodReason}}, http.StatusNotFound,
			"There is no club with that code.", ""},
		{"missing club", url.Values{"target": {"owner"}, "reason": {goodReason}}, http.StatusNotFound,
			"There is no club with that code.", ""},
		{"the staff org", url.Values{"club": {staffOrg}, "target": {"owner"}, "reason": {goodReason}}, http.StatusNotFound,
			"There is no club with that code.", ""},
		{"forged target from another club", url.Values{"club": {riverside}, "target": {"kp_tom"}, "reason": {goodReason}}, http.StatusNotFound,
			"That person is not a member of this club.", riverside},
		{"unknown target", url.Values{"club": {riverside}, "target": {"kp_nobody"}, "reason": {goodReason}}, http.StatusNotFound,
			"That person is not a member of this club.", riverside},
		{"pending target", url.Values{"club": {riverside}, "target": {"kp_pending"}, "reason": {goodReason}}, http.StatusNotFound,
			"That person is not a member of this club.", riverside},
		{"club without an owner", url.Values{"club": {"org_empty0000001"}, "target": {"owner"}, "reason": {goodReason}}, http.StatusNotFound,
			"This club has no owner to view as.", "org_empty0000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStaffEnv(t)
			e.dir.add(club.Member{ClubCode: riverside, UserID: "kp_pending", Email: "pending@example.org", Pending: true, JoinedAt: t0})
			e.staffKinde.clubs = append(e.staffKinde.clubs, club.Club{Code: "org_empty0000001", Name: "Empty Club"})
			b := e.staffBrowser()
			res := b.post("/staff/view-as", tt.form)
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if got := body(t, res); !strings.Contains(got, tt.wantText) {
				t.Errorf("answer lacks %q", tt.wantText)
			}
			refused := e.audit.withAction(club.ActionViewAsRefused)
			if len(refused) != 1 {
				t.Fatalf("refusal rows = %d, want 1", len(refused))
			}
			if ev := refused[0]; ev.ClubCode != tt.wantClub || ev.ActorID != "kp_sam" || ev.IP == "" || !strings.HasPrefix(ev.Detail, "Refused: ") {
				t.Errorf("refusal row = %+v", ev)
			}
			if n := len(e.audit.withAction(club.ActionViewAsStarted)); n != 0 {
				t.Errorf("%d views started", n)
			}
			if testid(doc(t, b.get("/staff")), "staff-banner").Length() != 0 {
				t.Error("a view is running after a refused start")
			}
		})
	}

	t.Run("reason error keeps the form", func(t *testing.T) {
		e := newStaffEnv(t)
		b := e.staffBrowser()
		d := doc(t, b.post("/staff/view-as", url.Values{"club": {riverside}, "target": {"kp_mia"}, "reason": {"short"}}))
		if got := strings.TrimSpace(testid(d, "error-reason").Text()); got == "" {
			t.Error("no error next to the reason")
		}
		if got := testid(d, "view-as-reason").Text(); got != "short" {
			t.Errorf("reason kept = %q", got)
		}
		if _, ok := d.Find(`input[name="target"][value="kp_mia"]`).Attr("checked"); !ok {
			t.Error("the chosen member is not kept")
		}
	})
}

// TestViewAsNeverNests starts a second view during a first one.
func TestViewAsNeverNests(t *testing.T) {
	e := newStaffEnv(t)
	b := e.staffBrowser()
	b.startViewAs(riverside, club.ViewAsOwner)
	res := b.post("/staff/view-as", url.Values{"club": {hilltop}, "target": {"owner"}, "reason": {goodReason}})
	if res.StatusCode != http.StatusConflict {
		t.Errorf("second start = %d, want 409", res.StatusCode)
	}
	if n := len(e.audit.withAction(club.ActionViewAsStarted)); n != 1 {
		t.Errorf("views started = %d, want 1", n)
	}
	if ev := e.audit.last(); ev.Action != club.ActionViewAsRefused || ev.ClubCode != riverside {
		t.Errorf("last row = %+v, want the refusal", ev)
	}
	banner := testid(doc(t, b.get("/club")), "staff-banner").Text()
	if !strings.Contains(banner, "Olivia Hart") || !strings.Contains(banner, "Riverside") {
		t.Errorf("banner = %q, want the first view still running", banner)
	}
	// The console says so, and the staff pages still show Sam's own view.
	d := doc(t, b.get("/staff/clubs/"+hilltop))
	if testid(d, "view-as-running").Length() != 1 {
		t.Error("the club page does not say a view is running")
	}
}

// TestViewAsStop ends the view and refuses a replayed stop.
func TestViewAsStop(t *testing.T) {
	e := newStaffEnv(t)
	b := e.staffBrowser()
	b.startViewAs(riverside, club.ViewAsOwner)
	id := b.viewAsID()

	res := b.post("/staff/view-as/stop", url.Values{"view_as": {"not-this-one"}})
	if res.StatusCode != http.StatusConflict {
		t.Errorf("stop with another id = %d, want 409", res.StatusCode)
	}
	if testid(doc(t, b.get("/club")), "staff-banner").Length() != 1 {
		t.Fatal("a stop with the wrong id ended the view")
	}

	e.advance(4 * time.Minute)
	res = b.post("/staff/view-as/stop", url.Values{"view_as": {id}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff" {
		t.Fatalf("stop = %d %q, want 303 /staff", res.StatusCode, res.Header.Get("Location"))
	}
	stopped := e.audit.withAction(club.ActionViewAsStopped)
	if len(stopped) != 1 || stopped[0].Detail != "Stopped after 4 minutes." || stopped[0].TargetID != "kp_olivia" {
		t.Errorf("stop rows = %+v", stopped)
	}
	d := doc(t, b.get("/staff"))
	if testid(d, "staff-banner").Length() != 0 {
		t.Error("banner still shown after stop")
	}
	if got := testid(d, "flash").Text(); !strings.Contains(got, "Stopped viewing Riverside Rowing Club as Olivia Hart.") {
		t.Errorf("flash = %q", got)
	}

	refusedBefore := len(e.audit.withAction(club.ActionViewAsRefused))
	res = b.post("/staff/view-as/stop", url.Values{"view_as": {id}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body(t, res), "already ended") {
		t.Errorf("replayed stop = %d, want 409 already ended", res.StatusCode)
	}
	if got := len(e.audit.withAction(club.ActionViewAsRefused)) - refusedBefore; got != 1 {
		t.Errorf("replayed stop audit rows = %d, want 1", got)
	}
	if n := len(e.audit.withAction(club.ActionViewAsStopped)); n != 1 {
		t.Errorf("stop rows after replay = %d, want still 1", n)
	}
	// Sam is Sam again.
	if res := b.get("/members"); res.StatusCode != http.StatusForbidden {
		t.Errorf("/members as Sam after stop = %d, want 403 (staff are not club admins)", res.StatusCode)
	}

	// A view stopped within its first minute says so, not "0 minutes".
	b.startViewAs(riverside, club.ViewAsOwner)
	e.advance(20 * time.Second)
	b.post("/staff/view-as/stop", url.Values{"view_as": {b.viewAsID()}})
	if stopped := e.audit.withAction(club.ActionViewAsStopped); len(stopped) != 2 || stopped[1].Detail != "Stopped after less than a minute." {
		t.Errorf("stop rows after a short view = %+v", stopped)
	}
}

// TestViewAsExpires ends a view used after its time, on any request.
func TestViewAsExpires(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ttl    time.Duration
		method string
		target string
	}{
		{"default 30 minutes, a page", 0, http.MethodGet, "/members"},
		{"configured 5 minutes, a write", 5 * time.Minute, http.MethodPost, "/members"},
		{"configured 5 minutes, a stop", 5 * time.Minute, http.MethodPost, "/staff/view-as/stop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStaffEnv(t, func(d *Deps) { d.Staff.ViewAsTTL = tc.ttl })
			ttl := cmp.Or(tc.ttl, DefaultViewAsTTL)
			b := e.staffBrowser()
			b.startViewAs(riverside, club.ViewAsOwner)
			id := b.viewAsID()
			e.advance(ttl - time.Second)
			if res := b.get("/members"); res.StatusCode != http.StatusOK {
				t.Fatalf("a second before the end: %d, want 200", res.StatusCode)
			}
			e.advance(time.Second)
			writes := e.dir.writes.Load()
			res := b.do(tc.method, tc.target, url.Values{"view_as": {id}, "email": {"ana@example.org"}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff" {
				t.Fatalf("after expiry: %d %q, want 303 /staff", res.StatusCode, res.Header.Get("Location"))
			}
			expired := e.audit.withAction(club.ActionViewAsExpired)
			if len(expired) != 1 || expired[0].TargetID != "kp_olivia" || expired[0].ClubCode != riverside {
				t.Errorf("expiry rows = %+v", expired)
			}
			if e.dir.writes.Load() != writes {
				t.Error("the request after expiry changed the directory")
			}
			d := doc(t, b.get("/staff"))
			if testid(d, "staff-banner").Length() != 0 {
				t.Error("banner still shown after expiry")
			}
			if got := testid(d, "flash").Text(); !strings.Contains(got, "ended") {
				t.Errorf("flash = %q, want the view ended", got)
			}
			if n := len(e.audit.withAction(club.ActionViewAsExpired)); n != 1 {
				t.Errorf("expiry rows = %d after the console, want 1", n)
			}
		})
	}
}

// TestViewAsEndsWhenStaffAccessEnds: once Sam's refreshed token no longer
// carries staff:impersonate, the view ends on his next request.
func TestViewAsEndsWhenStaffAccessEnds(t *testing.T) {
	e := newStaffEnv(t)
	b := e.staffBrowser()
	b.startViewAs(riverside, club.ViewAsOwner)
	demoted := sam
	demoted.Permissions = nil
	e.auth.Refresh_ = func(club.Tokens) (club.Identity, club.Tokens, error) {
		return demoted, club.Tokens{AccessToken: "at2", RefreshToken: "rt2", Expiry: e.clock().Add(time.Hour)}, nil
	}
	e.advance(time.Minute)
	e.fresh.markStale("kp_sam", e.clock())
	if res := b.get("/members"); res.StatusCode != http.StatusForbidden {
		t.Errorf("/members = %d, want 403 as Sam himself", res.StatusCode)
	}
	if n := len(e.audit.withAction(club.ActionViewAsStopped)); n != 1 {
		t.Errorf("stop rows = %d, want 1", n)
	}
}

// TestViewAsEndsWhenTargetLeaves: the viewed person is removed from the
// club; the next page ends the view.
func TestViewAsEndsWhenTargetLeaves(t *testing.T) {
	e := newStaffEnv(t)
	b := e.staffBrowser()
	b.startViewAs(riverside, "kp_mia")
	_ = e.dir.DeleteMember(t.Context(), 0, riverside, "kp_mia", club.AuditEvent{Action: club.ActionMemberRemoved})
	res := b.get("/club")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff" {
		t.Errorf("after removal: %d %q, want 303 /staff", res.StatusCode, res.Header.Get("Location"))
	}
	if n := len(e.audit.withAction(club.ActionViewAsStopped)); n != 1 {
		t.Errorf("stop rows = %d, want 1", n)
	}
}

// TestViewAsBlocksPersonalRoutes: sign-in, switching and onboarding act on
// the staff person's own Kinde session, so they wait until the view ends.
func TestViewAsBlocksPersonalRoutes(t *testing.T) {
	e := newStaffEnv(t)
	b := e.staffBrowser()
	b.startViewAs(riverside, club.ViewAsOwner)
	for _, target := range []string{"/auth/login", "/auth/switch?org_code=" + hilltop, "/auth/callback?state=x&code=y", "/onboarding"} {
		res := b.get(target)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body(t, res), "Stop the staff view first") {
			t.Errorf("GET %s = %d, want 403 stop first", target, res.StatusCode)
		}
	}
	if e.auth.exchanges.Load() != 1 {
		t.Error("a sign-in ran during the view")
	}
}

func TestStaffConsole(t *testing.T) {
	e := newStaffEnv(t)
	e.dir.add(club.Member{ClubCode: riverside, UserID: "kp_zoe", Email: "zoe@example.org", FirstName: "Zoe", LastName: "Co-owner",
		Roles: []string{club.RoleOwner}, JoinedAt: t0})
	b := e.staffBrowser()
	tests := []struct {
		name   string
		target string
		want   []string // club codes listed
	}{
		{"every club but staff", "/staff", []string{hilltop, riverside}},
		{"by name, any case", "/staff?q=RIVER", []string{riverside}},
		{"by code", "/staff?q=" + hilltop[4:10], []string{hilltop}},
		{"no hits", "/staff?q=zzz", nil},
		{"the staff org is never listed", "/staff?q=staff", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := doc(t, b.get(tt.target))
			var got []string
			testid(d, "staff-club-row").Each(func(_ int, s *goquery.Selection) {
				code, _ := s.Attr("data-code")
				got = append(got, code)
			})
			if !slices.Equal(got, tt.want) {
				t.Errorf("clubs = %v, want %v", got, tt.want)
			}
			if tt.want == nil && testid(d, "empty-state").Length() != 1 {
				t.Error("no empty state")
			}
		})
	}
	d := doc(t, b.get("/staff?q=riverside"))
	row := d.Find(`[data-testid="staff-club-row"][data-code="` + riverside + `"]`)
	if got := strings.TrimSpace(row.Find(`td[data-label="Owners"]`).Text()); got != "Olivia Hart, Zoe Co-owner" {
		t.Errorf("owners = %q", got)
	}
	if got := strings.TrimSpace(testid(d, "staff-member-count").Text()); got != "4" {
		t.Errorf("member count = %q, want 4", got)
	}
	if d.Find(`a.sidenav__link[href="/staff"]`).Length() != 1 {
		t.Error("no staff console in the navigation")
	}

	if got := b.get("/").Header.Get("Location"); got != "/staff" {
		t.Errorf("home sends staff to %q, want /staff", got)
	}

	t.Run("Kinde unavailable", func(t *testing.T) {
		e.staffKinde.ClubsErr = club.ErrUnavailable
		defer func() { e.staffKinde.ClubsErr = nil }()
		res := b.get("/staff")
		if got := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(got, "could not be read from Kinde") {
			t.Errorf("console with Kinde down: %d", res.StatusCode)
		}
	})
}

// TestStaffConsoleSyncsNeverReadClubs fills the directory from Kinde for
// a club the portal has never read, once, and credits the staff person.
func TestStaffConsoleSyncsNeverReadClubs(t *testing.T) {
	e := newStaffEnv(t)
	e.fresh.synced = time.Time{}
	e.kinde.ClubMembersFunc = func(code string) ([]club.Member, error) {
		if code != hilltop {
			return nil, errNotFaked
		}
		return []club.Member{{UserID: "kp_tom", Email: "tom@example.org", FirstName: "Tom", LastName: "Evans", Roles: []string{club.RoleOwner}},
			{UserID: "kp_hana", Email: "hana@example.org", FirstName: "Hana", LastName: "Sato", Roles: []string{club.RoleAdmin}}}, nil
	}
	b := e.staffBrowser()
	d := doc(t, b.get("/staff?q=hilltop"))
	if got := strings.TrimSpace(testid(d, "staff-member-count").Text()); got != "2" {
		t.Errorf("member count = %q, want 2 after the sync", got)
	}
	var synced []club.AuditEvent
	for _, ev := range e.dir.audit {
		if ev.Action == club.ActionClubSynced {
			synced = append(synced, ev)
		}
	}
	if len(synced) != 1 || synced[0].ActorName != "Sam Rivera (Clubhouse staff)" {
		t.Errorf("sync rows = %+v", synced)
	}
}

func TestStaffClubPage(t *testing.T) {
	e := newStaffEnv(t)
	b := e.staffBrowser()
	d := doc(t, b.get("/staff/clubs/"+riverside))
	var ids []string
	testid(d, "staff-member-row").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-id")
		ids = append(ids, id)
	})
	if want := []string{"kp_adam", "kp_mia", "kp_olivia"}; !slices.Equal(ids, want) {
		t.Errorf("members = %v, want %v", ids, want)
	}
	if _, ok := testid(d, "view-as-owner").Attr("checked"); !ok {
		t.Error("view as owner is not the default")
	}
	if res := b.get("/staff/clubs/org_nosuchclub"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown club = %d, want 404", res.StatusCode)
	}
	if res := b.get("/staff/clubs/" + staffOrg); res.StatusCode != http.StatusNotFound {
		t.Errorf("the staff org = %d, want 404", res.StatusCode)
	}
}

// TestStaffRowsInAuditViews: staff see every row with where it came from;
// a club's owners see their club's staff rows on Activity, in words,
// without the IP or user agent.
func TestStaffRowsInAuditViews(t *testing.T) {
	e := newStaffEnv(t)
	b := e.staffBrowser()
	b.startViewAs(riverside, club.ViewAsOwner)
	b.post("/members", url.Values{"email": {"ana@example.org"}})
	b.post("/staff/view-as/stop", url.Values{"view_as": {b.viewAsID()}})
	_ = e.audit.Append(t.Context(), club.AuditEvent{ClubCode: hilltop, ActorID: "kp_tom", ActorName: "Tom Evans", Action: club.ActionMemberAdded})

	d := doc(t, b.get("/staff/audit"))
	var actions []string
	testid(d, "staff-audit-row").Each(func(_ int, s *goquery.Selection) {
		a, _ := s.Attr("data-action")
		actions = append(actions, a)
	})
	want := []string{club.ActionMemberAdded, club.ActionViewAsStopped, club.ActionViewAsPage, club.ActionViewAsWriteRefused,
		club.ActionViewAsStarted}
	if !slices.Equal(actions, want) {
		t.Errorf("staff audit = %v, want %v", actions, want)
	}
	if !strings.Contains(testid(d, "staff-audit-table").Text(), "192.0.2.1") {
		t.Error("the staff audit does not show the IP")
	}
	d = doc(t, b.get("/staff/audit?club="+hilltop))
	if got := testid(d, "staff-audit-row").Length(); got != 1 {
		t.Errorf("hilltop rows = %d, want 1", got)
	}

	o := e.browser()
	o.signIn(olivia)
	d = doc(t, o.get("/activity"))
	table := strings.Join(strings.Fields(testid(d, "activity-table").Text()), " ")
	for _, w := range []string{"Staff view started (read-only)", "Reason: " + goodReason, "Staff change refused: the view is read-only",
		"Staff view stopped", "Sam Rivera (Clubhouse staff)"} {
		if !strings.Contains(table, w) {
			t.Errorf("owner's activity lacks %q", w)
		}
	}
	for _, secret := range []string{"192.0.2.1", "staff laptop", "Tom Evans"} {
		if strings.Contains(table, secret) {
			t.Errorf("owner's activity shows %q", secret)
		}
	}
}

func TestMinutesLeft(t *testing.T) {
	tests := []struct {
		left time.Duration
		want int
	}{
		{30 * time.Minute, 30},
		{29*time.Minute + 59*time.Second, 30},
		{29 * time.Minute, 29},
		{61 * time.Second, 2},
		{time.Minute, 1},
		{59 * time.Second, 0},
		{-time.Minute, 0},
	}
	for _, tt := range tests {
		t.Run(tt.left.String(), func(t *testing.T) {
			if got := minutesLeft(tt.left); got != tt.want {
				t.Errorf("minutesLeft(%s) = %d, want %d", tt.left, got, tt.want)
			}
		})
	}
}

func TestMinutes(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "less than a minute"},
		{29 * time.Second, "less than a minute"},
		{30 * time.Second, "1 minute"},
		{time.Minute, "1 minute"},
		{4*time.Minute + 10*time.Second, "4 minutes"},
		{30 * time.Minute, "30 minutes"},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := minutes(tt.d); got != tt.want {
				t.Errorf("minutes(%s) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

// TestNewServerRefusesHalfAFeature: a feature turned on without one of its
// parts is a wiring bug, refused at start-up with the parts named, not a
// feature silently off.
func TestNewServerRefusesHalfAFeature(t *testing.T) {
	tests := []struct {
		name string
		edit func(d *Deps)
		want string
	}{
		{"staff without role holders", func(d *Deps) { d.Staff = &StaffConsole{Org: staffOrg, Kinde: newFakeStaffKinde()} }, "Staff.RoleHolders"},
		{"staff without Kinde", func(d *Deps) { d.Staff = &StaffConsole{Org: staffOrg, RoleHolders: d.Directory.(*memDirectory)} }, "Staff.Kinde"},
		{"staff without an org", func(d *Deps) {
			d.Staff = &StaffConsole{Kinde: newFakeStaffKinde(), RoleHolders: d.Directory.(*memDirectory)}
		}, "Staff.Org"},
		{"webhooks without a verifier", func(d *Deps) { d.Webhooks = &WebhookReceiver{Inbox: &fakeInbox{}} }, "Webhooks.Verifier"},
		{"imports without a queue", func(d *Deps) { d.Imports = &BulkImport{} }, "Imports.Importer, Imports.Queue"},
		{"no directory", func(d *Deps) { d.Directory, d.Service = nil, nil }, "Service, Directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := newEnv(t)
			d := base.deps
			tt.edit(&d)
			_, err := NewServer(d)
			if err == nil || !strings.Contains(err.Error(), "missing "+tt.want) {
				t.Errorf("NewServer = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
