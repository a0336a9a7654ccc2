package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/clubhouse/clubhouse/internal/club"
)

func TestMembersPageListsRowsBadgesAndPages(t *testing.T) {
	e := newEnv(t)
	for i := range 120 {
		e.dir.add(club.Member{ClubCode: riverside, UserID: fmt.Sprintf("kp_x%03d", i), Email: fmt.Sprintf("x%03d@example.org", i),
			FirstName: "Zed", LastName: fmt.Sprintf("%03d", i), Roles: []string{club.RoleCoach}, JoinedAt: t0})
	}
	b := e.browser()
	b.signIn(olivia)
	tests := []struct {
		name        string
		target      string
		wantRows    int
		wantSummary string
		wantFirst   string
	}{
		{"first page", "/members", 50, "Showing 1–50 of 123", "adam@example.org"},
		{"last page", "/members?page=3", 23, "Showing 101–123 of 123", "x097@example.org"},
		{"search", "/members?q=mia", 1, "", "mia@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := b.get(tt.target)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", res.StatusCode)
			}
			d := doc(t, res)
			rows := testid(d, "member-row")
			if got := rows.Length(); got != tt.wantRows {
				t.Errorf("rows = %d, want %d", got, tt.wantRows)
			}
			if got, _ := rows.First().Attr("data-email"); got != tt.wantFirst {
				t.Errorf("first row = %q, want %q", got, tt.wantFirst)
			}
			if tt.wantSummary != "" {
				if got := strings.TrimSpace(testid(d, "page-summary").Text()); got != tt.wantSummary {
					t.Errorf("summary = %q, want %q", got, tt.wantSummary)
				}
			}
		})
	}
	d := doc(t, b.get("/members?q=olivia"))
	if got := strings.TrimSpace(testid(d, "member-row").Find(`[data-testid="role-badge"]`).Text()); got != "Owner" {
		t.Errorf("olivia's badge = %q, want Owner", got)
	}
}

// addForm is a valid add-member form for email.
func addForm(email string) url.Values {
	return url.Values{"email": {email}, "first_name": {"Ana"}, "last_name": {"Lima"}, "roles": {club.RoleMember}}
}

func TestAddMemberSameWordsWhetherKindeKnewThePersonOrNot(t *testing.T) {
	type outcome struct {
		status   int
		location string
		flash    []string
		htmx     []string
	}
	run := func(t *testing.T, email string, known bool) outcome {
		t.Helper()
		e := newEnv(t)
		e.kinde.FindPersonFunc = func(got string) (club.Person, error) {
			if known {
				return club.Person{ID: "kp_known_" + got, Email: got}, nil
			}
			return club.Person{}, club.ErrNotFound
		}
		e.kinde.CreatePersonFunc = func(p club.Person, code string) (club.Person, error) {
			if code != riverside {
				t.Errorf("created in %q, want %q", code, riverside)
			}
			p.ID = "kp_new_" + p.Email
			return p, nil
		}
		b := e.browser()
		b.signIn(olivia)
		res := b.post("/members", addForm(email))
		o := outcome{status: res.StatusCode, location: res.Header.Get("Location"), flash: b.flashTexts("/members")}
		// The same add through htmx, for another email.
		res = b.post("/members", addForm("second-"+email), HXRequest, "true")
		d := doc(t, res)
		testid(d, "flash").Each(func(_ int, s *goquery.Selection) { o.htmx = append(o.htmx, strings.TrimSpace(s.Text())) })
		row := testid(d, "member-row").First()
		if got, _ := row.Attr("data-email"); got != "second-"+email {
			t.Errorf("first row after add = %q, want the new member", got)
		}
		if _, ok := row.Attr("data-highlight"); !ok {
			t.Error("new row is not highlighted")
		}
		return o
	}
	existing := run(t, "tom@example.org", true)
	created := run(t, "tom@example.org", false)
	if existing.status != http.StatusSeeOther || existing.location != "/members" {
		t.Errorf("existing person: %d %q, want 303 /members", existing.status, existing.location)
	}
	if fmt.Sprint(existing) != fmt.Sprint(created) {
		t.Errorf("responses differ:\n existing in another club: %+v\n new to Kinde:             %+v", existing, created)
	}
	if want := "Added tom@example.org to Riverside Rowing Club"; len(existing.flash) != 1 || existing.flash[0] != want {
		t.Errorf("flash = %q, want %q", existing.flash, want)
	}
}

func TestAddMemberAlreadyMember(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	res := b.post("/members", addForm("mia@example.org"))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303", res.StatusCode)
	}
	got := b.flashTexts("/members")
	if want := "mia@example.org is already a member of Riverside Rowing Club. Nothing was changed."; len(got) != 1 || got[0] != want {
		t.Errorf("flash = %q, want %q", got, want)
	}
	if e.kinde.calls.Load() != 0 {
		t.Errorf("Kinde calls = %d, want 0", e.kinde.calls.Load())
	}
}

