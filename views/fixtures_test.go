package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/clubhouse/clubhouse/views/layout"
)

const testNonce = "n0nce-for-tests"

var testNow = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// renderHTML renders c with a CSP nonce in the context, as the web layer does.
func renderHTML(t *testing.T, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	ctx := templ.WithNonce(t.Context(), testNonce)
	if err := c.Render(ctx, &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.String()
}

// render renders c and parses it for goquery.
func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(renderHTML(t, c)))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// renderInTable renders a fragment that starts with a table row inside a
// table, as the browser parses it when htmx swaps it into one.
func renderInTable(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + renderHTML(t, c) + "</tbody></table>"))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

func byTestID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

var clubRoles = []Role{
	{Key: "owner", Name: "Owner"},
	{Key: "admin", Name: "Admin"},
	{Key: "coach", Name: "Coach"},
	{Key: "member", Name: "Member"},
}

func testShell(title string) layout.ShellProps {
	return layout.ShellProps{
		Title:    title,
		Person:   &layout.Person{Name: "Olivia Owner", Email: "olivia@example.org"},
		ClubName: "Riverside Rowing Club",
		Clubs: []layout.ClubLink{
			{Name: "Riverside Rowing Club", SwitchURL: "/auth/switch?org_code=org_riverside", Current: true},
			{Name: "Hilltop Chess Club", SwitchURL: "/auth/switch?org_code=org_hilltop"},
		},
		AdminNav: true,
		Active:   layout.NavMembers,
		Assets:   layout.Assets{CSS: "/static/app.11111111.css", HTMX: "/static/vendor/htmx-2.0.11.min.22222222.js", AppJS: "/static/app.33333333.js", Icon: "/static/img/favicon.44444444.svg"},
		Flashes:  []layout.Flash{{Kind: layout.FlashSuccess, Text: "Added ana@example.org to Riverside Rowing Club"}},
	}
}

func testRows() []MemberRow {
	return []MemberRow{
		{ID: "kp_mia", Name: "Mia Chen", Email: "mia@example.org", Roles: []Role{{Key: "admin", Name: "Admin"}, {Key: "member", Name: "Member"}}, Joined: testNow.Add(-3 * 24 * time.Hour)},
		{ID: "kp_olivia", Name: "Olivia Owner", Email: "olivia@example.org", Roles: []Role{{Key: "owner", Name: "Owner"}}, Joined: testNow.Add(-400 * 24 * time.Hour), You: true},
		{ID: "kp_tom", Name: "Tom Fisher", Email: "tom@example.org", Roles: []Role{{Key: "member", Name: "Member"}}, Joined: testNow.Add(-2 * time.Hour)},
	}
}

func testList() MemberList {
	return MemberList{
		ClubName: "Riverside Rowing Club", Rows: testRows(), Sort: "name",
		Page: 1, PageSize: 50, Total: 1204, ClubTotal: 1204, Now: testNow,
		LastSynced: testNow.Add(-5 * time.Minute), CanEdit: true,
	}
}

func testMembersPage() MembersPage {
	return MembersPage{Shell: testShell("Members"), List: testList(), AddForm: BlankAddMemberForm("Riverside Rowing Club", clubRoles)}
}

type namedComponent struct {
	name string
	c    templ.Component
}

