package views

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/clubhouse/clubhouse/views/layout"
)

func TestMembersPageListsRows(t *testing.T) {
	doc := render(t, Members(testMembersPage()))
	rows := byTestID(doc, "member-row")
	if got, want := rows.Length(), 3; got != want {
		t.Fatalf("member rows = %d, want %d", got, want)
	}
	tests := []struct {
		email  string
		name   string
		badges []string
		joined string
	}{
		{"mia@example.org", "Mia Chen", []string{"Admin", "Member"}, "3 days ago"},
		{"olivia@example.org", "Olivia Owner You", []string{"Owner"}, "1 year ago"},
		{"tom@example.org", "Tom Fisher", []string{"Member"}, "2 hours ago"},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			row := doc.Find(`[data-testid="member-row"][data-email="` + tt.email + `"]`)
			if row.Length() != 1 {
				t.Fatalf("no row with data-email %q", tt.email)
			}
			if got := text(row.Find(`[data-testid="member-name"]`)); got != tt.name {
				t.Errorf("name = %q, want %q", got, tt.name)
			}
			if got := text(row.Find(`[data-testid="member-email"]`)); got != tt.email {
				t.Errorf("email = %q, want %q", got, tt.email)
			}
			var badges []string
			row.Find(`[data-testid="role-badge"]`).Each(func(_ int, s *goquery.Selection) { badges = append(badges, text(s)) })
			if strings.Join(badges, ",") != strings.Join(tt.badges, ",") {
				t.Errorf("badges = %v, want %v", badges, tt.badges)
			}
			tm := row.Find("time")
			if got := text(tm); got != tt.joined {
				t.Errorf("joined = %q, want %q", got, tt.joined)
			}
			if dt, _ := tm.Attr("datetime"); dt == "" {
				t.Error("joined has no datetime")
			}
			if title, _ := tm.Attr("title"); !strings.HasSuffix(title, "UTC") {
				t.Errorf("joined title = %q, want an exact date", title)
			}
			if row.Find(".avatar").Length() != 1 {
				t.Error("no avatar")
			}
		})
	}
	if got := text(byTestID(doc, "member-count")); got != "1,204 in total" {
		t.Errorf("count = %q", got)
	}
	if got := text(doc.Find("h1")); !strings.HasPrefix(got, "Members 1,204") {
		t.Errorf("h1 = %q", got)
	}
	// Row actions: edit inline with htmx, or as a page; remove via a confirm page.
	edit := doc.Find(`[data-testid="member-row"][data-email="mia@example.org"] [data-testid="edit-roles-link"]`)
	if href, _ := edit.Attr("href"); href != "/members/kp_mia/roles" {
		t.Errorf("edit roles href = %q", href)
	}
	if target, _ := edit.Attr("hx-target"); target != "closest tr" {
		t.Errorf("edit roles hx-target = %q", target)
	}
	remove := doc.Find(`[data-testid="member-row"][data-email="mia@example.org"] [data-testid="remove-link"]`)
	if href, _ := remove.Attr("href"); href != "/members/kp_mia/remove" {
		t.Errorf("remove href = %q", href)
	}
	if got := text(byTestID(doc, "last-synced")); got != "Last synced with Kinde 5 minutes ago" {
		t.Errorf("last synced = %q", got)
	}
	if action, _ := byTestID(doc, "refresh-form").Attr("action"); action != "/members/refresh" {
		t.Errorf("refresh action = %q", action)
	}
}

func TestMembersTableHeaders(t *testing.T) {
	tests := []struct {
		sort           string
		wantNameSort   string
		wantNameHref   string
		wantJoinedSort string
		wantJoinedHref string
	}{
		{"name", "ascending", "/members?q=ch&sort=-name", "", "/members?q=ch&sort=-joined"},
		{"-name", "descending", "/members?q=ch", "", "/members?q=ch&sort=-joined"},
		{"-joined", "", "/members?q=ch", "descending", "/members?q=ch&sort=joined"},
		{"joined", "", "/members?q=ch", "ascending", "/members?q=ch&sort=-joined"},
		{"bogus", "ascending", "/members?q=ch&sort=-name", "", "/members?q=ch&sort=-joined"},
	}
	for _, tt := range tests {
		t.Run(tt.sort, func(t *testing.T) {
			l := testList()
			l.Query, l.Sort = "ch", tt.sort
			doc := render(t, MembersTable(l))
			ths := doc.Find("thead th")
			if ths.Length() != 4 {
				t.Fatalf("th count = %d", ths.Length())
			}
			ths.Each(func(_ int, th *goquery.Selection) {
				if scope, _ := th.Attr("scope"); scope != "col" {
					t.Errorf("th %q scope = %q", text(th), scope)
				}
			})
			check := func(th *goquery.Selection, wantSort, wantHref string) {
				t.Helper()
				got, ok := th.Attr("aria-sort")
				if wantSort == "" && ok || got != wantSort {
					t.Errorf("%s aria-sort = %q, want %q", text(th), got, wantSort)
				}
				a := th.Find("a")
				if href, _ := a.Attr("href"); href != wantHref {
					t.Errorf("%s href = %q, want %q", text(th), href, wantHref)
				}
				if hx, _ := a.Attr("hx-get"); hx != wantHref {
					t.Errorf("%s hx-get = %q, want %q", text(th), hx, wantHref)
				}
				if push, _ := a.Attr("hx-push-url"); push != "true" {
					t.Errorf("%s hx-push-url = %q", text(th), push)
				}
			}
			check(ths.Eq(0), tt.wantNameSort, tt.wantNameHref)
			check(ths.Eq(2), tt.wantJoinedSort, tt.wantJoinedHref)
		})
	}
}