func TestAddMemberBadInputWritesNothing(t *testing.T) {
	tests := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"invalid email", url.Values{"email": {"not-an-email"}, "roles": {"member"}}, "email"},
		{"300-character name", url.Values{"email": {"ana@example.org"}, "first_name": {strings.Repeat("a", 300)}, "roles": {"member"}}, "first_name"},
		{"script in a name", url.Values{"email": {"ana@example.org"}, "last_name": {"<script>alert(1)</script>"}, "roles": {"member"}}, "last_name"},
		{"unknown role", url.Values{"email": {"ana@example.org"}, "roles": {"superuser"}}, "roles"},
		{"staff role", url.Values{"email": {"ana@example.org"}, "roles": {"staff"}}, "roles"},
		{"no role", url.Values{"email": {"ana@example.org"}}, "roles"},
	}
	for _, tt := range tests {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/htmx=%v", tt.name, htmx), func(t *testing.T) {
				e := newEnv(t)
				b := e.browser()
				b.signIn(olivia)
				var h []string
				if htmx {
					h = []string{HXRequest, "true"}
				}
				res := b.post("/members", tt.form, h...)
				if res.StatusCode != http.StatusUnprocessableEntity {
					t.Errorf("status = %d, want 422", res.StatusCode)
				}
				raw := body(t, res)
				d, _ := goquery.NewDocumentFromReader(strings.NewReader(raw))
				if msg := strings.TrimSpace(testid(d, "error-"+tt.field).Text()); msg == "" {
					t.Errorf("no inline error for %s", tt.field)
				}
				if got, _ := d.Find(`input[name="email"]`).Attr("value"); got != tt.form.Get("email") {
					t.Errorf("email value kept = %q, want %q", got, tt.form.Get("email"))
				}
				if strings.Contains(raw, "<script>alert") {
					t.Error("the name's markup reached the page unescaped")
				}
				if got := strings.Contains(raw, "<html"); got == htmx {
					t.Errorf("full page = %v with htmx=%v", got, htmx)
				}
				if w := e.dir.writes.Load(); w != 0 {
					t.Errorf("directory writes = %d, want 0", w)
				}
				if c := e.kinde.calls.Load(); c != 0 {
					t.Errorf("Kinde calls = %d, want 0", c)
				}
			})
		}
	}
}

// TestAddMemberEmailNotUTF8 is issue 12: email=in%FFvalid%40x.example was
// lower-cased into "in\uFFFDvalid@x.example" before its UTF-8 was checked,
// and that person was created in Kinde. It is refused as sent, with the
// reason by the email field, and nothing is written.
func TestAddMemberEmailNotUTF8(t *testing.T) {
	for _, htmx := range []bool{false, true} {
		t.Run(fmt.Sprintf("htmx=%v", htmx), func(t *testing.T) {
			e := newEnv(t)
			var created []string
			e.kinde.CreatePersonFunc = func(p club.Person, _ string) (club.Person, error) {
				created = append(created, p.Email)
				p.ID = "kp_new"
				return p, nil
			}
			b := e.browser()
			b.signIn(olivia)
			var h []string
			if htmx {
				h = []string{HXRequest, "true"}
			}
			form := url.Values{"email": {"in\xffvalid@x.example"}, "roles": {club.RoleMember}}
			if got, want := form.Encode(), "email=in%FFvalid%40x.example&roles=member"; got != want {
				t.Fatalf("body = %q, want the probe's %q", got, want)
			}
			res := b.post("/members", form, h...)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("status = %d, want 422", res.StatusCode)
			}
			msg := strings.TrimSpace(testid(doc(t, res), "error-email").Text())
			if want := "The email address contains characters we cannot read."; !strings.Contains(msg, want) {
				t.Errorf("email error = %q, want it to say %q", msg, want)
			}
			if len(created) != 0 {
				t.Errorf("Kinde people created: %q, want none", created)
			}
			if w, c := e.dir.writes.Load(), e.kinde.calls.Load(); w != 0 || c != 0 {
				t.Errorf("directory writes = %d, Kinde calls = %d; want 0, 0", w, c)
			}
		})
	}
}