// everyView renders every page and fragment with realistic models, for the
// checks that must hold everywhere (CSP, labels, unique ids).
func everyView(t *testing.T) []namedComponent {
	t.Helper()
	shell := testShell
	signedOut := layout.ShellProps{Title: "Welcome", Assets: testShell("").Assets}
	staff := testShell("Members")
	staff.StaffBanner = &layout.StaffBanner{StaffName: "Sam Staff", PersonName: "Mia Chen", ClubName: "Riverside Rowing Club", MinutesLeft: 12, StopAction: "/staff/view-as/stop"}
	addErr := AddMemberForm{
		ClubName: "Riverside Rowing Club", Email: "not-an-email", FirstName: "Ana", LastName: "Lopez",
		Roles:     RoleOptions(clubRoles, []string{"coach"}),
		Errors:    FieldErrors{"email": "Enter a valid email address, like ana@example.org.", "roles": "Choose roles from the list."},
		FormError: "Check the highlighted fields. Nothing was changed.",
	}
	editForm := EditRolesForm{MemberID: "kp_mia", Name: "Mia Chen", Email: "mia@example.org", Roles: RoleOptions(clubRoles, []string{"admin", "member"}), Error: "Only owners can grant or remove the owner role."}
	added := testList()
	added.Rows = append([]MemberRow{{ID: "kp_ana", Name: "Ana Lopez", Email: "ana@example.org", Roles: []Role{{Key: "member", Name: "Member"}}, Joined: testNow, Highlight: true}}, added.Rows...)
	empty := MemberList{ClubName: "Riverside Rowing Club", Page: 1, PageSize: 50, Now: testNow, CanEdit: true}
	noHits := MemberList{ClubName: "Riverside Rowing Club", Query: "zzz", Sort: "-joined", Page: 1, PageSize: 50, ClubTotal: 3, Now: testNow, CanEdit: true}
	return []namedComponent{
		{"landing", Landing(LandingPage{Shell: signedOut})},
		{"onboarding", Onboarding(OnboardingPage{Shell: shell("Create your club"), Form: OnboardingForm{Name: "R", Error: "A club name needs at least 2 characters."}})},
		{"club home", ClubHome(ClubHomePage{Shell: shell("Riverside Rowing Club"), ClubName: "Riverside Rowing Club", Roles: clubRoles[:1], OtherClubs: shell("").Clubs[1:], CanManageMembers: true})},
		{"members", Members(testMembersPage())},
		{"members staff view", Members(MembersPage{Shell: staff, List: MemberList{Rows: testRows(), Total: 3, ClubTotal: 3, Now: testNow}})},
		{"members empty", Members(MembersPage{Shell: shell("Members"), List: empty, AddForm: BlankAddMemberForm("Riverside Rowing Club", clubRoles)})},
		{"members no hits", Members(MembersPage{Shell: shell("Members"), List: noHits, AddForm: BlankAddMemberForm("Riverside Rowing Club", clubRoles)})},
		{"members table", MembersTable(testList())},
		{"add member fragment", AddMemberFragment(addErr)},
		{"add member page", AddMember(AddMemberPage{Shell: shell("Add member"), Form: addErr})},
		{"member added", MemberAddedFragment(MemberAdded{Form: BlankAddMemberForm("Riverside Rowing Club", clubRoles), List: added, Flashes: []layout.Flash{{Kind: layout.FlashSuccess, Text: "Added ana@example.org to Riverside Rowing Club"}}})},
		{"members updated", MembersUpdatedFragment(MembersUpdate{List: testList(), Flashes: []layout.Flash{{Kind: layout.FlashInfo, Text: "Members refreshed from Kinde."}}})},
		{"edit roles row", EditRolesRow(editForm)},
		{"edit roles page", EditRoles(EditRolesPage{Shell: shell("Edit roles"), Form: editForm})},
		{"roles saved", RolesSavedFragment(RolesSaved{Row: testRows()[0], Now: testNow, CanEdit: true, Flashes: []layout.Flash{{Kind: layout.FlashSuccess, Text: "Saved roles for Mia Chen."}}})},
		{"remove", RemoveMember(RemoveMemberPage{Shell: shell("Remove member"), MemberID: "kp_mia", Name: "Mia Chen", Email: "mia@example.org", ClubName: "Riverside Rowing Club", Error: "A club needs at least one owner."})},
		{"switch club", SwitchClub(SwitchClubPage{Shell: shell("Switch club"), ClubCode: "org_hilltop", ClubName: "Hilltop Chess Club", CurrentClubName: "Riverside Rowing Club"})},
		{"members failed invitations", Members(MembersPage{Shell: shell("Members"), List: testList(), FailedInvitations: 2})},
		{"invitations", Invitations(testInvitationsPage())},
		{"invitations empty", Invitations(InvitationsPage{Shell: shell("Invitations"), Page: 1, PageSize: 50, Now: testNow})},
		{"settings", Settings(SettingsPage{Shell: shell("Settings"), ClubCode: "org_a158cf7f3dd",
			SignInURL: "https://clubs.example.org/auth/login?org_code=org_a158cf7f3dd", Form: SettingsForm{Name: "Riverside Rowing Club"}})},
		{"settings errors", Settings(SettingsPage{Shell: shell("Settings"), ClubCode: "org_a158cf7f3dd",
			Form: SettingsForm{Name: "R", Error: "Club name needs at least 2 characters.", FormError: "Kinde did not answer. Nothing was changed."}})},
		{"activity", Activity(testActivityPage())},
		{"activity empty", Activity(ActivityPage{Shell: shell("Activity"), Now: testNow})},
		{"mailbox", Mailbox(testMailboxPage())},
		{"mailbox empty", Mailbox(MailboxPage{Shell: shell("Dev mailbox"), Now: testNow})},
		{"mail message", MailMessage(testMailMessagePage(t))},
		{"error 403", Error(withShell(ErrorFor(403), shell("Error")))},
		{"error 503 signed out", Error(withShell(ErrorFor(503), signedOut))},
		{"error fragment", ErrorFragment(ErrorFor(404))},
		{"staff console", StaffConsole(testStaffConsole())},
		{"staff console empty", StaffConsole(StaffConsolePage{Shell: shell("Clubs"), Query: "zzz", Page: 1, PageSize: 20})},
		{"staff club", StaffClub(testStaffClub())},
		{"staff audit", StaffAudit(testStaffAudit())},
		{"staff audit empty", StaffAudit(StaffAuditPage{Shell: shell("Staff audit log"), Page: 1, PageSize: 50, Now: testNow})},
		{"import upload", ImportUpload(ImportUploadPage{Shell: shell("Import members"), MaxRows: 5000, MaxMB: 2, Error: "The file is not UTF-8 text."})},
		{"import preview", ImportPreview(testImportPreview())},
		{"import preview nothing", ImportPreview(ImportPreviewPage{Shell: shell("Check the import"), ClubName: "Riverside Rowing Club", Skipped: 1, Bad: []ImportProblem{{Line: 2, Email: "x", Reason: "Enter a valid email address."}}})},
		{"import progress", ImportProgressView(ImportProgressPage{Shell: shell("Importing members"), Progress: testImportProgress(false)})},
		{"import progress fragment done", ImportProgressFragment(testImportProgress(true))},
	}
}