func TestPagination(t *testing.T) {
	tests := []struct {
		name        string
		page, total int
		wantSummary string
		wantPrev    string
		wantNext    string
	}{
		{"first", 1, 1204, "Showing 1–50 of 1,204", "", "/members?page=2"},
		{"middle", 2, 1204, "Showing 51–100 of 1,204", "/members", "/members?page=3"},
		{"last", 25, 1204, "Showing 1,201–1,204 of 1,204", "/members?page=24", ""},
		{"one page", 1, 3, "Showing 1–3 of 3", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testList()
			l.Page, l.Total = tt.page, tt.total
			doc := render(t, MembersTable(l))
			if got := text(byTestID(doc, "page-summary")); got != tt.wantSummary {
				t.Errorf("summary = %q, want %q", got, tt.wantSummary)
			}
			for id, want := range map[string]string{"page-prev": tt.wantPrev, "page-next": tt.wantNext} {
				link := byTestID(doc, id)
				href, _ := link.Attr("href")
				if href != want {
					t.Errorf("%s href = %q, want %q", id, href, want)
				}
				if want != "" {
					if target, _ := link.Attr("hx-target"); target != "#members-table" {
						t.Errorf("%s hx-target = %q", id, target)
					}
				}
			}
		})
	}
}

func TestMembersEmptyStates(t *testing.T) {
	t.Run("no members yet", func(t *testing.T) {
		l := MemberList{ClubName: "Riverside Rowing Club", Page: 1, Now: testNow, CanEdit: true}
		doc := render(t, MembersTable(l))
		es := byTestID(doc, "empty-state")
		if es.Length() != 1 || !strings.Contains(text(es), "No members yet") {
			t.Fatalf("empty state = %q", text(es))
		}
		if kind, _ := es.Attr("data-kind"); kind != "empty" {
			t.Errorf("kind = %q", kind)
		}
		if es.Find(`[data-testid="add-member-button"]`).Length() != 1 {
			t.Error("empty state has no Add member button")
		}
		if doc.Find("table").Length() != 0 || byTestID(doc, "member-row").Length() != 0 {
			t.Error("empty state still shows a table")
		}
	})
	t.Run("no members, read-only", func(t *testing.T) {
		doc := render(t, MembersTable(MemberList{Now: testNow}))
		if byTestID(doc, "add-member-button").Length() != 0 {
			t.Error("read-only empty state offers Add member")
		}
	})
	t.Run("search without hits", func(t *testing.T) {
		l := MemberList{ClubName: "Riverside Rowing Club", Query: "zzz", Sort: "-joined", Page: 1, ClubTotal: 3, Now: testNow, CanEdit: true}
		doc := render(t, MembersTable(l))
		es := byTestID(doc, "empty-state")
		if !strings.Contains(text(es), "No members match “zzz”") {
			t.Errorf("no-hits text = %q", text(es))
		}
		if kind, _ := es.Attr("data-kind"); kind != "no-results" {
			t.Errorf("kind = %q", kind)
		}
		clear := byTestID(doc, "clear-search")
		if href, _ := clear.Attr("href"); href != "/members?sort=-joined" {
			t.Errorf("clear search href = %q", href)
		}
		if strings.Contains(text(es), "No members yet") {
			t.Error("no-hits state says the club is empty")
		}
	})
}

func TestSearchForm(t *testing.T) {
	l := testList()
	l.Query, l.Sort = "mia", "-joined"
	p := testMembersPage()
	p.List = l
	doc := render(t, Members(p))
	form := byTestID(doc, "member-search")
	for attr, want := range map[string]string{"method": "get", "action": "/members", "role": "search"} {
		if got, _ := form.Attr(attr); got != want {
			t.Errorf("form %s = %q, want %q", attr, got, want)
		}
	}
	in := form.Find(`input[name="q"]`)
	for attr, want := range map[string]string{
		"type": "search", "value": "mia", "hx-get": "/members",
		"hx-trigger": "input changed delay:300ms, search", "hx-target": "#members-table",
		"hx-push-url": "true", "hx-include": "closest form",
	} {
		if got, _ := in.Attr(attr); got != want {
			t.Errorf("search input %s = %q, want %q", attr, got, want)
		}
	}
	if v, _ := form.Find(`input[name="sort"]`).Attr("value"); v != "-joined" {
		t.Errorf("hidden sort = %q", v)
	}
	if form.Find(`button[type="submit"]`).Length() != 1 {
		t.Error("search has no submit button for use without JavaScript")
	}
	if doc.Find("#members-table").Length() != 1 {
		t.Error("no #members-table region for htmx to swap")
	}
}

