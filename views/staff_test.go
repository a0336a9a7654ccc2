package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/clubhouse/clubhouse/views/layout"
)

func TestStaffConsoleListsClubs(t *testing.T) {
	doc := render(t, StaffConsole(testStaffConsole()))
	rows := byTestID(doc, "staff-club-row")
	if got, want := rows.Length(), 2; got != want {
		t.Fatalf("club rows = %d, want %d", got, want)
	}
	tests := []struct {
		code, link, owners, count string
	}{
		{"org_riverside", "/staff/clubs/org_riverside", "Olivia Hart", "6"},
		{"org_hilltop", "/staff/clubs/org_hilltop", "Not read from Kinde yet", "—"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			row := doc.Find(`[data-testid="staff-club-row"][data-code="` + tt.code + `"]`)
			if href, _ := row.Find(`[data-testid="staff-club-link"]`).Attr("href"); href != tt.link {
				t.Errorf("link = %q, want %q", href, tt.link)
			}
			if got := text(row.Find(`td[data-label="Owners"]`)); got != tt.owners {
				t.Errorf("owners = %q, want %q", got, tt.owners)
			}
			if got := text(row.Find(`[data-testid="staff-member-count"]`)); got != tt.count {
				t.Errorf("count = %q, want %q", got, tt.count)
			}
		})
	}
	if href, _ := doc.Find(`[data-testid="page-next"]`).Attr("href"); href != "/staff?page=2&q=club" {
		t.Errorf("next page = %q", href)
	}
}

func TestStaffClubForm(t *testing.T) {
	doc := render(t, StaffClub(testStaffClub()))
	form := byTestID(doc, "view-as-form")
	if m, _ := form.Attr("method"); m != "post" {
		t.Errorf("method = %q", m)
	}
	if a, _ := form.Attr("action"); a != "/staff/view-as" {
		t.Errorf("action = %q", a)
	}
	if v, _ := form.Find(`input[type="hidden"][name="club"]`).Attr("value"); v != "org_riverside" {
		t.Errorf("club field = %q", v)
	}
	var targets []string
	form.Find(`input[type="radio"][name="target"]`).Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("value")
		if _, checked := s.Attr("checked"); checked {
			v += "*"
		}
		targets = append(targets, v)
	})
	if got, want := strings.Join(targets, " "), "owner kp_olivia kp_mia*"; got != want {
		t.Errorf("targets = %q, want %q (the typed choice kept)", got, want)
	}
	if got := text(byTestID(doc, "view-as-owner").Parent()); !strings.Contains(got, "Olivia Hart") {
		t.Errorf("owner choice = %q, want it to name the owner", got)
	}
	if got := text(byTestID(doc, "error-reason")); got == "" {
		t.Error("no reason error")
	}
	if got := byTestID(doc, "view-as-reason").Text(); got != "short" {
		t.Errorf("reason kept = %q", got)
	}
}

func TestStaffAuditShowsOrigin(t *testing.T) {
	doc := render(t, StaffAudit(testStaffAudit()))
	row := byTestID(doc, "staff-audit-row").First()
	for _, want := range []string{"Riverside Rowing Club", "Sam Rivera (Clubhouse staff)", "Staff view started (read-only)", "Ticket 4512", "192.0.2.7", "Mozilla/5.0"} {
		if !strings.Contains(text(row), want) {
			t.Errorf("row %q lacks %q", text(row), want)
		}
	}
	if got := text(byTestID(doc, "staff-audit-row").Eq(1).Find(`td[data-label="Club"]`)); got != "Every club" {
		t.Errorf("platform row club = %q", got)
	}
	if v, _ := doc.Find(`#staff-audit-club option[selected]`).Attr("value"); v != "org_riverside" {
		t.Errorf("selected club = %q", v)
	}
}

func TestStaffBannerStopCarriesViewID(t *testing.T) {
	sh := testShell("Members")
	sh.StaffBanner = testStaffBanner()
	doc := render(t, Members(MembersPage{Shell: sh, List: testList()}))
	form := byTestID(doc, "staff-banner").Find("form")
	if v, _ := form.Find(`input[name="view_as"]`).Attr("value"); v != "va_123" {
		t.Errorf("view_as = %q", v)
	}
	if byTestID(doc, "staff-stop").Length() != 1 {
		t.Error("no Stop button")
	}
}

func TestStaffActionLabels(t *testing.T) {
	for _, a := range []string{"staff.view_as.started", "staff.view_as.page", "staff.view_as.stopped", "staff.view_as.expired",
		"staff.view_as.refused", "staff.view_as.write_refused", "staff.route_refused"} {
		if got := ActionLabel(a); got == a || !strings.HasPrefix(got, "Staff") {
			t.Errorf("ActionLabel(%q) = %q, want words", a, got)
		}
	}
}

func testStaffBanner() *layout.StaffBanner {
	return &layout.StaffBanner{StaffName: "Sam Rivera", PersonName: "Olivia Hart", ClubName: "Riverside Rowing Club", MinutesLeft: 29,
		StopAction: "/staff/view-as/stop", ViewAsID: "va_123"}
}