func testStaffConsole() StaffConsolePage {
	return StaffConsolePage{
		Shell: testShell("Clubs"), Query: "club", Page: 1, PageSize: 2, Total: 3,
		Clubs: []StaffClubSummary{
			{Code: "org_riverside", Name: "Riverside Rowing Club", Owners: []string{"Olivia Hart"}, MemberCount: 6, Synced: true},
			{Code: "org_hilltop", Name: "Hilltop Tennis Club"},
		},
	}
}

func testStaffClub() StaffClubPage {
	people := []MemberRow{
		{ID: "kp_olivia", Name: "Olivia Hart", Email: "olivia@example.org", Roles: []Role{{Key: "owner", Name: "Owner"}}, Joined: testNow.Add(-400 * 24 * time.Hour)},
		{ID: "kp_mia", Name: "Mia Chen", Email: "mia@example.org", Roles: []Role{{Key: "member", Name: "Member"}}, Joined: testNow.Add(-3 * 24 * time.Hour)},
	}
	return StaffClubPage{
		Shell: testShell("Riverside Rowing Club"), Code: "org_riverside", Name: "Riverside Rowing Club",
		Owners: people[:1], Members: people, Page: 1, PageSize: 50, Total: 2, Now: testNow,
		Form: ViewAsForm{Target: "kp_mia", Reason: "short",
			Errors: FieldErrors{"reason": "Give a reason of at least 10 characters."}},
	}
}

func testStaffAudit() StaffAuditPage {
	return StaffAuditPage{
		Shell: testShell("Staff audit log"), Club: "org_riverside", Page: 1, PageSize: 50, Total: 2, Now: testNow,
		Clubs: []StaffClubOption{{Code: "org_riverside", Name: "Riverside Rowing Club"}, {Code: "org_hilltop", Name: "Hilltop Tennis Club"}},
		Rows: []StaffAuditRow{
			{ActivityRow: ActivityRow{At: testNow.Add(-time.Minute), ActorID: "kp_sam", ActorName: "Sam Rivera (Clubhouse staff)",
				Action: "staff.view_as.started", TargetID: "kp_olivia", Target: "olivia@example.org", Detail: "Ticket 4512"},
				ClubName: "Riverside Rowing Club", IP: "192.0.2.7", UserAgent: "Mozilla/5.0"},
			{ActivityRow: ActivityRow{At: testNow.Add(-time.Hour), ActorID: "kp_olivia", ActorName: "Olivia Hart",
				Action: "staff.route_refused", Detail: "GET /staff"}},
		},
	}
}

func withShell(p ErrorPage, s layout.ShellProps) ErrorPage {
	p.Shell = s
	return p
}