func TestAddMemberDialog(t *testing.T) {
	doc := render(t, Members(testMembersPage()))
	dialog := doc.Find("dialog#add-member-dialog")
	if dialog.Length() != 1 {
		t.Fatal("no add-member <dialog>")
	}
	btn := doc.Find(`.page-header [data-testid="add-member-button"]`)
	if href, _ := btn.Attr("href"); href != "/members/new" {
		t.Errorf("Add member falls back to %q, want /members/new", href)
	}
	if open, _ := btn.Attr("data-dialog-open"); open != "add-member-dialog" {
		t.Errorf("data-dialog-open = %q", open)
	}
	form := dialog.Find(`[data-testid="add-member-form"]`)
	for attr, want := range map[string]string{"method": "post", "action": "/members", "hx-post": "/members", "hx-target": "this", "hx-swap": "outerHTML"} {
		if got, _ := form.Attr(attr); got != want {
			t.Errorf("form %s = %q, want %q", attr, got, want)
		}
	}
	if got, _ := form.Attr("hx-disabled-elt"); !strings.Contains(got, "button") {
		t.Errorf("hx-disabled-elt = %q", got)
	}
	var checked []string
	form.Find(`input[name="roles"]:checked`).Each(func(_ int, s *goquery.Selection) { v, _ := s.Attr("value"); checked = append(checked, v) })
	if strings.Join(checked, ",") != "member" {
		t.Errorf("preselected roles = %v, want [member]", checked)
	}
	if form.Find(`input[name="roles"]`).Length() != 4 {
		t.Errorf("role choices = %d, want 4", form.Find(`input[name="roles"]`).Length())
	}
	if dialog.Find(`form[method="dialog"] button`).Length() != 1 {
		t.Error("dialog has no close button that works without JavaScript")
	}

	t.Run("read-only has no dialog", func(t *testing.T) {
		p := testMembersPage()
		p.List.CanEdit = false
		doc := render(t, Members(p))
		for _, sel := range []string{"dialog", `[data-testid="add-member-button"]`, `[data-testid="edit-roles-link"]`, `[data-testid="refresh-form"]`, "details.row-menu"} {
			if doc.Find(sel).Length() != 0 {
				t.Errorf("read-only page shows %s", sel)
			}
		}
	})
}

func TestAddMemberFormKeepsValuesAndShowsErrors(t *testing.T) {
	f := AddMemberForm{
		Email: "ana@", FirstName: "Ana", LastName: "López",
		Roles:     RoleOptions(clubRoles, []string{"coach", "admin"}),
		Errors:    FieldErrors{"email": "Enter a valid email address, like ana@example.org.", "last_name": "Last name can be at most 100 characters.", "roles": "Choose roles from the list."},
		FormError: "Kinde did not answer. Nothing was changed. Try again in a minute.",
	}
	doc := render(t, AddMemberFragment(f))
	form := byTestID(doc, "add-member-form")
	values := map[string]string{"email": "ana@", "first_name": "Ana", "last_name": "López"}
	for name, want := range values {
		if got, _ := form.Find(`input[name="` + name + `"]`).Attr("value"); got != want {
			t.Errorf("%s value = %q, want %q", name, got, want)
		}
	}
	for field, want := range f.Errors {
		errEl := byTestID(doc, "error-"+field)
		if got := text(errEl); got != want {
			t.Errorf("error-%s = %q, want %q", field, got, want)
		}
	}
	if byTestID(doc, "error-first_name").Length() != 0 {
		t.Error("first_name shows an error it does not have")
	}
	email := form.Find(`input[name="email"]`)
	if inv, _ := email.Attr("aria-invalid"); inv != "true" {
		t.Error("email is not aria-invalid")
	}
	errID, _ := byTestID(doc, "error-email").Attr("id")
	if desc, _ := email.Attr("aria-describedby"); !strings.Contains(desc, errID) {
		t.Errorf("email aria-describedby = %q, want it to include %q", desc, errID)
	}
	if got := text(byTestID(doc, "form-error")); got != f.FormError {
		t.Errorf("form error = %q", got)
	}
	var checked []string
	form.Find(`input[name="roles"]:checked`).Each(func(_ int, s *goquery.Selection) { v, _ := s.Attr("value"); checked = append(checked, v) })
	if strings.Join(checked, ",") != "admin,coach" {
		t.Errorf("checked roles = %v, want admin and coach", checked)
	}

	t.Run("standalone page is a plain form", func(t *testing.T) {
		doc := render(t, AddMember(AddMemberPage{Shell: testShell("Add member"), Form: f}))
		form := byTestID(doc, "add-member-form")
		if _, ok := form.Attr("hx-post"); ok {
			t.Error("full-page form uses htmx")
		}
		if m, _ := form.Attr("method"); m != "post" {
			t.Errorf("method = %q", m)
		}
		if href, _ := form.Find(`a.btn`).Attr("href"); href != "/members" {
			t.Errorf("cancel = %q", href)
		}
		if got, _ := form.Find(`input[name="email"]`).Attr("value"); got != "ana@" {
			t.Errorf("email value = %q", got)
		}
	})
}

