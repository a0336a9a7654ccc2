package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
	"github.com/clubhouse/clubhouse/static"
)

func TestSignInRotatesSessionID(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	res := b.get("/auth/login?org_code=" + riverside + "&login_hint=Ana@Example.org&return_to=/members")
	before := b.sessionCookie()
	if before == nil {
		t.Fatal("no session before sign-in (the pending sign-in needs one)")
	}
	if got := e.auth.last(); got.ClubCode != riverside || got.LoginHint != "ana@example.org" {
		t.Errorf("sign-in request = %+v, want the club and the normalised hint", got)
	}
	state := kindeParam(t, res, "state")
	e.auth.Exchange_ = func(code, verifier, nonce string) (club.Identity, club.Tokens, error) {
		if code != "the-code" || verifier == "" || nonce == "" {
			t.Errorf("Exchange(%q, %q, %q): want the code, a verifier and a nonce", code, verifier, nonce)
		}
		return olivia, club.Tokens{AccessToken: "at", RefreshToken: "rt", Expiry: t0.Add(time.Hour)}, nil
	}
	res = b.get("/auth/callback?code=the-code&state=" + url.QueryEscape(state))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/members" {
		t.Fatalf("callback = %d %q, want 303 /members", res.StatusCode, res.Header.Get("Location"))
	}
	after := b.sessionCookie()
	if after == nil || after.Value == before.Value {
		t.Fatal("session id did not change on sign-in")
	}
	if e.records.has(session.RecordKey(before.Value)) {
		t.Error("the pre-sign-in session record still exists")
	}
	if !e.records.has(session.RecordKey(after.Value)) {
		t.Error("no record for the new session")
	}
	for _, c := range []string{after.Value} {
		if strings.Contains(c, "at") && len(c) != 43 {
			t.Errorf("cookie %q looks like it carries data", c)
		}
	}
}

func TestCallbackStateIsSingleUse(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.auth.Exchange_ = func(string, string, string) (club.Identity, club.Tokens, error) {
		return olivia, club.Tokens{Expiry: t0.Add(time.Hour)}, nil
	}
	state := kindeParam(t, b.get("/auth/login"), "state")
	if res := b.get("/auth/callback?code=c&state=" + url.QueryEscape(state)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback = %d, want 303", res.StatusCode)
	}
	signedIn := b.sessionCookie().Value
	tests := []struct{ name, query string }{
		{"replayed state", "code=c&state=" + url.QueryEscape(state)},
		{"foreign state", "code=c&state=made-up-by-an-attacker"},
		{"no state", "code=c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exchanges := e.auth.exchanges.Load()
			res := b.get("/auth/callback?" + tt.query)
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", res.StatusCode)
			}
			if testid(doc(t, res), "error-page").Length() != 1 {
				t.Error("no error page")
			}
			if e.auth.exchanges.Load() != exchanges {
				t.Error("a bad state reached Kinde")
			}
			if b.sessionCookie().Value != signedIn {
				t.Error("the session changed")
			}
		})
	}
	// A state from another browser's session is foreign too.
	other := e.browser()
	res := other.get("/auth/callback?code=c&state=" + url.QueryEscape(kindeParam(t, b.get("/auth/login"), "state")))
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("state from another session: %d, want 400", res.StatusCode)
	}
}