func testInvitationsPage() InvitationsPage {
	return InvitationsPage{
		Shell: testShell("Invitations"), Page: 1, PageSize: 50, Total: 4, Now: testNow,
		Rows: []InvitationRow{
			{Email: "ana@example.org", Name: "Ana Lopez", InvitedBy: "Olivia Hart", Status: InvitationSending, Created: testNow},
			{Email: "mia@example.org", Name: "Mia Chen", InvitedBy: "Olivia Hart", Status: InvitationRetrying, Attempts: 2,
				LastError: "the mail server did not answer", Created: testNow.Add(-time.Hour), NextTry: testNow.Add(10 * time.Minute)},
			{Email: "adam@example.org", Name: "Adam Brooks", Status: InvitationSent, Created: testNow.Add(-48 * time.Hour),
				Sent: testNow.Add(-47 * time.Hour), ResendID: "kp_adam"},
			{Email: "lea@example.org", Name: "Lea Gone", Status: InvitationFailed, Attempts: 6,
				LastError: "the mail server refused the address", Created: testNow.Add(-72 * time.Hour), ResendID: "kp_lea"},
		},
	}
}

func testActivityPage() ActivityPage {
	return ActivityPage{
		Shell:  testShell("Activity"),
		People: []PersonOption{{ID: "kp_olivia", Name: "Olivia Owner"}, {ID: "kp_mia", Name: "Mia Chen"}},
		Person: "kp_mia",
		Rows: []ActivityRow{
			{At: testNow.Add(-time.Hour), ActorID: "kp_olivia", ActorName: "Olivia Owner", Action: "member.roles_changed", TargetID: "kp_mia", Target: "mia@example.org", Detail: "admin, member → member"},
			{At: testNow.Add(-48 * time.Hour), ActorID: "kp_olivia", ActorName: "Olivia Owner", Action: "member.added", TargetID: "kp_mia", Target: "mia@example.org"},
			{At: testNow.Add(-72 * time.Hour), ActorName: "Clubhouse", Action: "something.new", Target: ""},
		},
		Page: 1, PageSize: 2, Total: 3, Now: testNow,
	}
}

func testMailboxPage() MailboxPage {
	return MailboxPage{
		Shell: testShell("Dev mailbox"),
		Messages: []MailSummary{
			{ID: 2, To: "ana@example.org", Subject: "You've been added to Riverside Rowing Club", At: testNow.Add(-time.Minute), Status: MailSent},
			{ID: 1, To: "bob@example.org", Subject: "You've been added to Riverside Rowing Club", At: testNow.Add(-time.Hour), Status: MailRetrying},
		},
		Now: testNow,
	}
}

func testMailMessagePage(t *testing.T) MailMessagePage {
	t.Helper()
	inv := InvitationEmail{ClubName: "Riverside Rowing Club", PersonName: "Ana", InvitedBy: "Olivia Owner", SignInURL: "http://127.0.0.1:8080/auth/login?org_code=org_riverside&login_hint=ana%40example.org"}
	subject, html, text, err := RenderInvitation(t.Context(), inv)
	if err != nil {
		t.Fatalf("RenderInvitation: %v", err)
	}
	return MailMessagePage{
		Shell: testShell("Dev mailbox"), ID: 2, From: "Clubhouse <no-reply@clubhouse.local>", To: "ana@example.org",
		Subject: subject, At: testNow.Add(-time.Minute), Status: MailSent,
		HTML: html + `<script>alert("from the email")</script>`, Text: text, Now: testNow,
	}
}

func testImportPreview() ImportPreviewPage {
	return ImportPreviewPage{
		Shell: testShell("Check the import"), ClubName: "Riverside Rowing Club", FileName: "members.csv", Valid: 2, Skipped: 2,
		Bad:            []ImportProblem{{Line: 3, Email: "bo@example.org", Reason: "First name starts with =, which a spreadsheet would run as a formula."}},
		Duplicates:     []ImportDuplicate{{Email: "ana@example.org", Lines: "2, 4"}},
		IgnoredColumns: []string{"phone"},
		CSV:            "email,first_name,last_name,roles\nana@example.org,Ana,L,member\n",
	}
}

func testImportProgress(done bool) ImportProgress {
	return ImportProgress{URL: "/imports/7", ResultsURL: "/imports/7/results.csv", FileName: "members.csv", StartedBy: "Olivia Hart",
		Done: done, ToRun: 10, Finished: 4, Percent: 40, Added: 3, AlreadyMember: 1, Skipped: 2}
}
