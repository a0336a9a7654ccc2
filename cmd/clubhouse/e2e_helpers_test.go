//go:build dev

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive the real portal (run with -dev, so with the
// embedded Kinde emulator, SQLite and the dev mailbox) from Debian's
// Chromium. The helpers here, prefixed e2e, are what every browser test
// uses, so a test reads as the steps a person takes.

// e2eDeadline bounds one browser test, so a hang fails fast.
const e2eDeadline = 45 * time.Second

// e2ePortal is a running portal: where browsers reach it and where its
// Kinde emulator is.
type e2ePortal struct {
	URL   string // the portal, http://localhost:<port>
	Kinde string // the embedded emulator, http://127.0.0.1:<port>
}

// e2eChromium returns the path of Chromium (CLUBHOUSE_CHROMIUM, else
// /usr/bin/chromium). Without it the test is skipped, or fails under CI.
func e2eChromium(t *testing.T) string {
	t.Helper()
	p := os.Getenv("CLUBHOUSE_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		msg := "browser tests need Chromium at " + p + ": apt-get install chromium, or set CLUBHOUSE_CHROMIUM"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// e2eBrowser launches the Chromium the browser tests share. It closes
// when the test ends. Without Chromium the test is skipped (failed under CI).
func e2eBrowser(t *testing.T) context.Context {
	t.Helper()
	chromium := e2eChromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return e2eStartBrowser(t, ctx, chromium)
}

// e2eStart starts a fresh portal for one test and gives the test its
// deadline: the returned browser context ends with it, and so do the tabs
// e2ePerson opens in it.
func e2eStart(t *testing.T, browser context.Context) (e2ePortal, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eDeadline)
	t.Cleanup(cancel)
	portal := e2eStartPortal(t, ctx)
	deadline, _ := ctx.Deadline()
	bctx, cancelB := context.WithDeadline(browser, deadline)
	t.Cleanup(cancelB)
	return portal, bctx
}

// e2eStartBrowser launches Chromium with exactly the flags the suite
// allows, a fresh profile and a 1280×800 window, and returns the context of
// its first tab once it runs. It closes when the test ends.
func e2eStartBrowser(t *testing.T, ctx context.Context, chromium string) context.Context {
	t.Helper()
	profile := t.TempDir() // made before the cleanup below, so removed after Chromium exits
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless, // --headless (and hide-scrollbars, mute-audio)
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("e2e: start chromium: %v", err)
	}
	return browser
}

// e2ePerson opens a tab in a new browser context of browser: a cookie jar
// of its own, as if someone else were at another computer.
func e2ePerson(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	e2eDo(t, tab, "open a tab", chromedp.EmulateViewport(1280, 800))
	return tab
}

// e2eStartPortal runs the portal in -dev mode on loopback ports with its
// own database and emulator state, and returns its URLs once it listens.
// It stops when the test ends; its log is then checked for email addresses
// (e2eCheckLogs), and shown when the test fails.
func e2eStartPortal(t *testing.T, ctx context.Context) e2ePortal {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(ctx)
	logs := &e2eLog{}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	scanned := make(chan struct{}) // closed once all the output is in logs
	go func() {
		err := run(ctx, []string{"-dev", "-addr", "127.0.0.1:0", "-emulator-addr", "127.0.0.1:0",
			"-database-url", "sqlite:" + filepath.Join(dir, "c.db")}, func(string) string { return "" }, pw)
		pw.Close()
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("e2e: portal: %v", err)
		}
		<-scanned
		e2eCheckLogs(t, logs.all())
		if t.Failed() {
			t.Logf("portal log (tail):\n%s", logs.tail(6000))
		}
	})

	started := make(chan e2ePortal, 1)
	go func() {
		defer close(scanned)
		var p e2ePortal
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			logs.add(line)
			if u, ok := strings.CutPrefix(line, "Clubhouse is running at "); ok {
				p.URL = strings.TrimSpace(u)
			}
			if u, ok := strings.CutPrefix(line, "Kinde emulator (local, not production): "); ok && p.URL != "" && p.Kinde == "" {
				p.Kinde = strings.TrimSpace(u)
				started <- p
			}
		}
		_, _ = io.Copy(io.Discard, pr) // a scan error: keep the portal unblocked
	}()
	select {
	case p := <-started:
		return p
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("e2e: portal stopped before listening: %v", err)
	case <-ctx.Done():
		t.Fatal("e2e: portal did not start in time")
	}
	return e2ePortal{}
}