func TestTwoTabsCanSignInConcurrently(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.auth.Exchange_ = func(string, string, string) (club.Identity, club.Tokens, error) {
		return olivia, club.Tokens{Expiry: t0.Add(time.Hour)}, nil
	}
	first := kindeParam(t, b.get("/auth/login"), "state")
	second := kindeParam(t, b.get("/auth/login"), "state")
	for _, s := range []string{second, first} {
		if res := b.get("/auth/callback?code=c&state=" + url.QueryEscape(s)); res.StatusCode != http.StatusSeeOther {
			t.Errorf("callback for a tab = %d, want 303", res.StatusCode)
		}
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, public := range []string{"http://portal.test", "https://portal.test"} {
		t.Run(public, func(t *testing.T) {
			e := newEnv(t, withPublicURL(public))
			b := e.browser()
			c := b.signIn(olivia)
			want := strings.HasPrefix(public, "https")
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != want || c.Path != "/" || c.Name != "clubhouse_session" {
				t.Errorf("cookie = %+v; want HttpOnly, SameSite=Lax, Secure=%v, Path=/", c, want)
			}
			if len(b.cookies) != 1 {
				t.Errorf("cookies = %v, want only the session id", b.cookies)
			}
		})
	}
}

func TestSignedOutOrTamperedGoesToSignIn(t *testing.T) {
	tests := []struct {
		name   string
		cookie func(e *env, b *browser)
	}{
		{"no cookie", func(*env, *browser) {}},
		{"tampered cookie", func(_ *env, b *browser) {
			b.cookies["clubhouse_session"] = &http.Cookie{Name: "clubhouse_session", Value: "forged<>value"}
		}},
		{"unknown id", func(_ *env, b *browser) {
			b.cookies["clubhouse_session"] = &http.Cookie{Name: "clubhouse_session", Value: strings.Repeat("A", 43)}
		}},
		{"expired session", func(e *env, b *browser) {
			b.signIn(olivia)
			e.advance(session.DefaultMaxAge + time.Minute)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			tt.cookie(e, b)
			res := b.get("/members?q=x")
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/auth/login?return_to=%2Fmembers%3Fq%3Dx" {
				t.Errorf("GET = %d %q, want a sign-in redirect", res.StatusCode, res.Header.Get("Location"))
			}
			res = b.post("/members", addForm("ana@example.org"))
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/auth/login" {
				t.Errorf("POST = %d %q, want a sign-in redirect", res.StatusCode, res.Header.Get("Location"))
			}
			res = b.post("/members", addForm("ana@example.org"), HXRequest, "true")
			if res.Header.Get(HXRedirect) != "/auth/login" {
				t.Errorf("htmx POST: HX-Redirect = %q, want /auth/login", res.Header.Get(HXRedirect))
			}
			if w := e.dir.writes.Load(); w != 0 {
				t.Errorf("writes = %d, want 0", w)
			}
		})
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		header []string
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign Origin", []string{"Origin", "https://evil.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.signIn(olivia)
			for _, target := range []string{"/members", "/members/kp_mia/remove", "/members/kp_mia/roles", "/auth/logout"} {
				res := b.post(target, addForm("ana@example.org"), tt.header...)
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("%s: status = %d, want 403", target, res.StatusCode)
				}
				if !strings.Contains(body(t, res), "came from another website") {
					t.Errorf("%s: the page does not say why", target)
				}
			}
			if w, c := e.dir.writes.Load(), e.kinde.calls.Load(); w != 0 || c != 0 {
				t.Errorf("writes = %d, Kinde calls = %d; want 0, 0", w, c)
			}
			// The same POST from the portal's own pages works.
			e.kinde.CreatePersonFunc = func(p club.Person, _ string) (club.Person, error) { p.ID = "kp_ana"; return p, nil }
			if res := b.post("/members", addForm("ana@example.org"), "Sec-Fetch-Site", "same-origin"); res.StatusCode != http.StatusSeeOther {
				t.Errorf("same-origin POST = %d, want 303", res.StatusCode)
			}
		})
	}
}

func TestCSPNonceMatchesScripts(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	var nonces []string
	for _, target := range []string{"/", "/members"} {
		if target == "/" {
			b = e.browser() // the landing page, signed out
		} else {
			b.signIn(olivia)
		}
		res := b.get(target)
		csp := res.Header.Get("Content-Security-Policy")
		_, after, ok := strings.Cut(csp, "'nonce-")
		nonce, _, _ := strings.Cut(after, "'")
		if !ok || len(nonce) < 16 {
			t.Fatalf("%s: CSP %q has no nonce", target, csp)
		}
		for _, want := range []string{"default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self' https://kinde.test", "style-src 'self';"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP lacks %q", target, want)
			}
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: missing security headers", target)
		}
		d := doc(t, res)
		scripts := d.Find("script")
		if scripts.Length() == 0 {
			t.Fatalf("%s: no script tags", target)
		}
		scripts.Each(func(_ int, s *goquery.Selection) {
			if got, _ := s.Attr("nonce"); got != nonce {
				t.Errorf("%s: script nonce %q, want %q", target, got, nonce)
			}
		})
		nonces = append(nonces, nonce)
	}
	if nonces[0] == nonces[1] {
		t.Error("the nonce is the same on two requests")
	}
}