func TestMarkupInNamesIsEscaped(t *testing.T) {
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	p := testMembersPage()
	p.List.Rows = []MemberRow{{ID: `kp_"><script>`, Name: evil, Email: "evil@example.org", Joined: testNow}}
	p.List.Query = evil
	p.Shell.Person.Name = evil
	p.Shell.Flashes = []layout.Flash{{Kind: layout.FlashError, Text: evil}}
	p.AddForm.FirstName = evil
	for _, c := range []namedComponent{
		{"members", Members(p)},
		{"remove", RemoveMember(RemoveMemberPage{Shell: p.Shell, MemberID: `x"><script>`, Name: evil, Email: evil, ClubName: evil})},
		{"add form", AddMemberFragment(AddMemberForm{FirstName: evil, Errors: FieldErrors{"first_name": evil}})},
	} {
		t.Run(c.name, func(t *testing.T) {
			html := renderHTML(t, c.c)
			doc := render(t, c.c)
			doc.Find("script").Each(func(_ int, s *goquery.Selection) {
				if src, ok := s.Attr("src"); !ok || !strings.HasPrefix(src, "/static/") {
					h, _ := goquery.OuterHtml(s)
					t.Errorf("a <script> that is not ours: %s", h)
				}
			})
			if doc.Find("img").Length() != 0 {
				t.Error("an <img> element was injected")
			}
			if doc.Find("[onerror]").Length() != 0 {
				t.Error("an onerror attribute was injected")
			}
			if !strings.Contains(html, "&lt;script&gt;") {
				t.Error("the markup does not appear escaped")
			}
		})
	}
}

func TestMemberAddedFragment(t *testing.T) {
	list := testList()
	list.ClubTotal = 1205
	list.Rows = append([]MemberRow{{ID: "kp_ana", Name: "Ana Lopez", Email: "ana@example.org", Roles: []Role{{Key: "member", Name: "Member"}}, Joined: testNow, Highlight: true}}, list.Rows...)
	m := MemberAdded{Form: BlankAddMemberForm("Riverside Rowing Club", clubRoles), List: list, Flashes: []layout.Flash{{Kind: layout.FlashSuccess, Text: "Added ana@example.org to Riverside Rowing Club"}}}
	html := renderHTML(t, MemberAddedFragment(m))
	if !strings.HasPrefix(strings.TrimSpace(html), `<form id="add-member-form"`) {
		t.Errorf("the main content is not the form (htmx swaps the form): %.80s", html)
	}
	doc := render(t, MemberAddedFragment(m))
	form := byTestID(doc, "add-member-form")
	if done, _ := form.Attr("data-dialog-done"); done != "add-member-dialog" {
		t.Errorf("form data-dialog-done = %q", done)
	}
	if v, _ := form.Find(`input[name="email"]`).Attr("value"); v != "" {
		t.Errorf("form not blank: email %q", v)
	}
	table := doc.Find("#members-table")
	if oob, _ := table.Attr("hx-swap-oob"); oob != "true" {
		t.Errorf("table hx-swap-oob = %q", oob)
	}
	first := table.Find(`[data-testid="member-row"]`).First()
	if e, _ := first.Attr("data-email"); e != "ana@example.org" {
		t.Errorf("first row = %q, want the new member", e)
	}
	if !first.HasClass("is-new") {
		t.Error("new row is not highlighted")
	}
	if table.Find(".is-new").Length() != 1 {
		t.Error("more than one row highlighted")
	}
	count := doc.Find("#member-count")
	if oob, _ := count.Attr("hx-swap-oob"); oob != "true" || !strings.HasPrefix(text(count), "1,205") {
		t.Errorf("count oob = %q, text %q", oob, text(count))
	}
	flash := doc.Find(`template #flashes[hx-swap-oob]`)
	if flash.Length() != 1 {
		t.Fatal("no out-of-band flash inside a <template>")
	}
	if got := text(flash.Find(`[data-testid="flash"]`)); got != "Added ana@example.org to Riverside Rowing Club" {
		t.Errorf("flash = %q", got)
	}
}

func TestMembersUpdatedFragment(t *testing.T) {
	m := MembersUpdate{List: testList(), Flashes: []layout.Flash{{Kind: layout.FlashInfo, Text: "Members refreshed from Kinde."}}}
	html := renderHTML(t, MembersUpdatedFragment(m))
	if !strings.HasPrefix(strings.TrimSpace(html), `<div id="members-table"`) {
		t.Errorf("fragment does not start with the table region: %.80s", html)
	}
	doc := render(t, MembersUpdatedFragment(m))
	if _, ok := doc.Find("#members-table").Attr("hx-swap-oob"); ok {
		t.Error("the main table is marked out of band")
	}
	if got := text(doc.Find(`template #flashes [data-testid="flash"]`)); got != "Members refreshed from Kinde." {
		t.Errorf("flash = %q", got)
	}
}

