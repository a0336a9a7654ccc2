//go:build dev

package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// TestE2EStaffViewAs drives the whole staff "view as" flow in Chromium:
// Sam (platform staff) signs in, finds Riverside Rowing Club in the staff
// console, views it as its owner with a reason, sees the banner, tries to
// add a member and is refused, stops, and is back at the console. Then
// Olivia, Riverside's owner, signs in (another browser context) and finds
// Sam's view in her club's Activity.
func TestE2EStaffViewAs(t *testing.T) {
	p, browser := e2eStart(t, e2eBrowser(t))
	portal := p.URL
	staff := e2ePerson(t, browser)

	const riverside = emulator.SeedRiversideOrgCode
	const reason = "Ticket 4512: owner cannot add a coach"
	e2eSignIn(t, staff, p, "sam@clubhouse.example")
	e2eDo(t, staff, "staff finds the club",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-search"]`)),
		// The search form is a plain GET form (its handler tests cover
		// it); loading its URL waits for the page, where a scripted submit
		// can race the navigation it starts.
		chromedp.Navigate(portal+"/staff?q=riverside"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-club-row"][data-code="`+riverside+`"] [data-testid="staff-club-link"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="staff-club-row"][data-code="`+riverside+`"] [data-testid="staff-club-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="view-as-form"]`)),
	)
	shots := e2eShotDir(t)
	e2eDo(t, staff, "screenshot of the club page", e2eShot(filepath.Join(shots, "staff-club.png")))
	e2eDo(t, staff, "staff views the club as its owner",
		chromedp.Click(chromedp.CSS(`[data-testid="view-as-owner"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="view-as-reason"]`), reason),
		chromedp.Click(chromedp.CSS(`[data-testid="view-as-start"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-banner"]`)),
		chromedp.WaitVisible(chromedp.CSS(e2eRow("olivia@example.org"))),
	)
	banner := e2eGet(t, staff, "banner", chromedp.Text(chromedp.CSS(`[data-testid="staff-banner"]`)))
	for _, want := range []string{"Sam Rivera", "Riverside Rowing Club", "Olivia Hart", "minutes left", "Nothing can be changed"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner %q lacks %q", banner, want)
		}
	}
	e2eDo(t, staff, "screenshot of the view", e2eShot(filepath.Join(shots, "staff-view-as.png")))
	e2eDo(t, staff, "a write is refused",
		chromedp.Click(chromedp.CSS(`[data-testid="add-member-button"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="add-member-form"] input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="add-member-form"] input[name="email"]`), "ana.staff-test@example.org"),
		chromedp.Click(chromedp.CSS(`[data-testid="add-member-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#flashes [data-testid="flash"][data-kind="error"]`)),
	)
	refusal := e2eGet(t, staff, "refusal", chromedp.Text(chromedp.CSS(`#flashes [data-testid="flash"][data-kind="error"]`)))
	if !strings.Contains(refusal, "Staff view is read-only. Nothing was changed.") {
		t.Errorf("refusal = %q, want the read-only message", refusal)
	}
	e2eDo(t, staff, "staff stops and is back at the console",
		chromedp.Navigate(portal+"/club"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-stop"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="staff-stop"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-search"]`)),
	)
	flash := e2eGet(t, staff, "flash after stop", chromedp.Text(chromedp.CSS(`[data-testid="flash"]`)))
	if n := e2eGet(t, staff, "banner after stop", e2eCount(`[data-testid="staff-banner"]`)); n != 0 {
		t.Errorf("the staff banner is still on the console after stop (%d)", n)
	}
	e2eDo(t, staff, "screenshot of the console", e2eShot(filepath.Join(shots, "staff-console.png")))
	if !strings.Contains(flash, "Stopped viewing Riverside Rowing Club as Olivia Hart.") {
		t.Errorf("flash after stop = %q", flash)
	}

	owner := e2ePerson(t, browser)
	e2eSignIn(t, owner, p, "olivia@example.org")
	e2eDo(t, owner, "the owner opens Activity",
		chromedp.WaitVisible(chromedp.CSS(e2eRow("olivia@example.org"))),
		chromedp.Navigate(portal+"/activity"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="activity-table"]`)),
	)
	actions := e2eGet(t, owner, "activity actions", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="activity-row"]'), (r) => r.dataset.action)`))
	activity := e2eGet(t, owner, "activity", chromedp.Text(chromedp.CSS(`[data-testid="activity-table"]`)))
	if n := e2eGet(t, owner, "banner for the owner", e2eCount(`[data-testid="staff-banner"]`)); n != 0 {
		t.Errorf("the owner sees the staff banner (%d)", n)
	}
	t.Logf("banner %q; refusal %q; after stop %q; owner's activity %v", banner, refusal, flash, actions)
	for _, want := range []string{"staff.view_as.started", "staff.view_as.page", "staff.view_as.write_refused", "staff.view_as.stopped"} {
		if !slices.Contains(actions, want) {
			t.Errorf("activity actions %v lack %s", actions, want)
		}
	}
	for _, want := range []string{"Sam Rivera (Clubhouse staff)", "Staff view started (read-only)", "Reason: " + reason,
		"Staff change refused: the view is read-only", "Staff view stopped"} {
		if !strings.Contains(activity, want) {
			t.Errorf("activity lacks %q", want)
		}
	}
}
