package main

import (
	"context"
	"errors"
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
//
// It uses the package's e2e helpers; the few of its own are prefixed
// staffE2E.
func TestE2EStaffViewAs(t *testing.T) {
	p, browser := e2eStart(t, e2eBrowser(t))
	portal := p.URL
	staff := e2ePerson(t, browser)

	const riverside = emulator.SeedRiversideOrgCode
	const reason = "Ticket 4512: owner cannot add a coach"
	var banner, refusal, flash string
	e2eDo(t, staff, "staff signs in and finds the club",
		chromedp.Navigate(portal+"/auth/login"),
		chromedp.WaitVisible(chromedp.CSS(`button[data-testid="person"][data-email="sam@clubhouse.example"]`)),
		chromedp.Click(chromedp.CSS(`button[data-testid="person"][data-email="sam@clubhouse.example"]`)),
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
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="member-row"][data-email="olivia@example.org"]`)),
		staffE2EText(`[data-testid="staff-banner"]`, &banner),
	)
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
		staffE2EText(`#flashes [data-testid="flash"][data-kind="error"]`, &refusal),
	)
	if !strings.Contains(refusal, "Staff view is read-only. Nothing was changed.") {
		t.Errorf("refusal = %q, want the read-only message", refusal)
	}
	e2eDo(t, staff, "staff stops and is back at the console",
		chromedp.Navigate(portal+"/club"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-stop"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="staff-stop"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-search"]`)),
		staffE2EText(`[data-testid="flash"]`, &flash),
		staffE2EAbsent(`[data-testid="staff-banner"]`),
	)
	e2eDo(t, staff, "screenshot of the console", e2eShot(filepath.Join(shots, "staff-console.png")))
	if !strings.Contains(flash, "Stopped viewing Riverside Rowing Club as Olivia Hart.") {
		t.Errorf("flash after stop = %q", flash)
	}

	owner := e2ePerson(t, browser)
	var actions []string
	var activity string
	e2eDo(t, owner, "the owner sees the staff rows in Activity",
		chromedp.Navigate(portal+"/auth/login"),
		chromedp.WaitVisible(chromedp.CSS(`button[data-testid="person"][data-email="olivia@example.org"]`)),
		chromedp.Click(chromedp.CSS(`button[data-testid="person"][data-email="olivia@example.org"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="member-row"]`)),
		chromedp.Navigate(portal+"/activity"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="activity-table"]`)),
		staffE2EEval(`Array.from(document.querySelectorAll('[data-testid="activity-row"]')).map(r => r.dataset.action)`, &actions),
		staffE2EText(`[data-testid="activity-table"]`, &activity),
		staffE2EAbsent(`[data-testid="staff-banner"]`),
	)
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

// staffE2EText reads the visible text of the first element matching sel.
func staffE2EText(sel string, out *string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		s, err := chromedp.Text(chromedp.CSS(sel))(ctx, t)
		*out = s
		return err
	})
}

// staffE2EEval evaluates a script into out.
func staffE2EEval[T any](script string, out *T) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		v, err := chromedp.Evaluate[T](script)(ctx, t)
		*out = v
		return err
	})
}

// staffE2EAbsent fails when the page has an element matching sel.
func staffE2EAbsent(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		n, err := chromedp.Evaluate[int](`document.querySelectorAll('`+sel+`').length`)(ctx, t)
		if err != nil {
			return err
		}
		if n != 0 {
			return errors.New(sel + " is on the page")
		}
		return nil
	})
}
