package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
// The helpers here are prefixed staffE2E so they never clash with the
// shared browser-test helpers of this package.
func TestE2EStaffViewAs(t *testing.T) {
	chromium := staffE2EChromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	portal := staffE2EStartPortal(t, ctx)

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	defer cancelAlloc()
	staff, cancelStaff := chromedp.NewContext(alloc)
	defer cancelStaff()

	const riverside = emulator.SeedRiversideOrgCode
	const reason = "Ticket 4512: owner cannot add a coach"
	var banner, refusal, flash string
	staffE2ERun(t, staff, "staff signs in and finds the club",
		chromedp.Navigate(portal+"/auth/login"),
		chromedp.WaitVisible(chromedp.CSS(`button[data-testid="person"][data-email="sam@clubhouse.example"]`)),
		chromedp.Click(chromedp.CSS(`button[data-testid="person"][data-email="sam@clubhouse.example"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-search"]`)),
		chromedp.SendKeys(chromedp.CSS(`#staff-search`), "riverside"),
		chromedp.Submit(chromedp.CSS(`#staff-search`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-club-row"][data-code="`+riverside+`"] [data-testid="staff-club-link"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="staff-club-row"][data-code="`+riverside+`"] [data-testid="staff-club-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="view-as-form"]`)),
	)
	shots := staffE2EShotDir(t)
	staffE2ERun(t, staff, "screenshot of the club page", staffE2EShot(filepath.Join(shots, "staff-club.png")))
	staffE2ERun(t, staff, "staff views the club as its owner",
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
	staffE2ERun(t, staff, "screenshot of the view", staffE2EShot(filepath.Join(shots, "staff-view-as.png")))
	staffE2ERun(t, staff, "a write is refused",
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
	staffE2ERun(t, staff, "staff stops and is back at the console",
		chromedp.Navigate(portal+"/club"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-stop"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="staff-stop"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="staff-search"]`)),
		staffE2EText(`[data-testid="flash"]`, &flash),
		staffE2EAbsent(`[data-testid="staff-banner"]`),
	)
	staffE2ERun(t, staff, "screenshot of the console", staffE2EShot(filepath.Join(shots, "staff-console.png")))
	if !strings.Contains(flash, "Stopped viewing Riverside Rowing Club as Olivia Hart.") {
		t.Errorf("flash after stop = %q", flash)
	}

	owner, cancelOwner := chromedp.NewContext(staff, chromedp.WithNewBrowserContext())
	defer cancelOwner()
	var actions []string
	var activity string
	staffE2ERun(t, owner, "the owner sees the staff rows in Activity",
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

// staffE2ERun runs a step's actions and fails the test with the step's
// name when one of them fails.
func staffE2ERun(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s: %v (page %s)", step, err, loc)
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

// staffE2EShotDir is where screenshots go: docs/screenshots with
// UPDATE_SCREENSHOTS=1, else a temporary folder (so the path is exercised).
func staffE2EShotDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		dir := filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// staffE2EShot saves a screenshot of the whole page.
func staffE2EShot(path string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(path, png, 0o644)
	})
}

// staffE2EChromium finds Debian's Chromium, or skips (fails under CI).
func staffE2EChromium(t *testing.T) string {
	t.Helper()
	p := os.Getenv("CLUBHOUSE_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		msg := "Chromium is not at " + p + " (set CLUBHOUSE_CHROMIUM, or apt-get install chromium)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// staffE2EStartPortal runs the portal in -dev mode on loopback ports and
// returns its URL once it is listening. It stops when the test ends.
func staffE2EStartPortal(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-dev", "-addr", "127.0.0.1:0", "-emulator-addr", "127.0.0.1:0",
			"-database-url", "sqlite:" + filepath.Join(dir, "c.db")}, func(string) string { return "" }, pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("portal: %v", err)
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "Clubhouse is running at "); ok && !sent {
				found <- strings.TrimSpace(u)
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, pr) // keep draining the logs
	}()
	select {
	case u := <-found:
		return u
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("portal stopped before listening: %v", err)
	case <-ctx.Done():
		t.Fatal("portal did not start in time")
	}
	return ""
}