func TestEditRoles(t *testing.T) {
	f := EditRolesForm{
		MemberID: "kp_mia", Name: "Mia Chen", Email: "mia@example.org",
		Roles:     RoleOptions(clubRoles, []string{"admin", "owner"}),
		Error:     "A club needs at least one owner.",
		FormError: "",
		CancelURL: "/members?q=mia",
	}
	f.Roles[0].Disabled, f.Roles[0].Hint = true, "Only owners can change this."

	t.Run("inline row", func(t *testing.T) {
		html := renderHTML(t, EditRolesRow(f))
		if !strings.HasPrefix(strings.TrimSpace(html), "<tr") {
			t.Fatalf("inline editor is not a table row: %.60s", html)
		}
		doc := renderInTable(t, EditRolesRow(f))
		form := byTestID(doc, "edit-roles-form")
		for attr, want := range map[string]string{"method": "post", "action": "/members/kp_mia/roles", "hx-post": "/members/kp_mia/roles", "hx-target": "closest tr", "hx-swap": "outerHTML"} {
			if got, _ := form.Attr(attr); got != want {
				t.Errorf("form %s = %q, want %q", attr, got, want)
			}
		}
		if got := text(byTestID(doc, "error-roles")); got != "A club needs at least one owner." {
			t.Errorf("error-roles = %q", got)
		}
		var checked []string
		form.Find(`input[type="checkbox"]:checked`).Each(func(_ int, s *goquery.Selection) { v, _ := s.Attr("value"); checked = append(checked, v) })
		if strings.Join(checked, ",") != "owner,admin" {
			t.Errorf("checked = %v", checked)
		}
		if form.Find(`input[type="checkbox"][value="owner"][disabled]`).Length() != 1 {
			t.Error("owner is not disabled")
		}
		if form.Find(`input[type="hidden"][name="roles"][value="owner"]`).Length() != 1 {
			t.Error("a checked, disabled owner would not be submitted")
		}
		cancel := form.Find(`a.btn`)
		if href, _ := cancel.Attr("href"); href != "/members?q=mia" {
			t.Errorf("cancel href = %q", href)
		}
		if byTestID(doc, "role-badge").Length() != 0 {
			t.Error("role choices are marked as role badges")
		}
	})
	t.Run("full page", func(t *testing.T) {
		doc := render(t, EditRoles(EditRolesPage{Shell: testShell("Edit roles"), Form: f}))
		form := byTestID(doc, "edit-roles-form")
		if _, ok := form.Attr("hx-post"); ok {
			t.Error("full-page editor uses htmx")
		}
		if a, _ := form.Attr("action"); a != "/members/kp_mia/roles" {
			t.Errorf("action = %q", a)
		}
	})
	t.Run("saved", func(t *testing.T) {
		row := testRows()[0]
		row.Highlight = true
		m := RolesSaved{Row: row, Now: testNow, CanEdit: true, Flashes: []layout.Flash{{Kind: layout.FlashSuccess, Text: "Saved roles for Mia Chen."}}}
		html := renderHTML(t, RolesSavedFragment(m))
		if !strings.HasPrefix(strings.TrimSpace(html), "<tr") {
			t.Fatalf("saved fragment does not start with the row: %.60s", html)
		}
		doc := renderInTable(t, RolesSavedFragment(m))
		if !byTestID(doc, "member-row").HasClass("is-new") {
			t.Error("saved row not highlighted")
		}
		if got := text(doc.Find(`template #flashes [data-testid="flash"]`)); got != "Saved roles for Mia Chen." {
			t.Errorf("flash = %q", got)
		}
	})
}

func TestRemoveMemberPage(t *testing.T) {
	doc := render(t, RemoveMember(RemoveMemberPage{Shell: testShell("Remove member"), MemberID: "kp_mia", Name: "Mia Chen", Email: "mia@example.org", ClubName: "Riverside Rowing Club"}))
	if got := text(doc.Find("h1")); got != "Remove Mia Chen from Riverside Rowing Club?" {
		t.Errorf("h1 = %q", got)
	}
	form := byTestID(doc, "remove-form")
	if a, _ := form.Attr("action"); a != "/members/kp_mia/remove" {
		t.Errorf("action = %q", a)
	}
	if m, _ := form.Attr("method"); m != "post" {
		t.Errorf("method = %q", m)
	}
	if form.Find("button.btn--danger").Length() != 1 {
		t.Error("no danger button")
	}
	if href, _ := form.Find("a").Attr("href"); href != "/members" {
		t.Errorf("cancel = %q", href)
	}
	if byTestID(doc, "form-error").Length() != 0 {
		t.Error("an error shows without one")
	}
}