func TestAddMemberKindeUnavailable(t *testing.T) {
	e := newEnv(t)
	e.kinde.FindPersonFunc = func(string) (club.Person, error) {
		return club.Person{}, club.Unavailable(fmt.Errorf("boom: upstream 502 at 10.0.0.7"))
	}
	b := e.browser()
	b.signIn(olivia)
	res := b.post("/members", addForm("ana@example.org"), HXRequest, "true")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", res.StatusCode)
	}
	raw := body(t, res)
	if !strings.Contains(raw, "Kinde did not answer. Nothing was changed. Try again in a minute.") {
		t.Error("the form does not say Kinde did not answer")
	}
	if strings.Contains(raw, "10.0.0.7") || strings.Contains(raw, "boom") {
		t.Error("the upstream error reached the page")
	}
	if !strings.Contains(e.logs.String(), "boom") {
		t.Error("the 503 was not logged with its cause")
	}
}

func TestNoMembersReadIsForbidden(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(mia)
	for _, target := range []string{"/members", "/members/new", "/activity", "/members/kp_adam/roles"} {
		t.Run(target, func(t *testing.T) {
			res := b.get(target)
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("status = %d, want 403", res.StatusCode)
			}
			d := doc(t, res)
			if testid(d, "error-page").Length() != 1 || d.Find(`a[href="/club"]`).Length() == 0 {
				t.Error("403 page without a link back to /club")
			}
		})
	}
	if res := b.get("/club"); res.StatusCode != http.StatusOK {
		t.Errorf("/club for a member = %d, want 200", res.StatusCode)
	}
}

func TestAdminCannotOpenActivity(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(adam)
	if res := b.get("/activity"); res.StatusCode != http.StatusForbidden {
		t.Errorf("/activity for an admin = %d, want 403", res.StatusCode)
	}
	if res := b.get("/members"); res.StatusCode != http.StatusOK {
		t.Errorf("/members for an admin = %d, want 200", res.StatusCode)
	}
}

func TestMemberOfAnotherClubIsNotFound(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	tests := []struct {
		method, target string
		form           url.Values
	}{
		{"GET", "/members/kp_tom/roles", nil},
		{"POST", "/members/kp_tom/roles", url.Values{"roles": {"member"}}},
		{"GET", "/members/kp_tom/remove", nil},
		{"POST", "/members/kp_tom/remove", url.Values{}},
		{"GET", "/members/kp_nobody/roles", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			res := b.do(tt.method, tt.target, tt.form)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("status = %d, want 404", res.StatusCode)
			}
		})
	}
	if w, c := e.dir.writes.Load(), e.kinde.calls.Load(); w != 0 || c != 0 {
		t.Errorf("writes = %d, Kinde calls = %d; want 0, 0", w, c)
	}
}

func TestChangeRolesGuardRails(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	// The last owner cannot drop the owner role.
	res := b.post("/members/kp_olivia/roles", url.Values{"roles": {"admin"}}, HXRequest, "true")
	if res.StatusCode != http.StatusConflict {
		t.Errorf("demote last owner: status = %d, want 409", res.StatusCode)
	}
	if raw := body(t, res); !strings.Contains(raw, "A club needs at least one owner.") {
		t.Error("guard-rail message not shown in the form")
	}
	// An admin cannot grant owner.
	a := e.browser()
	a.signIn(adam)
	res = a.post("/members/kp_mia/roles", url.Values{"roles": {"owner", "member"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("admin grants owner: status = %d, want 403", res.StatusCode)
	}
	if raw := body(t, res); !strings.Contains(raw, "Only owners can grant or remove the owner role.") {
		t.Error("owner-role message not shown")
	}
	if w := e.dir.writes.Load(); w != 0 {
		t.Errorf("directory writes = %d, want 0", w)
	}
	// An unknown role key is refused.
	res = b.post("/members/kp_mia/roles", url.Values{"roles": {"wizard"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown role: status = %d, want 422", res.StatusCode)
	}
	// A valid change is saved, marks the person stale, and shows the row.
	res = b.post("/members/kp_mia/roles", url.Values{"roles": {"coach", "member"}}, HXRequest, "true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("change roles: status = %d, want 200", res.StatusCode)
	}
	d, err := goquery.NewDocumentFromReader(strings.NewReader("<table>" + body(t, res) + "</table>"))
	if err != nil {
		t.Fatal(err)
	}
	var badges []string
	testid(d, "member-row").Find(`[data-testid="role-badge"]`).Each(func(_ int, s *goquery.Selection) { badges = append(badges, s.Text()) })
	if fmt.Sprint(badges) != "[Coach Member]" {
		t.Errorf("badges = %v, want [Coach Member]", badges)
	}
	if _, ok := e.dir.stale["kp_mia"]; !ok {
		t.Error("mia's claims were not marked stale")
	}
}

func TestRemoveMember(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	d := doc(t, b.get("/members/kp_mia/remove"))
	if !strings.Contains(testid(d, "remove-confirm").Text(), "Mia Chen") {
		t.Error("confirm page does not name the member")
	}
	res := b.post("/members/kp_mia/remove", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303", res.StatusCode)
	}
	if got := b.flashTexts("/members"); len(got) != 1 || got[0] != "Removed mia@example.org from Riverside Rowing Club." {
		t.Errorf("flash = %q", got)
	}
	if _, err := e.dir.Member(t.Context(), riverside, "kp_mia"); err == nil {
		t.Error("mia is still a member")
	}
}

func TestFragmentOrFullPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	tests := []struct {
		name     string
		header   []string
		wantHTML bool
	}{
		{"normal request", nil, true},
		{"htmx request", []string{HXRequest, "true"}, false},
		{"boosted", []string{HXRequest, "true", HXBoosted, "true"}, true},
		{"history restore", []string{HXRequest, "true", HXHistoryRestore, "true"}, true},
	}
	for _, tt := range tests {
		for _, target := range []string{"/members", "/members/new", "/members/kp_mia/roles"} {
			t.Run(tt.name+" "+target, func(t *testing.T) {
				res := b.get(target, tt.header...)
				if got := res.Header.Values("Vary"); !contains(got, HXRequest) {
					t.Errorf("Vary = %v, want HX-Request", got)
				}
				raw := body(t, res)
				if got := strings.Contains(raw, "<html"); got != tt.wantHTML {
					t.Errorf("full page = %v, want %v", got, tt.wantHTML)
				}
			})
		}
	}
}

func contains(vs []string, want string) bool {
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == want {
				return true
			}
		}
	}
	return false
}

func TestRefreshFromKindeUnavailable(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	res := b.post("/members/refresh", nil)
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", res.StatusCode)
	}
	if raw := body(t, res); !strings.Contains(raw, "Kinde did not answer. Nothing was changed. Try again in a minute.") {
		t.Error("503 page does not say what happened")
	}
}