func TestSwitchClub(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(mia)
	t.Run("forged org_code", func(t *testing.T) {
		for _, code := range []string{"org_grace000001", "", "org_hilltop0001%00"} {
			res := b.get("/auth/switch?org_code=" + code)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("switch to %q = %d, want 403", code, res.StatusCode)
			}
		}
	})
	t.Run("own club, silently", func(t *testing.T) {
		// A click on the header's switch link: browsers say it came from
		// the portal's own page.
		res := b.get("/auth/switch?org_code="+hilltop, "Sec-Fetch-Site", "same-origin")
		if got := kindeParam(t, res, "prompt"); got != "none" {
			t.Errorf("prompt = %q, want none", got)
		}
		state := kindeParam(t, res, "state")
		if got := kindeParam(t, res, "org_code"); got != hilltop {
			t.Errorf("org_code = %q, want %q", got, hilltop)
		}
		// Kinde has no session: fall back to an interactive sign-in for that club.
		res = b.get("/auth/callback?error=login_required&state=" + url.QueryEscape(state))
		if got := kindeParam(t, res, "org_code"); got != hilltop {
			t.Errorf("fallback org_code = %q, want %q", got, hilltop)
		}
		if got := kindeParam(t, res, "prompt"); got != "" {
			t.Errorf("fallback prompt = %q, want interactive", got)
		}
		if req := e.auth.last(); req.Prompt != "" || req.ClubCode != hilltop {
			t.Errorf("fallback request = %+v", req)
		}
	})
}

// TestSwitchClubOnlyFromThePortal is issue 12: a link from another
// website to /auth/switch switched a signed-in member's club, because
// SameSite=Lax cookies ride along on top-level GETs. The portal's own
// links and a typed address switch at once; other websites are refused;
// a browser that does not say where the request came from is asked to
// confirm with a form, which the cross-origin protection of every POST
// covers.
func TestSwitchClubOnlyFromThePortal(t *testing.T) {
	switchTarget := "/auth/switch?org_code=" + hilltop
	tests := []struct {
		name   string
		header []string
		want   string // "switch", "refuse" or "confirm"
	}{
		{"the portal's own link", []string{"Sec-Fetch-Site", "same-origin"}, "switch"},
		{"typed or bookmarked", []string{"Sec-Fetch-Site", "none"}, "switch"},
		{"link on another website", []string{"Sec-Fetch-Site", "cross-site"}, "refuse"},
		{"link on a sibling subdomain", []string{"Sec-Fetch-Site", "same-site"}, "refuse"},
		{"another website, even naming the portal as Origin", []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://portal.test"}, "refuse"},
		{"an unknown value", []string{"Sec-Fetch-Site", "same-origin, cross-site"}, "refuse"},
		{"a browser that does not say", nil, "confirm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.signIn(mia)
			res := b.get(switchTarget, tt.header...)
			switch tt.want {
			case "switch":
				if got := kindeParam(t, res, "org_code"); got != hilltop {
					t.Errorf("org_code = %q, want %q", got, hilltop)
				}
				if got := kindeParam(t, res, "prompt"); got != "none" {
					t.Errorf("prompt = %q, want none", got)
				}
				return
			case "refuse":
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("status = %d, want 403", res.StatusCode)
				}
				if got := strings.TrimSpace(testid(doc(t, res), "error-page").Text()); !strings.Contains(got, "came from another website") {
					t.Errorf("the page does not say why: %q", got)
				}
			case "confirm":
				if res.StatusCode != http.StatusOK {
					t.Fatalf("status = %d, want 200", res.StatusCode)
				}
				d := doc(t, res)
				form := testid(d, "switch-form")
				if m, _ := form.Attr("method"); m != "post" {
					t.Errorf("form method = %q, want post", m)
				}
				if a, _ := form.Attr("action"); a != "/auth/switch" {
					t.Errorf("form action = %q, want /auth/switch", a)
				}
				if v, _ := form.Find(`input[type="hidden"][name="org_code"]`).Attr("value"); v != hilltop {
					t.Errorf("form org_code = %q, want %q", v, hilltop)
				}
				if got := testid(d, "switch-confirm").Find("h1").Text(); !strings.Contains(got, hilltopClub.Name) {
					t.Errorf("heading = %q, want the club's name", got)
				}
			}
			if loc := res.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %q; want no switch", loc)
			}
			if req := e.auth.last(); req.ClubCode == hilltop {
				t.Errorf("a switch to %s started: %+v", hilltop, req)
			}
		})
	}
}