func TestShell(t *testing.T) {
	doc := render(t, Members(testMembersPage()))
	sw := byTestID(doc, "club-switcher")
	if sw.Length() != 1 {
		t.Fatal("no club switcher")
	}
	cur := sw.Find(`[aria-current="true"]`)
	if cur.Length() != 1 || !strings.HasPrefix(text(cur), "Riverside Rowing Club") {
		t.Errorf("current club = %q", text(cur))
	}
	if cur.Is("a") {
		t.Error("the current club is a link")
	}
	other := sw.Find(`a[href="/auth/switch?org_code=org_hilltop"]`)
	if text(other) != "Hilltop Chess Club" {
		t.Errorf("switch link = %q", text(other))
	}
	if got := text(doc.Find("title")); got != "Members · Riverside Rowing Club · Clubhouse" {
		t.Errorf("title = %q", got)
	}
	logout := doc.Find(`form[action="/auth/logout"]`)
	if m, _ := logout.Attr("method"); m != "post" {
		t.Errorf("sign out method = %q", m)
	}
	nav := doc.Find(`nav.sidenav`)
	var items []string
	nav.Find("a").Each(func(_ int, s *goquery.Selection) { items = append(items, text(s)) })
	if strings.Join(items, ",") != "Club home,Members,Activity" {
		t.Errorf("nav = %v", items)
	}
	if got := text(nav.Find(`[aria-current="page"]`)); got != "Members" {
		t.Errorf("current nav = %q", got)
	}
	if got := text(byTestID(doc, "flash")); got != "Added ana@example.org to Riverside Rowing Club" {
		t.Errorf("flash = %q", got)
	}
	if k, _ := byTestID(doc, "flash").Attr("data-kind"); k != "success" {
		t.Errorf("flash kind = %q", k)
	}
	if byTestID(doc, "staff-banner").Length() != 0 {
		t.Error("staff banner without staff view")
	}
	if doc.Find(`a[href="/dev/mailbox"]`).Length() != 0 {
		t.Error("dev mailbox link without the flag")
	}
	cfg, _ := doc.Find(`meta[name="htmx-config"]`).Attr("content")
	var parsed map[string]any
	if err := json.Unmarshal([]byte(cfg), &parsed); err != nil {
		t.Fatalf("htmx-config is not JSON: %v", err)
	}
	if parsed["includeIndicatorStyles"] != false || parsed["allowEval"] != false {
		t.Errorf("htmx-config = %s", cfg)
	}
	if href, _ := doc.Find(`link[rel="stylesheet"]`).Attr("href"); href != "/static/app.11111111.css" {
		t.Errorf("stylesheet = %q", href)
	}

	tests := []struct {
		name  string
		shell func(*layout.ShellProps)
		check func(*testing.T, *goquery.Document)
	}{
		{"staff banner", func(s *layout.ShellProps) {
			s.StaffBanner = &layout.StaffBanner{StaffName: "Sam Staff", PersonName: "Mia Chen", ClubName: "Riverside Rowing Club", MinutesLeft: 12, StopAction: "/staff/view-as/stop"}
		}, func(t *testing.T, doc *goquery.Document) {
			b := byTestID(doc, "staff-banner")
			if b.Length() != 1 {
				t.Fatal("no staff banner")
			}
			for _, want := range []string{"Sam Staff", "Mia Chen", "Riverside Rowing Club", "12 minutes left."} {
				if !strings.Contains(text(b), want) {
					t.Errorf("banner %q lacks %q", text(b), want)
				}
			}
			if a, _ := b.Find("form").Attr("action"); a != "/staff/view-as/stop" {
				t.Errorf("stop action = %q", a)
			}
			if doc.Find(".topbar .badge--staff").Length() != 1 {
				t.Error("no Staff view badge in the header")
			}
		}},
		{"one club", func(s *layout.ShellProps) { s.Clubs = s.Clubs[:1] }, func(t *testing.T, doc *goquery.Document) {
			sw := byTestID(doc, "club-switcher")
			if sw.Is("details") || !strings.Contains(text(sw), "Riverside Rowing Club") {
				t.Errorf("single club switcher = %q", text(sw))
			}
		}},
		{"plain member", func(s *layout.ShellProps) { s.AdminNav = false; s.Active = layout.NavHome }, func(t *testing.T, doc *goquery.Document) {
			var items []string
			doc.Find("nav.sidenav a").Each(func(_ int, s *goquery.Selection) { items = append(items, text(s)) })
			if strings.Join(items, ",") != "Club home" {
				t.Errorf("nav = %v", items)
			}
		}},
		{"dev mailbox and settings", func(s *layout.ShellProps) { s.DevMailbox = true; s.SettingsURL = "/settings" }, func(t *testing.T, doc *goquery.Document) {
			if doc.Find(`nav a[href="/dev/mailbox"]`).Length() != 1 || doc.Find(`nav a[href="/settings"]`).Length() != 1 {
				t.Error("no dev mailbox or settings link")
			}
		}},
		{"signed out", func(s *layout.ShellProps) { *s = layout.ShellProps{Title: "Welcome"} }, func(t *testing.T, doc *goquery.Document) {
			if byTestID(doc, "club-switcher").Length() != 0 || doc.Find("nav.sidenav").Length() != 0 {
				t.Error("signed-out shell shows club furniture")
			}
			if doc.Find(`.topbar a[href="/auth/login"]`).Length() != 1 {
				t.Error("no sign-in link")
			}
			if got := text(doc.Find("title")); got != "Welcome · Clubhouse" {
				t.Errorf("title = %q", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testMembersPage()
			tt.shell(&p.Shell)
			tt.check(t, render(t, Members(p)))
		})
	}
}

func TestLandingAndOnboarding(t *testing.T) {
	doc := render(t, Landing(LandingPage{}))
	if doc.Find(`a[href="/auth/login"]`).FilterFunction(func(_ int, s *goquery.Selection) bool { return text(s) == "Sign in" }).Length() == 0 {
		t.Error("no Sign in link")
	}
	if got := text(doc.Find(`a[href="/auth/login?prompt=create"]`)); got != "Create a club" {
		t.Errorf("create link = %q", got)
	}
	if text(doc.Find("h1")) != "Clubhouse" {
		t.Errorf("h1 = %q", text(doc.Find("h1")))
	}

	doc = render(t, Onboarding(OnboardingPage{Shell: testShell("Create your club"), Form: OnboardingForm{Name: "R", Error: "A club name needs at least 2 characters."}}))
	form := byTestID(doc, "onboarding-form")
	for attr, want := range map[string]string{"method": "post", "action": "/onboarding", "hx-post": "/onboarding"} {
		if got, _ := form.Attr(attr); got != want {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	if got, _ := form.Attr("hx-disabled-elt"); got == "" {
		t.Error("submit is not disabled while pending")
	}
	if v, _ := form.Find(`input[name="name"]`).Attr("value"); v != "R" {
		t.Errorf("kept value = %q", v)
	}
	if got := text(byTestID(doc, "error-name")); got != "A club name needs at least 2 characters." {
		t.Errorf("error = %q", got)
	}
	if text(doc.Find("h1")) != "Create your club" {
		t.Errorf("h1 = %q", text(doc.Find("h1")))
	}
}

func TestClubHome(t *testing.T) {
	p := ClubHomePage{Shell: testShell("Riverside Rowing Club"), ClubName: "Riverside Rowing Club", Roles: []Role{{Key: "coach", Name: "Coach"}, {Key: "member"}}, OtherClubs: testShell("").Clubs[1:]}
	doc := render(t, ClubHome(p))
	var badges []string
	byTestID(doc, "role-badge").Each(func(_ int, s *goquery.Selection) { badges = append(badges, text(s)) })
	if strings.Join(badges, ",") != "Coach,Member" {
		t.Errorf("badges = %v", badges)
	}
	if href, _ := byTestID(doc, "other-clubs").Find("a").Attr("href"); href != "/auth/switch?org_code=org_hilltop" {
		t.Errorf("switch href = %q", href)
	}
	if doc.Find(`.page-header a[href="/members"]`).Length() != 0 {
		t.Error("a plain member sees the members link")
	}
	p.CanManageMembers = true
	if render(t, ClubHome(p)).Find(`.page-header a[href="/members"]`).Length() != 1 {
		t.Error("an admin does not see the members link")
	}
}

func TestActivityPage(t *testing.T) {
	doc := render(t, Activity(testActivityPage()))
	rows := byTestID(doc, "activity-row")
	if rows.Length() != 3 {
		t.Fatalf("rows = %d", rows.Length())
	}
	first := rows.First()
	for _, want := range []string{"1 hour ago", "Olivia Owner", "Changed roles", "admin, member → member", "mia@example.org"} {
		if !strings.Contains(text(first), want) {
			t.Errorf("first row %q lacks %q", text(first), want)
		}
	}
	if href, _ := first.Find(`td[data-label="Who"] a`).Attr("href"); href != "/activity?person=kp_olivia" {
		t.Errorf("who filter link = %q", href)
	}
	if !strings.Contains(text(rows.Last()), "something.new") {
		t.Error("an unknown action is not shown as it is")
	}
	if v, _ := doc.Find(`select[name="person"] option[selected]`).Attr("value"); v != "kp_mia" {
		t.Errorf("selected person = %q", v)
	}
	if !strings.Contains(text(byTestID(doc, "activity-filter-note")), "Mia Chen") {
		t.Errorf("filter note = %q", text(byTestID(doc, "activity-filter-note")))
	}
	if got := text(byTestID(doc, "page-summary")); got != "Showing 1–2 of 3" {
		t.Errorf("summary = %q", got)
	}
	if href, _ := byTestID(doc, "page-next").Attr("href"); href != "/activity?page=2&person=kp_mia" {
		t.Errorf("next = %q", href)
	}
	empty := render(t, Activity(ActivityPage{Shell: testShell("Activity"), Now: testNow}))
	if !strings.Contains(text(byTestID(empty, "empty-state")), "No activity yet") {
		t.Error("no empty state")
	}
}

func TestMailbox(t *testing.T) {
	doc := render(t, Mailbox(testMailboxPage()))
	msgs := byTestID(doc, "mail-message")
	if msgs.Length() != 2 {
		t.Fatalf("messages = %d", msgs.Length())
	}
	first := msgs.First()
	if to, _ := first.Attr("data-to"); to != "ana@example.org" {
		t.Errorf("to = %q", to)
	}
	if href, _ := first.Find("a").Attr("href"); href != "/dev/mailbox/2" {
		t.Errorf("href = %q", href)
	}
	if s, _ := first.Find(`[data-testid="mail-status"]`).Attr("data-status"); s != "sent" {
		t.Errorf("status = %q", s)
	}
	if got := text(msgs.Last().Find(`[data-testid="mail-status"]`)); got != "Retrying" {
		t.Errorf("status label = %q", got)
	}
}

func TestMailMessageIsShownSafely(t *testing.T) {
	p := testMailMessagePage(t)
	doc := render(t, MailMessage(p))
	frame := doc.Find("iframe")
	if frame.Length() != 1 {
		t.Fatal("no frame for the HTML body")
	}
	if sb, ok := frame.Attr("sandbox"); !ok || sb != "" {
		t.Errorf("sandbox = %q (present %v), want an empty sandbox", sb, ok)
	}
	srcdoc, _ := frame.Attr("srcdoc")
	if !strings.Contains(srcdoc, "Sign in to Riverside Rowing Club") || !strings.Contains(srcdoc, "<a href=") {
		t.Errorf("srcdoc does not hold the HTML body: %.200s", srcdoc)
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("src"); !ok {
			t.Error("the email's script became a page script")
		}
	})
	link := byTestID(doc, "mail-link")
	if href, _ := link.Attr("href"); href != "http://127.0.0.1:8080/auth/login?org_code=org_riverside&login_hint=ana%40example.org" {
		t.Errorf("sign-in link = %q", href)
	}
	if got := text(byTestID(doc, "mail-to")); got != "ana@example.org" {
		t.Errorf("to = %q", got)
	}
	if !strings.Contains(byTestID(doc, "mail-text").Text(), "Sign in to Riverside Rowing Club:") {
		t.Error("plain text body missing")
	}
}

func TestInvitationEmail(t *testing.T) {
	m := InvitationEmail{ClubName: "Rock & Row <Club>", PersonName: "Ana", InvitedBy: "Olivia Owner", SignInURL: "https://portal.example.org/auth/login?org_code=org_1&login_hint=ana%40example.org"}
	subject, html, txt, err := RenderInvitation(t.Context(), m)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "You've been added to Rock & Row <Club>" {
		t.Errorf("subject = %q", subject)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	if got := text(doc.Find("h1")); got != "You've been added to Rock & Row <Club>" {
		t.Errorf("h1 = %q", got)
	}
	btn := doc.Find(`[data-testid="invitation-link"]`)
	if href, _ := btn.Attr("href"); href != m.SignInURL {
		t.Errorf("button href = %q", href)
	}
	if got := text(btn); got != "Sign in to Rock & Row <Club>" {
		t.Errorf("button = %q", got)
	}
	if doc.Find("script").Length() != 0 || doc.Find("Club").Length() != 0 {
		t.Error("markup in the club name became elements")
	}
	for _, want := range []string{"Hi Ana,", "Olivia Owner added you to Rock & Row <Club>", "Sign in to Rock & Row <Club>:\n" + m.SignInURL + "\n"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text body lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "&amp;") || strings.Contains(txt, "&lt;") {
		t.Error("the text body is HTML-escaped")
	}

	t.Run("unsafe link", func(t *testing.T) {
		_, html, _, err := RenderInvitation(t.Context(), InvitationEmail{ClubName: "X", SignInURL: "javascript:alert(1)"})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
		if err != nil {
			t.Fatal(err)
		}
		doc.Find("a").Each(func(_ int, a *goquery.Selection) {
			if href, _ := a.Attr("href"); strings.HasPrefix(strings.ToLower(href), "javascript:") {
				t.Errorf("a javascript: URL reached an href: %q", href)
			}
		})
	})
}

func TestErrorPages(t *testing.T) {
	tests := []struct {
		status    int
		wantTitle string
		wantText  string
		wantBack  string
	}{
		{400, "That request did not look right", "Nothing was changed.", "/"},
		{403, "You don't have access to this page", "ask a club owner", "/club"},
		{404, "Page not found", "Nothing was changed.", "/club"},
		{429, "Kinde did not answer", "Kinde did not answer. Nothing was changed. Try again in a minute.", "/club"},
		{503, "Kinde did not answer", "Kinde did not answer. Nothing was changed. Try again in a minute.", "/club"},
		{500, "Something went wrong", "Nothing was changed.", "/"},
	}
	for _, tt := range tests {
		t.Run(url.PathEscape(tt.wantTitle), func(t *testing.T) {
			p := ErrorFor(tt.status)
			p.Shell = testShell("Error")
			doc := render(t, Error(p))
			page := byTestID(doc, "error-page")
			if s, _ := page.Attr("data-status"); s != strings.TrimSpace(s) || s == "" {
				t.Errorf("status = %q", s)
			}
			if got := text(page.Find("h1")); got != tt.wantTitle {
				t.Errorf("title = %q, want %q", got, tt.wantTitle)
			}
			if !strings.Contains(text(page), tt.wantText) {
				t.Errorf("text %q lacks %q", text(page), tt.wantText)
			}
			if href, _ := page.Find("a").Attr("href"); href != tt.wantBack {
				t.Errorf("back = %q, want %q", href, tt.wantBack)
			}
			frag := render(t, ErrorFragment(p))
			if frag.Find("h1, header, nav").Length() != 0 || text(byTestID(frag, "error-page").Find("h2")) != tt.wantTitle {
				t.Error("fragment is not a small error box")
			}
		})
	}
}

func TestFragmentsAreNotDocuments(t *testing.T) {
	for _, c := range everyView(t) {
		t.Run(c.name, func(t *testing.T) {
			html := renderHTML(t, c.c)
			isPage := strings.HasPrefix(html, "<!doctype html>")
			wantPage := !strings.Contains(c.name, "fragment") && !strings.Contains(c.name, "row") &&
				!strings.Contains(c.name, "added") && !strings.Contains(c.name, "updated") &&
				!strings.Contains(c.name, "saved") && c.name != "members table"
			if isPage != wantPage {
				t.Errorf("full document = %v, want %v", isPage, wantPage)
			}
		})
	}
}

func TestRelativeTimeExported(t *testing.T) {
	if got := RelativeTime(testNow, testNow.Add(-25*time.Hour)); got != "yesterday" {
		t.Errorf("RelativeTime = %q", got)
	}
	if got := Initials("Mia Chen"); got != "MC" {
		t.Errorf("Initials = %q", got)
	}
}

func TestImportPreviewNamesIgnoredColumns(t *testing.T) {
	p := testImportPreview()
	p.IgnoredColumns = []string{"phone", "notes"}
	if got, want := text(byTestID(render(t, ImportPreview(p)), "import-ignored")), "Ignored columns: phone, notes."; got != want {
		t.Errorf("ignored columns = %q, want %q", got, want)
	}
}