// e2eLog keeps the portal's output for a failing test.
type e2eLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *e2eLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

// all returns every line of the log.
func (l *e2eLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// tail returns the last lines of the log, at most about n bytes.
func (l *e2eLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	size, i := 0, len(l.lines)
	for i > 0 && size+len(l.lines[i-1]) < n {
		i--
		size += len(l.lines[i]) + 1
	}
	return strings.Join(l.lines[i:], "\n")
}

// e2eDo runs the actions of one step in tab and fails the test, naming the
// step and the page it was on, when one of them fails.
func e2eDo(t *testing.T, tab context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, actions...); err != nil {
		t.Fatalf("%s: %v%s", step, err, e2ePageInfo(tab))
	}
}

// e2eGet runs one action that returns a value.
func e2eGet[T any](t *testing.T, tab context.Context, step string, action chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(tab, action)
	if err != nil {
		t.Fatalf("%s: %v%s", step, err, e2ePageInfo(tab))
	}
	return v
}

// e2ePageInfo describes where a tab is, for failure messages. It gives up
// quickly, as the tab may be what failed.
func e2ePageInfo(tab context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tab), 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	return "\n  page: " + loc + "\n  text: " + strings.ReplaceAll(text, "\n", " | ")
}

// e2eJS quotes s as a JavaScript string literal.
func e2eJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// e2eWaitFor waits until the JavaScript expression is truthy. It is
// re-checked often, so it suits conditions that are not a DOM mutation
// (scripts loaded, a fetch). It does not survive a navigation: wait for
// the new page first.
func e2eWaitFor(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(20*time.Second))
}

// e2eWaitText waits until the text of the first element matching sel
// contains want.
func e2eWaitText(sel, want string) chromedp.Action[chromedp.Void] {
	return e2eWaitFor(`((el) => !!el && el.textContent.includes(` + e2eJS(want) + `))(document.querySelector(` + e2eJS(sel) + `))`)
}

// e2eReady waits until the page has loaded with its scripts (htmx and the
// app's), so clicks on enhanced elements behave as for a person.
func e2eReady() chromedp.Action[chromedp.Void] {
	return e2eWaitFor(`document.readyState === "complete" && !!window.htmx`)
}

// e2eCount returns how many elements match sel.
func e2eCount(sel string) chromedp.Action[int] {
	return chromedp.Evaluate[int](`document.querySelectorAll(` + e2eJS(sel) + `).length`)
}

// e2eRoles returns the role keys on the badges of a member's row.
func e2eRoles(email string) chromedp.Action[[]string] {
	return chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(` +
		e2eJS(e2eRow(email)+` [data-testid="role-badge"]`) + `), (b) => b.dataset.role)`)
}

// e2eRow selects the row of the member with email in the members table.
func e2eRow(email string) string {
	return `[data-testid="member-row"][data-email="` + email + `"]`
}

// e2ePersonButton selects the emulator's one-click sign-in button of a
// seeded person.
func e2ePersonButton(email string) string {
	return `button[data-testid="person"][data-email="` + email + `"]`
}

// e2eSignIn signs email in on tab through the portal's /auth/login and
// the emulator's page, and waits until the portal's page after it is ready.
func e2eSignIn(t *testing.T, tab context.Context, p e2ePortal, email string) {
	t.Helper()
	e2eDo(t, tab, "sign in as "+email,
		chromedp.Navigate(p.URL+"/auth/login"),
		chromedp.WaitVisible(chromedp.CSS(e2ePersonButton(email))),
		chromedp.Click(chromedp.CSS(e2ePersonButton(email))),
		chromedp.WaitVisible(chromedp.CSS(`header.topbar .usermenu__name`)),
		e2eReady(),
	)
}

// e2eShotDir is where screenshots go: docs/screenshots with
// UPDATE_SCREENSHOTS=1, else a temporary folder, so the code that takes
// them runs in every test run.
func e2eShotDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" {
		return t.TempDir()
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("e2e: screenshots folder: %v", err)
	}
	return dir
}

// e2eShot saves a PNG of the viewport to path.
func e2eShot(path string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		png, err := chromedp.CaptureScreenshot()(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(path, png, 0o644)
	})
}

// e2eIsPNG reports whether the file at path starts like a PNG image.
func e2eIsPNG(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("e2e: read screenshot: %v", err)
		return false
	}
	return len(b) > 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n"
}