func TestActivityListsClubEventsNewestFirst(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		_ = e.audit.Append(t.Context(), club.AuditEvent{ClubCode: riverside, ActorID: "kp_olivia", ActorName: "Olivia Hart",
			Action: club.ActionMemberAdded, TargetEmail: fmt.Sprintf("p%d@example.org", i), At: t0.Add(time.Duration(i) * time.Minute)})
	}
	_ = e.audit.Append(t.Context(), club.AuditEvent{ClubCode: hilltop, ActorID: "kp_tom", Action: club.ActionMemberAdded, TargetEmail: "secret@example.org"})
	b := e.browser()
	b.signIn(olivia)
	res := b.get("/activity")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", res.StatusCode)
	}
	raw := body(t, res)
	if strings.Contains(raw, "secret@example.org") {
		t.Error("another club's event is shown")
	}
	if i, j := strings.Index(raw, "p2@example.org"), strings.Index(raw, "p0@example.org"); i < 0 || j < 0 || i > j {
		t.Error("events are not newest first")
	}
}

func TestDevMailbox(t *testing.T) {
	e := newEnv(t)
	_ = e.mailbox.Deliver(t.Context(), club.Mail{To: "ana@example.org", Subject: "You've been added to Riverside Rowing Club", HTML: "<p>hi</p>", Text: "hi", At: t0})
	b := e.browser()
	d := doc(t, b.get("/dev/mailbox"))
	if got := testid(d, "mail-message").Length(); got != 1 {
		t.Errorf("mailbox messages = %d, want 1", got)
	}
	if res := b.get("/dev/mailbox/1"); res.StatusCode != http.StatusOK {
		t.Errorf("message page = %d", res.StatusCode)
	}
	if res := b.get("/dev/mailbox/99"); res.StatusCode != http.StatusNotFound {
		t.Errorf("missing message = %d, want 404", res.StatusCode)
	}
}

func TestMembersFirstVisitSyncsFromKindeOnce(t *testing.T) {
	e := newEnv(t)
	e.fresh.synced = time.Time{} // this club was never synced
	e.kinde.ClubMembersFunc = func(string) ([]club.Member, error) {
		return []club.Member{{UserID: "kp_zoe", Email: "zoe@example.org", Roles: []string{club.RoleMember}}}, nil
	}
	b := e.browser()
	b.signIn(olivia)
	before := e.dir.writes.Load()
	b.get("/members")
	if got := e.dir.writes.Load() - before; got != 1 {
		t.Fatalf("directory writes on first visit = %d, want 1 (the sync)", got)
	}
	if _, err := e.dir.Member(t.Context(), riverside, "kp_zoe"); err != nil {
		t.Errorf("synced member missing: %v", err)
	}
	e.fresh.synced = t0 // the store records the sync
	b.get("/members")
	if got := e.dir.writes.Load() - before; got != 1 {
		t.Errorf("directory writes after second visit = %d, want still 1", got)
	}
}