// TestSwitchClubConfirmed: the confirmation form switches, like every
// POST only from the portal's own pages, and only to the person's clubs.
func TestSwitchClubConfirmed(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(mia)
	form := url.Values{"org_code": {hilltop}}
	for _, header := range [][]string{
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
	} {
		res := b.post("/auth/switch", form, header...)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body(t, res), "came from another website") {
			t.Errorf("POST with %q = %d, want 403 from another website", header, res.StatusCode)
		}
	}
	for _, code := range []string{"org_grace000001", ""} {
		if res := b.post("/auth/switch", url.Values{"org_code": {code}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST switch to %q = %d, want 403", code, res.StatusCode)
		}
	}
	if req := e.auth.last(); req.ClubCode != "" {
		t.Fatalf("a switch started: %+v", req)
	}
	// What an old browser sends when the person presses the button.
	res := b.post("/auth/switch", form, "Origin", "http://portal.test")
	if got := kindeParam(t, res, "org_code"); got != hilltop {
		t.Errorf("org_code = %q, want %q", got, hilltop)
	}
	if got := kindeParam(t, res, "prompt"); got != "none" {
		t.Errorf("prompt = %q, want none", got)
	}
	// The club already in use: nothing to do.
	res = b.post("/auth/switch", url.Values{"org_code": {riverside}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Errorf("switch to the current club = %d %q, want 303 /", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestHSTSOnlyOverHTTPS: with an https public URL every response, whatever
// answers it, tells browsers to use https only; over http, never (the
// header would pin a site that has no https).
func TestHSTSOnlyOverHTTPS(t *testing.T) {
	for _, tt := range []struct{ public, want string }{
		{"https://portal.test", "max-age=31536000; includeSubDomains"},
		{"http://portal.test", ""},
	} {
		t.Run(tt.public, func(t *testing.T) {
			e := newEnv(t, withPublicURL(tt.public))
			visitor, member := e.browser(), e.browser()
			member.signIn(olivia)
			for _, rq := range []struct {
				name   string
				b      *browser
				method string
				target string
				header []string
			}{
				{"landing page", visitor, "GET", "/", nil},
				{"sign-in redirect", visitor, "GET", "/members", nil},
				{"page", member, "GET", "/members", nil},
				{"not found", member, "GET", "/no/such/page", nil},
				{"refused cross-origin POST", member, "POST", "/members", []string{"Sec-Fetch-Site", "cross-site"}},
				{"probe", visitor, "GET", "/healthz", nil},
				{"asset", visitor, "GET", e.s.assets.URL(static.CSS), nil},
			} {
				var form url.Values
				if rq.method == http.MethodPost {
					form = addForm("ana@example.org")
				}
				res := rq.b.do(rq.method, rq.target, form, rq.header...)
				if got := res.Header.Get("Strict-Transport-Security"); got != tt.want {
					t.Errorf("%s (%d): Strict-Transport-Security = %q, want %q", rq.name, res.StatusCode, got, tt.want)
				}
			}
		})
	}
}

func TestClaimsFreshness(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(adam)
	demoted := adam
	demoted.Roles, demoted.Permissions = []string{club.RoleMember}, nil
	e.auth.Refresh_ = func(tok club.Tokens) (club.Identity, club.Tokens, error) {
		if tok.RefreshToken != "rt-kp_adam" {
			t.Errorf("refreshed with %q, want the stored refresh token", tok.RefreshToken)
		}
		return demoted, club.Tokens{AccessToken: "at2", RefreshToken: "rt2", Expiry: e.clock().Add(24 * time.Hour)}, nil
	}
	// Claims not stale: no Kinde call, however many requests.
	for range 3 {
		if res := b.get("/members"); res.StatusCode != http.StatusOK {
			t.Fatalf("status = %d", res.StatusCode)
		}
	}
	if n := e.auth.refreshes.Load(); n != 0 {
		t.Fatalf("refreshes with fresh claims = %d, want 0", n)
	}
	// The owner demotes Adam: his next request refreshes once and is refused.
	e.advance(time.Minute)
	e.fresh.markStale("kp_adam", e.clock())
	e.advance(time.Second)
	res := b.get("/members")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("after demotion: status = %d, want 403", res.StatusCode)
	}
	if n := e.auth.refreshes.Load(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	// He is still signed in, with the new tokens stored.
	if res := b.get("/club"); res.StatusCode != http.StatusOK {
		t.Errorf("/club after demotion = %d, want 200 (still signed in)", res.StatusCode)
	}
	if n := e.auth.refreshes.Load(); n != 1 {
		t.Errorf("refreshes after a second request = %d, want still 1", n)
	}
	// The access token nearly expired: refreshed before use, with the
	// rotated refresh token.
	e.auth.Refresh_ = func(tok club.Tokens) (club.Identity, club.Tokens, error) {
		if tok.RefreshToken != "rt2" {
			t.Errorf("refreshed with %q, want the rotated token rt2", tok.RefreshToken)
		}
		return demoted, club.Tokens{AccessToken: "at3", RefreshToken: "rt3", Expiry: e.clock().Add(24 * time.Hour)}, nil
	}
	e.advance(24*time.Hour - time.Minute)
	b.get("/club")
	if n := e.auth.refreshes.Load(); n != 2 {
		t.Errorf("refreshes near expiry = %d, want 2", n)
	}
}

func TestRefreshRefusedSignsOut(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	old := b.sessionCookie().Value
	e.auth.Refresh_ = func(club.Tokens) (club.Identity, club.Tokens, error) {
		return club.Identity{}, club.Tokens{}, fmt.Errorf("kinde: refresh: %w", club.ErrSessionEnded)
	}
	e.fresh.markStale("kp_olivia", e.clock().Add(time.Second))
	e.advance(time.Minute)
	res := b.get("/members")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("status = %d %q, want 303 /", res.StatusCode, res.Header.Get("Location"))
	}
	if e.records.has(session.RecordKey(old)) {
		t.Error("the ended session's record still exists")
	}
	d := doc(t, b.get("/"))
	if got := strings.TrimSpace(testid(d, "flash").Text()); got != "Your session has ended. Please sign in again." {
		t.Errorf("flash = %q", got)
	}
	if res := b.get("/members"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/auth/login") {
		t.Errorf("after sign-out /members = %d %q, want sign-in", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestRefreshUnavailableIs503(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	e.auth.Refresh_ = func(club.Tokens) (club.Identity, club.Tokens, error) {
		return club.Identity{}, club.Tokens{}, club.Unavailable(errors.New("timeout"))
	}
	e.fresh.markStale("kp_olivia", e.clock().Add(time.Second))
	e.advance(time.Minute)
	if res := b.get("/members"); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", res.StatusCode)
	}
	// Still signed in: the next attempt tries again.
	e.auth.Refresh_ = func(club.Tokens) (club.Identity, club.Tokens, error) {
		return olivia, club.Tokens{RefreshToken: "rt2", Expiry: e.clock().Add(time.Hour)}, nil
	}
	if res := b.get("/members"); res.StatusCode != http.StatusOK {
		t.Errorf("retry status = %d, want 200", res.StatusCode)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	old := b.signIn(olivia).Value
	res := b.post("/auth/logout", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "https://kinde.test/logout?redirect=http://portal.test/" {
		t.Errorf("logout = %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if e.records.has(session.RecordKey(old)) || b.sessionCookie() != nil {
		t.Error("session survived sign-out")
	}
}

func TestHomeSendsPeopleWhereTheyBelong(t *testing.T) {
	tests := []struct {
		name string
		id   *club.Identity
		want string
	}{
		{"owner", &olivia, "/members"},
		{"member", &mia, "/club"},
		{"no club", &nora, "/onboarding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.signIn(*tt.id)
			res := b.get("/")
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tt.want {
				t.Errorf("/ = %d %q, want %s", res.StatusCode, res.Header.Get("Location"), tt.want)
			}
		})
	}
	e := newEnv(t)
	if res := e.browser().get("/"); res.StatusCode != http.StatusOK {
		t.Errorf("landing = %d, want 200", res.StatusCode)
	}
}

func TestOnboardingCreatesClubThenSilentReauth(t *testing.T) {
	e := newEnv(t)
	var created int
	e.kinde.CreateClubFunc = func(name string) (club.Club, error) {
		created++
		return club.Club{Code: "org_newclub0001", Name: name}, nil
	}
	b := e.browser()
	b.signIn(nora)
	res := b.post("/onboarding", url.Values{"name": {"<b>"}})
	if res.StatusCode != http.StatusUnprocessableEntity || created != 0 {
		t.Errorf("bad name: %d, created %d; want 422, 0", res.StatusCode, created)
	}
	res = b.post("/onboarding", url.Values{"name": {"Lakeside Canoe Club"}})
	if got := kindeParam(t, res, "org_code"); got != "org_newclub0001" {
		t.Errorf("re-auth org_code = %q", got)
	}
	if got := kindeParam(t, res, "prompt"); got != "none" {
		t.Errorf("re-auth prompt = %q, want none", got)
	}
	if created != 1 {
		t.Errorf("clubs created = %d, want 1", created)
	}
}

func TestLoginReturnToIsLocalOnly(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/members?q=a", "/members?q=a"},
		{"https://evil.example/", ""},
		{"//evil.example/", ""},
		{"/\\evil.example", ""},
		{"members", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := localPath(tt.in); got != tt.want {
				t.Errorf("localPath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestProbes(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, tt := range []struct {
		target string
		want   int
	}{
		{"/healthz", 200}, {"/readyz", 200}, {"/no/such/page", 404},
		// Metrics have a listener of their own (cmd/clubhouse), never
		// the portal's.
		{"/metrics", 404},
	} {
		if res := b.get(tt.target); res.StatusCode != tt.want {
			t.Errorf("%s = %d, want %d", tt.target, res.StatusCode, tt.want)
		}
	}
	if strings.Contains(e.logs.String(), "clubhouse_session=") {
		t.Error("a cookie reached the logs")
	}
}

type panicRoles struct{}

func (panicRoles) Roles(context.Context) ([]club.Role, error) { panic("roles exploded") }

func TestPanicIsA500PageAndLogged(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.Roles = panicRoles{} })
	b := e.browser()
	b.signIn(olivia)
	res := b.get("/members")
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", res.StatusCode)
	}
	raw := body(t, res)
	if strings.Contains(raw, "roles exploded") || strings.Contains(raw, "goroutine") {
		t.Error("the panic reached the page")
	}
	if !strings.Contains(raw, "Something went wrong") {
		t.Error("no error page")
	}
	if !strings.Contains(e.logs.String(), "roles exploded") {
		t.Error("the panic was not logged")
	}
}

func TestReadyzFails(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.Ready = func(context.Context) error { return errors.New("db down at 10.1.2.3") } })
	res := e.browser().get("/readyz")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", res.StatusCode)
	}
	if strings.Contains(body(t, res), "10.1.2.3") {
		t.Error("the reason reached the response")
	}
}
