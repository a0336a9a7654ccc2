//go:build dev

package main

import (
	"context"
	"crypto/rand"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

const (
	e2eRiverside = "Riverside Rowing Club"
	e2eHilltop   = "Hilltop Tennis Club"
)

// TestE2E runs the browser tests in one Chromium. Each test gets a fresh
// portal (with its own emulator and database), a deadline, and browser
// contexts of its own (separate cookie jars).
func TestE2E(t *testing.T) {
	browser := e2eBrowser(t)
	tests := []struct {
		name string
		test func(t *testing.T, browser context.Context)
	}{
		{"owner adds members", e2eOwnerAddsMembers},
		{"bad input in the add-member dialog", e2eAddMemberBadInput},
		{"demotion takes effect without signing out", e2eDemotionWithoutSignOut},
		{"club switch without a sign-in page", e2eClubSwitch},
		{"screenshots", e2eScreenshots},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, browser) })
	}
}

// e2eOwnerAddsMembers is issue 3 in a browser: Olivia signs in from the
// portal's landing page, adds someone Kinde already knows (Tom, from
// Hilltop) as a coach and someone new as a member through the add-member
// dialog, sees both rows with their roles and the same confirmation for
// both, and both invitations arrive in the dev mailbox with a sign-in link
// that names the club and the person.
func e2eOwnerAddsMembers(t *testing.T, shared context.Context) {
	portal, browser := e2eStart(t, shared)
	tab := e2ePerson(t, browser)

	e2eDo(t, tab, "sign in from the landing page",
		chromedp.Navigate(portal.URL+"/"),
		chromedp.Click(chromedp.CSS(`header.topbar a[href="/auth/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(e2ePersonButton("olivia@example.org"))),
		chromedp.Click(chromedp.CSS(e2ePersonButton("olivia@example.org"))),
		chromedp.WaitVisible(chromedp.CSS(e2eRow("olivia@example.org"))),
		e2eReady(),
	)
	loc := e2eGet(t, tab, "location", chromedp.Location())
	if !strings.HasPrefix(loc, portal.URL+"/members") {
		t.Fatalf("after sign-in the page is %s, want %s/members", loc, portal.URL)
	}
	if club := e2eGet(t, tab, "club in the header", chromedp.Text(chromedp.CSS(`[data-testid="club-switcher"]`))); !strings.Contains(club, e2eRiverside) {
		t.Errorf("header club = %q, want %q", club, e2eRiverside)
	}

	newbie := "newbie-" + strings.ToLower(rand.Text()[:10]) + "@example.org"
	adds := []struct {
		email, first, last string
		role               string
	}{
		{email: "tom@example.org", role: "coach"},
		{email: newbie, first: "Nina", last: "Newman", role: "member"},
	}
	var flashes []string
	for _, a := range adds {
		steps := []chromedp.Action[chromedp.Void]{
			chromedp.WaitNotPresent(chromedp.CSS(`#add-member-dialog[open]`)),
			chromedp.Click(chromedp.CSS(`.page-header [data-testid="add-member-button"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#add-member-dialog[open] #add-email`)),
			chromedp.SendKeys(chromedp.CSS(`#add-email`), a.email),
		}
		if a.first != "" {
			steps = append(steps,
				chromedp.SendKeys(chromedp.CSS(`#add-first-name`), a.first),
				chromedp.SendKeys(chromedp.CSS(`#add-last-name`), a.last))
		}
		// "member" is preselected: leave only the role asked for.
		steps = append(steps, e2eWaitFor(`document.querySelector("#add-role-member").checked`))
		if a.role != "member" {
			steps = append(steps,
				chromedp.Click(chromedp.CSS(`#add-role-member`)),
				chromedp.Click(chromedp.CSS(`#add-role-`+a.role)))
		}
		steps = append(steps,
			chromedp.Click(chromedp.CSS(`#add-member-form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(e2eRow(a.email))),
			e2eWaitText(`#flashes [data-testid="flash"]`, a.email),
			chromedp.WaitNotPresent(chromedp.CSS(`#add-member-dialog[open]`)),
		)
		e2eDo(t, tab, "add "+a.email, steps...)

		flash := e2eGet(t, tab, "flash", chromedp.Text(chromedp.CSS(`#flashes [data-testid="flash"]`)))
		flashes = append(flashes, flash)
		if got, want := strings.TrimSpace(flash), "Added "+a.email+" to "+e2eRiverside; got != want {
			t.Errorf("flash after adding %s = %q, want %q", a.email, got, want)
		}
		if got := e2eGet(t, tab, "roles", e2eRoles(a.email)); !slices.Equal(got, []string{a.role}) {
			t.Errorf("role badges of %s = %v, want [%s]", a.email, got, a.role)
		}
	}
	t.Logf("flashes: %q", flashes)

	// The rows are in the club for real, not just in the htmx answer.
	e2eDo(t, tab, "reload the members page",
		chromedp.Navigate(portal.URL+"/members"),
		chromedp.WaitVisible(chromedp.CSS(e2eRow(newbie))),
	)
	for _, a := range adds {
		if got := e2eGet(t, tab, "roles after reload", e2eRoles(a.email)); !slices.Equal(got, []string{a.role}) {
			t.Errorf("after reload, role badges of %s = %v, want [%s]", a.email, got, a.role)
		}
	}
	if got := e2eGet(t, tab, "new person's name", chromedp.Text(chromedp.CSS(e2eRow(newbie)+` [data-testid="member-name"]`))); !strings.Contains(got, "Nina Newman") {
		t.Errorf("new person's row shows %q, want Nina Newman", got)
	}

	// Invitations go out in the background: wait until the mailbox lists
	// both, then look at it as a person would.
	e2eDo(t, tab, "wait for both invitations",
		e2eWaitFor(`fetch("/dev/mailbox").then((r) => r.text()).then((html) => {
			const doc = new DOMParser().parseFromString(html, "text/html");
			const to = Array.from(doc.querySelectorAll('[data-testid="mail-message"]'), (m) => m.dataset.to.toLowerCase());
			return to.some((x) => x.includes("tom@example.org")) && to.some((x) => x.includes(`+e2eJS(newbie)+`));
		})`),
		chromedp.Navigate(portal.URL+"/dev/mailbox"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="mailbox"]`)),
	)
	to := e2eGet(t, tab, "mailbox", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="mail-message"]'), (m) => m.dataset.to.toLowerCase())`))
	if len(to) != 2 {
		t.Errorf("mailbox has %d messages (%q), want 2", len(to), to)
	}
	for _, a := range adds {
		if !slices.ContainsFunc(to, func(s string) bool { return strings.Contains(s, a.email) }) {
			t.Errorf("no invitation to %s in the mailbox %q", a.email, to)
		}
	}

	e2eDo(t, tab, "open the new person's invitation",
		chromedp.Click(chromedp.CSS(`[data-testid="mail-message"][data-to*="`+newbie+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="mail-detail"] [data-testid="mail-link"]`)),
	)
	links := e2eGet(t, tab, "links", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="mail-link"]'), (a) => a.href)`))
	var signIn *url.URL
	for _, l := range links {
		if u, err := url.Parse(l); err == nil && strings.HasPrefix(l, portal.URL+"/auth/login?") {
			signIn = u
		}
	}
	if signIn == nil {
		t.Fatalf("the invitation has no link to %s/auth/login: %q", portal.URL, links)
	}
	if got, want := signIn.Query().Get("org_code"), emulator.SeedRiversideOrgCode; got != want {
		t.Errorf("sign-in link %s: org_code = %q, want %q", signIn, got, want)
	}
	if got, want := signIn.Query().Get("login_hint"), newbie; got != want {
		t.Errorf("sign-in link %s: login_hint = %q, want %q", signIn, got, want)
	}
	if text := e2eGet(t, tab, "mail text", chromedp.Text(chromedp.CSS(`[data-testid="mail-text"]`))); !strings.Contains(text, e2eRiverside) {
		t.Errorf("the invitation's text does not name %s:\n%s", e2eRiverside, text)
	}

	// The owner sees both invitations sent. "Send again" right away sends
	// nothing and says why.
	// The mail reaches the mailbox a moment before the outbox records it
	// sent: wait for the record, not the mail.
	e2eDo(t, tab, "the invitations page",
		e2eWaitFor(`fetch("/invitations").then((r) => r.text()).then((html) =>
			new DOMParser().parseFromString(html, "text/html").querySelectorAll('[data-testid="invitation-row"][data-status="sent"]').length === 2)`),
		chromedp.Navigate(portal.URL+"/invitations"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="invitations-table"]`)),
	)
	sent := e2eGet(t, tab, "invitations", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="invitation-row"][data-status="sent"]'), (r) => r.dataset.email)`))
	for _, a := range adds {
		if !slices.Contains(sent, a.email) {
			t.Errorf("invitations page shows %q as sent, want %s among them", sent, a.email)
		}
	}
	if n := e2eGet(t, tab, "resend buttons", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="resend-invitation"]').length`)); n != 0 {
		t.Errorf("invitations sent a moment ago offer %d Send again buttons, want none", n)
	}
	e2eDo(t, tab, "send tom's invitation again from the members page",
		chromedp.Navigate(portal.URL+"/members"),
		chromedp.Click(chromedp.CSS(e2eRow("tom@example.org")+` .row-menu summary`)),
		chromedp.Click(chromedp.CSS(e2eRow("tom@example.org")+` [data-testid="resend-invitation"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	if got := e2eGet(t, tab, "flash", chromedp.Text(chromedp.CSS(`[data-testid="flash"]`))); !strings.Contains(got, "An invitation went to tom@example.org less than a minute ago") {
		t.Errorf("flash after an immediate Send again = %q, want it to say one just went", got)
	}
	if n := e2eGet(t, tab, "mailbox count", chromedp.Evaluate[int](`fetch("/dev/mailbox").then((r) => r.text()).then((html) =>
		new DOMParser().parseFromString(html, "text/html").querySelectorAll('[data-testid="mail-message"]').length)`, chromedp.EvalAwaitPromise)); n != 2 {
		t.Errorf("mailbox has %d messages after a refused Send again, want 2", n)
	}
}

// e2eAddMemberBadInput submits bad input in the add-member dialog: the
// error is shown next to the field in the still-open dialog, what was typed
// is kept, and nobody is added. The email is one the browser's own check
// lets through (no dot in the domain), so the server's check is what is
// shown.
func e2eAddMemberBadInput(t *testing.T, shared context.Context) {
	portal, browser := e2eStart(t, shared)
	tab := e2ePerson(t, browser)
	e2eSignIn(t, tab, portal, "olivia@example.org")

	tests := []struct {
		name             string
		email, first     string
		uncheckMember    bool
		field, fieldSel  string // the field in error, and what it is next to
		wantErrorContain string
	}{
		{name: "invalid email", email: "ana@examplecom", first: "Ana",
			field: "email", fieldSel: "#add-email", wantErrorContain: "valid email"},
		{name: "markup in the name", email: "ana.silva@example.org", first: "<b>Ana</b>",
			field: "first_name", fieldSel: "#add-first-name", wantErrorContain: "cannot contain < or >"},
		{name: "no role", email: "ana.silva@example.org", first: "Ana", uncheckMember: true,
			field: "roles", fieldSel: "#add-role-member", wantErrorContain: "at least one role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e2eDo(t, tab, "open the members page",
				chromedp.Navigate(portal.URL+"/members"),
				chromedp.WaitVisible(chromedp.CSS(e2eRow("olivia@example.org"))),
				e2eReady(),
			)
			rowsBefore := e2eGet(t, tab, "count rows", e2eCount(`[data-testid="member-row"]`))
			steps := []chromedp.Action[chromedp.Void]{
				chromedp.Click(chromedp.CSS(`.page-header [data-testid="add-member-button"]`)),
				chromedp.WaitVisible(chromedp.CSS(`#add-member-dialog[open] #add-email`)),
				chromedp.SendKeys(chromedp.CSS(`#add-email`), tt.email),
				chromedp.SendKeys(chromedp.CSS(`#add-first-name`), tt.first),
				chromedp.SendKeys(chromedp.CSS(`#add-last-name`), "Silva"),
			}
			if tt.uncheckMember {
				steps = append(steps, chromedp.Click(chromedp.CSS(`#add-role-member`)))
			}
			steps = append(steps,
				chromedp.Click(chromedp.CSS(`#add-member-form button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS(`#add-member-dialog[open] [data-testid="error-`+tt.field+`"]`)),
			)
			e2eDo(t, tab, "submit", steps...)

			msg := e2eGet(t, tab, "error", chromedp.Text(chromedp.CSS(`[data-testid="error-`+tt.field+`"]`)))
			if !strings.Contains(msg, tt.wantErrorContain) {
				t.Errorf("error next to %s = %q, want it to contain %q", tt.field, msg, tt.wantErrorContain)
			}
			beside := e2eGet(t, tab, "error beside its field", chromedp.Evaluate[bool](
				`!!document.querySelector(`+e2eJS(tt.fieldSel)+`).closest(".field").querySelector(`+e2eJS(`[data-testid="error-`+tt.field+`"]`)+`)`))
			if !beside {
				t.Errorf("the error of %s is not in the field of %s", tt.field, tt.fieldSel)
			}
			for sel, want := range map[string]string{"#add-email": tt.email, "#add-first-name": tt.first, "#add-last-name": "Silva"} {
				if got := e2eGet(t, tab, "value of "+sel, chromedp.Value(chromedp.CSS(sel))); got != want {
					t.Errorf("%s = %q after the error, want %q (kept)", sel, got, want)
				}
			}
			if got := e2eGet(t, tab, "count rows", e2eCount(`[data-testid="member-row"]`)); got != rowsBefore {
				t.Errorf("rows: %d after a refused add, want %d", got, rowsBefore)
			}
			if n := e2eGet(t, tab, "success flash", e2eCount(`#flashes [data-testid="flash"][data-kind="success"]`)); n != 0 {
				t.Errorf("a success flash is shown after a refused add")
			}
			// And the club really is unchanged.
			e2eDo(t, tab, "reload", chromedp.Navigate(portal.URL+"/members"), chromedp.WaitVisible(chromedp.CSS(e2eRow("olivia@example.org"))))
			if got := e2eGet(t, tab, "count rows after reload", e2eCount(`[data-testid="member-row"]`)); got != rowsBefore {
				t.Errorf("rows after reload: %d, want %d", got, rowsBefore)
			}
			if n := e2eGet(t, tab, "row of the refused email", e2eCount(e2eRow(tt.email))); n != 0 {
				t.Errorf("%s is in the club after a refused add", tt.email)
			}
		})
	}
}

// e2eDemotionWithoutSignOut is issue 4 in two browsers: Adam (an admin
// of Riverside) has the members page open when Olivia (its owner) makes him
// a plain member. His next click on Members is refused with the 403 page,
// and he is still signed in.
func e2eDemotionWithoutSignOut(t *testing.T, shared context.Context) {
	portal, browser := e2eStart(t, shared)
	owner := e2ePerson(t, browser)
	admin := e2ePerson(t, browser)

	const adam = "adam@example.org"
	e2eSignIn(t, owner, portal, "olivia@example.org")
	e2eSignIn(t, admin, portal, adam)
	e2eDo(t, admin, "adam sees the members page",
		chromedp.WaitVisible(chromedp.CSS(e2eRow("olivia@example.org"))),
	)
	if loc := e2eGet(t, admin, "location", chromedp.Location()); !strings.HasPrefix(loc, portal.URL+"/members") {
		t.Fatalf("adam landed on %s, want the members page", loc)
	}

	editRow := `[data-testid="edit-roles-row"][data-email="` + adam + `"]`
	e2eDo(t, owner, "olivia makes adam a member",
		chromedp.WaitVisible(chromedp.CSS(e2eRow(adam))),
		chromedp.Click(chromedp.CSS(e2eRow(adam)+` details.row-menu > summary`)),
		chromedp.WaitVisible(chromedp.CSS(e2eRow(adam)+` [data-testid="edit-roles-link"]`)),
		chromedp.Click(chromedp.CSS(e2eRow(adam)+` [data-testid="edit-roles-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(editRow+` input[name="roles"][value="admin"]`)),
		e2eWaitFor(`document.querySelector(`+e2eJS(editRow+` input[name="roles"][value="admin"]`)+`).checked`),
		chromedp.Click(chromedp.CSS(editRow+` input[name="roles"][value="admin"]`)),
		chromedp.Click(chromedp.CSS(editRow+` input[name="roles"][value="member"]`)),
		chromedp.Click(chromedp.CSS(editRow+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(e2eRow(adam))),
		e2eWaitText(`#flashes [data-testid="flash"]`, "Adam Brooks"),
	)
	if got := e2eGet(t, owner, "adam's roles", e2eRoles(adam)); !slices.Equal(got, []string{"member"}) {
		t.Errorf("adam's badges after the change = %v, want [member]", got)
	}
	if flash := e2eGet(t, owner, "flash", chromedp.Text(chromedp.CSS(`#flashes [data-testid="flash"]`))); !strings.Contains(flash, "Member") {
		t.Errorf("flash after the change = %q, want it to name the new role", flash)
	}

	e2eDo(t, admin, "adam clicks Members",
		chromedp.Click(chromedp.CSS(`nav.sidenav a[href="/members"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-page"]`)),
	)
	status := e2eGet(t, admin, "status", chromedp.AttributeValue(chromedp.CSS(`[data-testid="error-page"]`), "data-status"))
	if status.Value != "403" {
		t.Errorf("error page status = %q, want 403", status.Value)
	}
	if msg := e2eGet(t, admin, "error page", chromedp.Text(chromedp.CSS(`[data-testid="error-page"]`))); !strings.Contains(msg, "You don't have access") {
		t.Errorf("error page says %q, want You don't have access…", msg)
	}
	if name := e2eGet(t, admin, "header", chromedp.Text(chromedp.CSS(`header.topbar .usermenu__name`))); !strings.Contains(name, "Adam Brooks") {
		t.Errorf("header shows %q, want adam still signed in", name)
	}
	e2eDo(t, admin, "adam's club home still works",
		chromedp.Navigate(portal.URL+"/club"),
		chromedp.WaitVisible(chromedp.CSS(`header.topbar .usermenu__name`)),
	)
	if loc := e2eGet(t, admin, "location", chromedp.Location()); loc != portal.URL+"/club" {
		t.Errorf("/club took adam to %s", loc)
	}
	if n := e2eGet(t, admin, "error page", e2eCount(`[data-testid="error-page"]`)); n != 0 {
		t.Errorf("/club shows an error page to adam")
	}
	if n := e2eGet(t, admin, "members link", e2eCount(`nav.sidenav a[href="/members"]`)); n != 0 {
		t.Errorf("the navigation still offers Members to a plain member")
	}
}

// e2eClubSwitch is the other half of issue 4: Mia, in three clubs,
// picks one on Kinde's chooser, then switches to another from the header.
// The switch goes through Kinde silently: no page of Kinde's is shown.
func e2eClubSwitch(t *testing.T, shared context.Context) {
	portal, browser := e2eStart(t, shared)
	tab := e2ePerson(t, browser)

	org := func(code string) string { return `button[data-testid="org"][data-org-code="` + code + `"]` }
	e2eDo(t, tab, "mia signs in and picks Riverside",
		chromedp.Navigate(portal.URL+"/auth/login"),
		chromedp.WaitVisible(chromedp.CSS(e2ePersonButton("mia@example.org"))),
		chromedp.Click(chromedp.CSS(e2ePersonButton("mia@example.org"))),
		chromedp.WaitVisible(chromedp.CSS(org(emulator.SeedRiversideOrgCode))),
		chromedp.Click(chromedp.CSS(org(emulator.SeedRiversideOrgCode))),
		chromedp.WaitVisible(chromedp.CSS(`details[data-testid="club-switcher"] > summary`)),
		e2eReady(),
	)
	if got := e2eGet(t, tab, "header", chromedp.Text(chromedp.CSS(`[data-testid="club-switcher"] > summary`))); !strings.Contains(got, e2eRiverside) {
		t.Fatalf("header club = %q, want %q", got, e2eRiverside)
	}

	// Every page the main frame shows from here on.
	var mu sync.Mutex
	var shown []string
	listen, stopListening := context.WithCancel(tab)
	defer stopListening()
	if err := chromedp.Listen(listen, func(ev any) {
		if e, ok := ev.(*page.EventFrameNavigated); ok && e.Frame != nil && e.Frame.ParentID == "" {
			mu.Lock()
			shown = append(shown, e.Frame.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("listen: %v", err)
	}
	e2eDo(t, tab, "mia switches to Hilltop from the header",
		chromedp.Click(chromedp.CSS(`details[data-testid="club-switcher"] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="club-switcher"] a.menu__item[href*="`+emulator.SeedHilltopOrgCode+`"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="club-switcher"] a.menu__item[href*="`+emulator.SeedHilltopOrgCode+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="club-switcher"] [data-current="true"]`)),
		e2eWaitText(`[data-testid="club-switcher"] > summary`, e2eHilltop),
	)
	stopListening()
	mu.Lock()
	pages := slices.Clone(shown)
	mu.Unlock()
	t.Logf("pages shown during the switch: %q", pages)

	if len(pages) != 1 {
		t.Errorf("the switch showed %d pages (%q), want 1: straight back to the portal", len(pages), pages)
	}
	for _, p := range pages {
		if strings.HasPrefix(p, portal.Kinde) {
			t.Errorf("the switch showed Kinde's page %s", p)
		}
		if !strings.HasPrefix(p, portal.URL+"/") {
			t.Errorf("the switch showed %s, not a portal page", p)
		}
	}
	if n := e2eGet(t, tab, "sign-in buttons", e2eCount(`[data-testid="person"], [data-testid="org"]`)); n != 0 {
		t.Errorf("a sign-in page is shown after the switch")
	}
	if got := e2eGet(t, tab, "current club", chromedp.TextContent(chromedp.CSS(`[data-testid="club-switcher"] [data-current="true"]`))); !strings.Contains(got, e2eHilltop) {
		t.Errorf("the switcher marks %q as current, want %q", got, e2eHilltop)
	}
	if name := e2eGet(t, tab, "header", chromedp.Text(chromedp.CSS(`header.topbar .usermenu__name`))); !strings.Contains(name, "Mia Chen") {
		t.Errorf("header shows %q, want Mia Chen", name)
	}
}

// e2eScreenshots takes the README's screenshots. With
// UPDATE_SCREENSHOTS=1 they go to docs/screenshots; otherwise to a
// temporary folder.
func e2eScreenshots(t *testing.T, shared context.Context) {
	portal, browser := e2eStart(t, shared)
	tab := e2ePerson(t, browser)
	dir := e2eShotDir(t)
	shot := func(name string) chromedp.Action[chromedp.Void] { return e2eShot(filepath.Join(dir, name)) }

	e2eDo(t, tab, "the emulator's sign-in page",
		chromedp.Navigate(portal.URL+"/auth/login"),
		chromedp.WaitVisible(chromedp.CSS(e2ePersonButton("olivia@example.org"))),
		shot("kinde-signin.png"),
		chromedp.Click(chromedp.CSS(e2ePersonButton("olivia@example.org"))),
		chromedp.WaitVisible(chromedp.CSS(e2eRow("olivia@example.org"))),
		e2eReady(),
		shot("members.png"),
	)
	e2eDo(t, tab, "the add-member dialog",
		chromedp.Click(chromedp.CSS(`.page-header [data-testid="add-member-button"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#add-member-dialog[open] #add-email`)),
		chromedp.SendKeys(chromedp.CSS(`#add-email`), "ana.silva@example.org"),
		chromedp.SendKeys(chromedp.CSS(`#add-first-name`), "Ana"),
		chromedp.SendKeys(chromedp.CSS(`#add-last-name`), "Silva"),
		shot("add-member.png"),
		chromedp.Click(chromedp.CSS(`#add-member-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(e2eRow("ana.silva@example.org"))),
		chromedp.WaitNotPresent(chromedp.CSS(`#add-member-dialog[open]`)),
	)
	e2eDo(t, tab, "the dev mailbox",
		e2eWaitFor(`fetch("/dev/mailbox").then((r) => r.text()).then((html) => html.includes("ana.silva@example.org"))`),
		chromedp.Navigate(portal.URL+"/dev/mailbox"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="mail-message"]`)),
		shot("mailbox.png"),
	)
	e2eDo(t, tab, "the invitations page",
		e2eWaitFor(`fetch("/invitations").then((r) => r.text()).then((html) => html.includes('data-status="sent"'))`),
		chromedp.Navigate(portal.URL+"/invitations"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="invitations-table"]`)),
		e2eReady(),
		shot("invitations.png"),
	)
	e2eDo(t, tab, "the settings page",
		chromedp.Navigate(portal.URL+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="settings-form"]`)),
		e2eReady(),
		shot("settings.png"),
	)
	e2eDo(t, tab, "the members page on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(portal.URL+"/members"),
		chromedp.WaitVisible(chromedp.CSS(e2eRow("olivia@example.org"))),
		e2eReady(),
		shot("members-mobile.png"),
	)
	// The page itself never scrolls sideways on a phone (the nav may).
	if w := e2eGet(t, tab, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("on a 390px phone the members page is %dpx wide: it scrolls sideways", w)
	}
	for _, name := range []string{"kinde-signin.png", "members.png", "add-member.png", "mailbox.png", "invitations.png", "settings.png", "members-mobile.png"} {
		if !e2eIsPNG(t, filepath.Join(dir, name)) {
			t.Errorf("%s is not a PNG", name)
		}
	}
}
