package emulator_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestDiscoveryMatchesKindePaths(t *testing.T) {
	h := startEmulator(t)
	p := h.provider(t)
	var got struct {
		Issuer        string   `json:"issuer"`
		Auth          string   `json:"authorization_endpoint"`
		Token         string   `json:"token_endpoint"`
		UserInfo      string   `json:"userinfo_endpoint"`
		JWKS          string   `json:"jwks_uri"`
		EndSession    string   `json:"end_session_endpoint"`
		Revocation    string   `json:"revocation_endpoint"`
		Introspection string   `json:"introspection_endpoint"`
		Challenge     []string `json:"code_challenge_methods_supported"`
		Scopes        []string `json:"scopes_supported"`
		Algs          []string `json:"id_token_signing_alg_values_supported"`
		ResponseTypes []string `json:"response_types_supported"`
	}
	if err := p.Claims(&got); err != nil {
		t.Fatal(err)
	}
	iss := h.issuer()
	tests := []struct{ name, got, want string }{
		{"issuer", got.Issuer, iss},
		{"authorization_endpoint", got.Auth, iss + "/oauth2/auth"},
		{"token_endpoint", got.Token, iss + "/oauth2/token"},
		{"userinfo_endpoint", got.UserInfo, iss + "/oauth2/v2/user_profile"},
		{"jwks_uri", got.JWKS, iss + "/.well-known/jwks"},
		{"end_session_endpoint", got.EndSession, iss + "/logout"},
		{"revocation_endpoint", got.Revocation, iss + "/oauth2/revoke"},
		{"introspection_endpoint", got.Introspection, iss + "/oauth2/introspect"},
		{"code_challenge_methods_supported", strings.Join(got.Challenge, " "), "S256"},
		{"scopes_supported", strings.Join(got.Scopes, " "), "openid profile email offline"},
		{"id_token_signing_alg_values_supported", strings.Join(got.Algs, " "), "RS256"},
		{"response_types_supported", strings.Join(got.ResponseTypes, " "), "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestJWKSShape(t *testing.T) {
	h := startEmulator(t)
	for _, path := range []string{"/.well-known/jwks", "/.well-known/jwks.json"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(h.issuer() + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := jsonDecode(resp.Body, &set); err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != 1 {
				t.Fatalf("got %d keys, want 1", len(set.Keys))
			}
			k := set.Keys[0]
			for field, want := range map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256"} {
				if got := k[field]; got != want {
					t.Errorf("%s = %v, want %s", field, got, want)
				}
			}
			if kid, _ := k["kid"].(string); len(strings.Split(kid, ":")) != 16 {
				t.Errorf("kid = %q, want 16 colon-separated hex bytes like Kinde's", kid)
			}
			if _, ok := k["d"]; ok {
				t.Error("JWKS leaks the private exponent")
			}
		})
	}
}

// TestCodeFlowWithPKCE signs in through the login page with the real
// relying-party stack and verifies every token.
func TestCodeFlowWithPKCE(t *testing.T) {
	h := startEmulator(t)
	ctx := t.Context()
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	f := newFlow()
	b := newBrowser(t)

	page := b.get(f.authURL(cfg))
	if page.Page == nil {
		t.Fatalf("want the login page, got %d", page.Status)
	}
	if got := page.Page.Find(`[data-testid="emulator-banner"]`).Text(); !strings.Contains(got, "Local Kinde emulator — not production") {
		t.Errorf("banner = %q", got)
	}
	olivia := personForm(t, page.Page, "olivia@example.org")
	if txt := olivia.Text(); !strings.Contains(txt, "Riverside Rowing Club") || !strings.Contains(txt, "owner") {
		t.Errorf("Olivia's button should list her club and role, got %q", strings.Join(strings.Fields(txt), " "))
	}
	out := b.submit(h.issuer(), olivia, nil)
	code := codeFrom(t, out, f.state)

	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.TokenType != "bearer" {
		t.Errorf("token_type = %q, want bearer", tok.TokenType)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token although scope has offline")
	}
	if got := tok.Extra("expires_in"); got != float64(86400) {
		t.Errorf("expires_in = %v, want 86400", got)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := h.idVerifier(p).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != f.nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, f.nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	olv := h.userByEmail(t, "olivia@example.org")
	if idt.Subject != olv.ID {
		t.Errorf("sub = %q, want %q", idt.Subject, olv.ID)
	}
	at, err := h.accessVerifier(ctx).Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	var ac struct {
		OrgCode     string   `json:"org_code"`
		Permissions []string `json:"permissions"`
		Roles       []struct {
			Key string `json:"key"`
		} `json:"roles"`
	}
	if err := at.Claims(&ac); err != nil {
		t.Fatal(err)
	}
	riverside := h.orgsOf(t, "olivia@example.org")[0]
	if ac.OrgCode != riverside.Code {
		t.Errorf("org_code = %q, want %q", ac.OrgCode, riverside.Code)
	}
	if len(ac.Roles) != 1 || ac.Roles[0].Key != "owner" {
		t.Errorf("roles = %+v, want [owner]", ac.Roles)
	}
	if !slices.Contains(ac.Permissions, "members:write") {
		t.Errorf("permissions = %v, want members:write among them", ac.Permissions)
	}

	info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.Subject != olv.ID || info.Email != "olivia@example.org" || !info.EmailVerified {
		t.Errorf("userinfo = %+v", info)
	}
}

func TestRefreshRotatesWithOverlap(t *testing.T) {
	h := startEmulator(t)
	ctx := t.Context()
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	tok := h.signIn(t, cfg, "olivia@example.org")

	refresh := func(rt string) (*oauth2.Token, error) {
		return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}
	first, err := refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if first.RefreshToken == "" || first.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not rotate the refresh token")
	}
	if first.AccessToken != tok.AccessToken {
		t.Error("an unexpired, unchanged access token should be handed back by refresh, as Kinde documents")
	}
	if _, err := h.idVerifier(p).Verify(ctx, first.Extra("id_token").(string)); err != nil {
		t.Errorf("refreshed ID token: %v", err)
	}

	h.clock.Advance(10 * time.Second)
	if _, err := refresh(tok.RefreshToken); err != nil {
		t.Errorf("old refresh token inside the overlap window: %v", err)
	}
	h.clock.Advance(25 * time.Second)
	_, err = refresh(tok.RefreshToken)
	if code, status := oauthErrorCode(t, err); code != "invalid_grant" || status != http.StatusBadRequest {
		t.Errorf("old refresh token after the overlap: %s %d, want invalid_grant 400", code, status)
	}
	if _, err := refresh(first.RefreshToken); err != nil {
		t.Errorf("new refresh token: %v", err)
	}

	// A refresh token rotated long ago is dead even though the refresh
	// token lifetime (15 days) has not run out.
	h.clock.Advance(time.Hour)
	_, err = refresh(first.RefreshToken)
	if code, _ := oauthErrorCode(t, err); code != "invalid_grant" {
		t.Errorf("refresh token rotated an hour ago: %s, want invalid_grant", code)
	}
}

func TestRefreshNeverReturnsExpiredAccessToken(t *testing.T) {
	h := startEmulator(t)
	ctx := t.Context()
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	tok := h.signIn(t, cfg, "olivia@example.org")

	h.clock.Advance(24*time.Hour + time.Second)
	next, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if next.AccessToken == tok.AccessToken {
		t.Fatal("refresh returned the expired access token")
	}
	if _, err := h.accessVerifier(ctx).Verify(ctx, next.AccessToken); err != nil {
		t.Errorf("new access token: %v", err)
	}
}

func TestRefreshRecomputesClaims(t *testing.T) {
	h := startEmulator(t)
	ctx := t.Context()
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	w := h.emu.World()
	adam := h.userByEmail(t, "adam@example.org")
	org := h.orgsOf(t, "adam@example.org")[0]
	tok := h.signIn(t, cfg, "adam@example.org")
	if got := roleKeys(t, tok.AccessToken); !slices.Equal(got, []string{"admin"}) {
		t.Fatalf("roles = %v, want [admin]", got)
	}

	owner, ok := w.RoleByKey("owner")
	if !ok {
		t.Fatal("no owner role")
	}
	if err := w.AddMemberRole(org.Code, adam.ID, owner.ID, "api"); err != nil {
		t.Fatal(err)
	}
	next, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	got := roleKeys(t, next.AccessToken)
	slices.Sort(got)
	if !slices.Equal(got, []string{"admin", "owner"}) {
		t.Errorf("after a role grant, roles = %v, want [admin owner]", got)
	}
	if c := claimsOf(t, next.AccessToken); c["org_code"] != org.Code {
		t.Errorf("org_code = %v, want the original sign-in's %s", c["org_code"], org.Code)
	}

	if err := w.RemoveMember(org.Code, adam.ID, "api"); err != nil {
		t.Fatal(err)
	}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token()
	if code, _ := oauthErrorCode(t, err); code != "invalid_grant" {
		t.Errorf("refresh after removal from the org: %s, want invalid_grant", code)
	}
}

func roleKeys(tb testing.TB, accessToken string) []string {
	tb.Helper()
	roles, _ := claimsOf(tb, accessToken)["roles"].([]any)
	out := []string{}
	for _, r := range roles {
		m, _ := r.(map[string]any)
		k, _ := m["key"].(string)
		out = append(out, k)
	}
	return out
}

// signIn runs a whole sign-in as email (choosing the first org if asked) and
// exchanges the code.
func (h *harness) signIn(tb testing.TB, cfg *oauth2.Config, email string, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	tb.Helper()
	f := newFlow()
	b := newBrowser(tb)
	out := h.signInAs(b, f.authURL(cfg, opts...), email)
	if out.Page != nil && out.Page.Find(`[data-testid="orgs"]`).Length() > 0 {
		code, _ := out.Page.Find(`button[data-testid="org"]`).First().Attr("data-org-code")
		out = b.submit(h.issuer(), orgForm(tb, out.Page, code), nil)
	}
	code := codeFrom(tb, out, f.state)
	tok, err := cfg.Exchange(tb.Context(), code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		tb.Fatalf("exchange: %v", err)
	}
	return tok
}

// TestOrgChooserAndSilentSwitch: a person in several clubs picks one on the
// chooser, then switches clubs with org_code and the SSO session, without
// seeing any page.
func TestOrgChooserAndSilentSwitch(t *testing.T) {
	h := startEmulator(t)
	ctx := t.Context()
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	orgs := h.orgsOf(t, "mia@example.org")
	if len(orgs) < 2 {
		t.Fatalf("mia should be in several clubs, has %d", len(orgs))
	}
	b := newBrowser(t)
	f := newFlow()
	out := h.signInAs(b, f.authURL(cfg), "mia@example.org")
	if out.Page == nil {
		t.Fatalf("want the org chooser, got %d", out.Status)
	}
	var listed []string
	out.Page.Find(`button[data-testid="org"]`).Each(func(_ int, s *goquery.Selection) {
		listed = append(listed, strings.TrimSpace(s.Text()))
	})
	var want []string
	for _, o := range orgs {
		want = append(want, o.Name)
	}
	if !slices.Equal(listed, want) {
		t.Errorf("chooser lists %v, want %v", listed, want)
	}
	out = b.submit(h.issuer(), orgForm(t, out.Page, orgs[0].Code), nil)
	tok, err := cfg.Exchange(ctx, codeFrom(t, out, f.state), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	if got := claimsOf(t, tok.AccessToken)["org_code"]; got != orgs[0].Code {
		t.Errorf("org_code = %v, want %s", got, orgs[0].Code)
	}

	tests := []struct {
		name   string
		prompt string
	}{
		{"org_code with session", ""},
		{"org_code with prompt=none (js-utils switchOrg)", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pagesBefore, hopsBefore := b.pages, b.hops
			f := newFlow()
			opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("org_code", orgs[1].Code)}
			if tt.prompt != "" {
				opts = append(opts, oauth2.SetAuthURLParam("prompt", tt.prompt))
			}
			out := b.get(f.authURL(cfg, opts...))
			code := codeFrom(t, out, f.state)
			if b.pages != pagesBefore || b.hops != hopsBefore {
				t.Errorf("silent switch showed %d pages and %d extra redirects, want none", b.pages-pagesBefore, b.hops-hopsBefore)
			}
			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Fatal(err)
			}
			if got := claimsOf(t, tok.AccessToken)["org_code"]; got != orgs[1].Code {
				t.Errorf("org_code = %v, want %s", got, orgs[1].Code)
			}
		})
	}
}

func TestAuthorizeErrorsRedirect(t *testing.T) {
	h := startEmulator(t)
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	riverside := h.orgsOf(t, "olivia@example.org")[0]

	t.Run("prompt=none without a session", func(t *testing.T) {
		f := newFlow()
		out := newBrowser(t).get(f.authURL(cfg, oauth2.SetAuthURLParam("prompt", "none")))
		if out.Callback == nil {
			t.Fatalf("want a redirect, got %d", out.Status)
		}
		if got, want := out.Callback.RawQuery, "error=login_required&error_description=User+authentication+is+required&state="+url.QueryEscape(f.state); got != want {
			t.Errorf("query = %q, want %q", got, want)
		}
	})
	t.Run("org_code of a club the person is not in", func(t *testing.T) {
		f := newFlow()
		b := newBrowser(t)
		out := h.signInAs(b, f.authURL(cfg, oauth2.SetAuthURLParam("org_code", riverside.Code)), "tom@example.org")
		if got := out.param("error"); got != "access_denied" {
			t.Fatalf("error = %q, want access_denied", got)
		}
		if got, want := out.param("error_description"), "User is not a member of organization "+riverside.Code; got != want {
			t.Errorf("error_description = %q, want %q", got, want)
		}
		if out.param("state") != f.state {
			t.Error("state not echoed")
		}
	})
	t.Run("unsupported response_type", func(t *testing.T) {
		u := strings.Replace(newFlow().authURL(cfg), "response_type=code", "response_type=token", 1)
		out := newBrowser(t).get(u)
		if got := out.param("error"); got != "unsupported_response_type" {
			t.Errorf("error = %q", got)
		}
	})
	t.Run("audience not allowed", func(t *testing.T) {
		out := newBrowser(t).get(newFlow().authURL(cfg, oauth2.SetAuthURLParam("audience", "https://evil.example/api")))
		if got := out.param("error"); got != "invalid_request" {
			t.Errorf("error = %q", got)
		}
	})
}

func TestAuthorizeErrorsShownWhenRedirectUntrusted(t *testing.T) {
	h := startEmulator(t)
	p := h.provider(t)
	tests := []struct {
		name   string
		mutate func(*oauth2.Config)
	}{
		{"unknown client", func(c *oauth2.Config) { c.ClientID = "00000000000000000000000000000000" }},
		{"unregistered redirect_uri", func(c *oauth2.Config) { c.RedirectURL = "http://127.0.0.1:8080/auth/callback/other" }},
		{"m2m client", func(c *oauth2.Config) { c.ClientID = h.m2m.ClientID }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := h.oauthConfig(p)
			tt.mutate(cfg)
			out := newBrowser(t).get(newFlow().authURL(cfg))
			if out.Status != http.StatusBadRequest || out.Page == nil {
				t.Fatalf("got %d (callback %v), want a 400 page", out.Status, out.Callback)
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	h := startEmulator(t)
	ctx := t.Context()
	p := h.provider(t)
	cfg := h.oauthConfig(p)

	// code runs a sign-in up to the callback and returns the flow and code.
	code := func(t *testing.T) (flow, string) {
		t.Helper()
		f := newFlow()
		out := h.signInAs(newBrowser(t), f.authURL(cfg), "olivia@example.org")
		return f, codeFrom(t, out, f.state)
	}

	tests := []struct {
		name       string
		run        func(t *testing.T) error
		wantCode   string
		wantStatus int
	}{
		{"bad verifier", func(t *testing.T) error {
			_, c := code(t)
			_, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			return err
		}, "invalid_grant", http.StatusBadRequest},
		{"missing verifier", func(t *testing.T) error {
			_, c := code(t)
			_, err := cfg.Exchange(ctx, c)
			return err
		}, "invalid_grant", http.StatusBadRequest},
		{"wrong redirect_uri", func(t *testing.T) error {
			f, c := code(t)
			other := *cfg
			other.RedirectURL = "http://localhost:8080/auth/callback"
			_, err := other.Exchange(ctx, c, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_grant", http.StatusBadRequest},
		{"expired code", func(t *testing.T) error {
			f, c := code(t)
			h.clock.Advance(61 * time.Second)
			_, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_grant", http.StatusBadRequest},
		{"wrong client secret in the form", func(t *testing.T) error {
			f, c := code(t)
			bad := *cfg
			bad.ClientSecret = "WrongSecret0123456789012345678901234567890"
			bad.Endpoint.AuthStyle = oauth2.AuthStyleInParams
			_, err := bad.Exchange(ctx, c, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_client", http.StatusUnauthorized},
		{"wrong client secret with HTTP Basic", func(t *testing.T) error {
			f, c := code(t)
			bad := *cfg
			bad.ClientSecret = "WrongSecret0123456789012345678901234567890"
			bad.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
			_, err := bad.Exchange(ctx, c, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_client", http.StatusUnauthorized},
		{"unknown refresh token", func(t *testing.T) error {
			_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: "nope"}).Token()
			return err
		}, "invalid_grant", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(t)
			if err == nil {
				t.Fatal("want an error, got tokens")
			}
			gotCode, gotStatus := oauthErrorCode(t, err)
			if gotCode != tt.wantCode || gotStatus != tt.wantStatus {
				t.Errorf("got %s %d, want %s %d", gotCode, gotStatus, tt.wantCode, tt.wantStatus)
			}
		})
	}

	t.Run("invalid_client wording", func(t *testing.T) {
		status, body, _ := postForm(t, h.issuer()+"/oauth2/token", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {h.m2m.ClientID}, "client_secret": {"x"},
		}, "", "")
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" ||
			body["error_description"] != "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)." {
			t.Errorf("got %d %v", status, body)
		}
	})
	t.Run("unsupported grant type", func(t *testing.T) {
		status, body, _ := postForm(t, h.issuer()+"/oauth2/token", url.Values{
			"grant_type": {"password"}, "client_id": {h.portal.ClientID}, "client_secret": {h.portal.ClientSecret},
		}, "", "")
		if status != http.StatusBadRequest || body["error"] != "unsupported_grant_type" {
			t.Errorf("got %d %v", status, body)
		}
	})
}

// TestReusedCodeRevokesItsTokens: the second redemption fails, and the
// tokens from the first stop working.
func TestReusedCodeRevokesItsTokens(t *testing.T) {
	h := startEmulator(t)
	ctx := t.Context()
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	f := newFlow()
	c := codeFrom(t, h.signInAs(newBrowser(t), f.authURL(cfg), "olivia@example.org"), f.state)
	tok, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Exchange(ctx, c, oauth2.VerifierOption(f.verifier))
	if code, _ := oauthErrorCode(t, err); code != "invalid_grant" {
		t.Fatalf("reused code: %s, want invalid_grant", code)
	}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if code, _ := oauthErrorCode(t, err); code != "invalid_grant" {
		t.Errorf("refresh token from a replayed code: %s, want invalid_grant", code)
	}
	if _, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token from a replayed code still works at user_profile")
	}
	status, body, _ := postForm(t, h.issuer()+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, h.portal.ClientID, h.portal.ClientSecret)
	if status != http.StatusOK || body["active"] != false {
		t.Errorf("introspect = %d %v, want inactive", status, body)
	}
}

func TestClientCredentials(t *testing.T) {
	h := startEmulator(t)
	tokenURL := h.issuer() + "/oauth2/token"
	mgmt := h.issuer() + "/api"

	t.Run("token and a Management API call", func(t *testing.T) {
		cc := clientcredentials.Config{
			ClientID:       h.m2m.ClientID,
			ClientSecret:   h.m2m.ClientSecret,
			TokenURL:       tokenURL,
			EndpointParams: url.Values{"audience": {mgmt}},
		}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Extra("expires_in"); got != float64(3600) {
			t.Errorf("expires_in = %v, want 3600", got)
		}
		if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
			t.Error("an M2M token response must not carry refresh or ID tokens")
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.issuer()+"/api/v1/users?page_size=5", nil)
		tok.SetAuthHeader(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /api/v1/users = %d, want 200", resp.StatusCode)
		}
	})

	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantError  string
	}{
		{"kinde.com-style audience", url.Values{"audience": {"https://127.0.0.1.kinde.com/api"}}, 200, ""},
		{"audience not whitelisted", url.Values{"audience": {"https://other.kinde.com/api"}}, 403, "invalid_request"},
		{"scope not granted", url.Values{"audience": {mgmt}, "scope": {"read:users delete:environment"}}, 403, "invalid_scope"},
		{"granted sub-scope", url.Values{"audience": {mgmt}, "scope": {"read:users"}}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {h.m2m.ClientID}, "client_secret": {h.m2m.ClientSecret}}
			for k, v := range tt.form {
				form[k] = v
			}
			status, body, _ := postForm(t, tokenURL, form, "", "")
			if status != tt.wantStatus || (tt.wantError != "" && body["error"] != tt.wantError) {
				t.Errorf("got %d %v, want %d %s", status, body, tt.wantStatus, tt.wantError)
			}
		})
	}
	t.Run("web app cannot use client_credentials", func(t *testing.T) {
		status, body, _ := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "audience": {mgmt}}, h.portal.ClientID, h.portal.ClientSecret)
		if status != http.StatusBadRequest || body["error"] != "unauthorized_client" {
			t.Errorf("got %d %v", status, body)
		}
	})
	t.Run("scope error wording", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "audience": {mgmt}, "scope": {"delete:environment"}}
		_, body, _ := postForm(t, tokenURL, form, h.m2m.ClientID, h.m2m.ClientSecret)
		want := "The requested scope is invalid, unknown, or malformed. The OAuth 2.0 Client is not allowed to request scope 'delete:environment'."
		if body["error_description"] != want {
			t.Errorf("error_description = %v", body["error_description"])
		}
	})
}

func TestLogout(t *testing.T) {
	h := startEmulator(t)
	ctx := t.Context()
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	b := newBrowser(t)
	f := newFlow()
	tok, err := cfg.Exchange(ctx, codeFrom(t, h.signInAs(b, f.authURL(cfg), "olivia@example.org"), f.state), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("unregistered redirect is refused", func(t *testing.T) {
		out := b.get(h.issuer() + "/logout?redirect=" + url.QueryEscape("http://evil.example/"))
		if out.Status != http.StatusBadRequest || out.Callback != nil {
			t.Fatalf("got %d, want a 400 page", out.Status)
		}
		f := newFlow()
		if out := b.get(f.authURL(cfg, oauth2.SetAuthURLParam("prompt", "none"))); out.param("code") == "" {
			t.Error("a refused logout must keep the session")
		}
	})
	t.Run("registered redirect signs out", func(t *testing.T) {
		out := b.get(h.issuer() + "/logout?redirect=" + url.QueryEscape("http://127.0.0.1:8080/"))
		if out.Callback == nil || out.Callback.String() != "http://127.0.0.1:8080/" {
			t.Fatalf("got %d %v, want a redirect to the logout URL", out.Status, out.Callback)
		}
		f := newFlow()
		if got := b.get(f.authURL(cfg, oauth2.SetAuthURLParam("prompt", "none"))).param("error"); got != "login_required" {
			t.Errorf("after logout, prompt=none gave error %q, want login_required", got)
		}
		_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if code, _ := oauthErrorCode(t, err); code != "invalid_grant" {
			t.Errorf("refresh after logout: %s, want invalid_grant", code)
		}
	})
}

func TestIntrospectAndRevoke(t *testing.T) {
	h := startEmulator(t)
	ctx := t.Context()
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	tok := h.signIn(t, cfg, "olivia@example.org")
	introspect := func(token string) map[string]any {
		t.Helper()
		status, body, _ := postForm(t, h.issuer()+"/oauth2/introspect", url.Values{"token": {token}}, h.portal.ClientID, h.portal.ClientSecret)
		if status != http.StatusOK {
			t.Fatalf("introspect = %d %v", status, body)
		}
		return body
	}

	t.Run("active access token", func(t *testing.T) {
		got := introspect(tok.AccessToken)
		if got["active"] != true || got["client_id"] != h.portal.ClientID {
			t.Errorf("got %v", got)
		}
		for _, k := range []string{"aud", "exp", "iat"} {
			if _, ok := got[k]; !ok {
				t.Errorf("missing %s", k)
			}
		}
	})
	t.Run("caller must authenticate", func(t *testing.T) {
		status, body, _ := postForm(t, h.issuer()+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, h.portal.ClientID, "wrong")
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("got %d %v", status, body)
		}
	})
	t.Run("revoking the refresh token kills the family", func(t *testing.T) {
		status, body, _ := postForm(t, h.issuer()+"/oauth2/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, h.portal.ClientID, h.portal.ClientSecret)
		if status != http.StatusOK || body != nil {
			t.Fatalf("revoke = %d %v, want 200 with no body", status, body)
		}
		if got := introspect(tok.RefreshToken); got["active"] != false {
			t.Errorf("refresh token still active: %v", got)
		}
		if got := introspect(tok.AccessToken); got["active"] != false {
			t.Errorf("access token still active: %v", got)
		}
		_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if code, _ := oauthErrorCode(t, err); code != "invalid_grant" {
			t.Errorf("refresh after revoke: %s", code)
		}
	})
}

func TestKeyRotationKeepsOldTokensVerifiable(t *testing.T) {
	h := startEmulator(t)
	ctx := t.Context()
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	verifier := h.accessVerifier(ctx)
	before := h.signIn(t, cfg, "olivia@example.org", oauth2.SetAuthURLParam("prompt", "login"))
	if _, err := verifier.Verify(ctx, before.AccessToken); err != nil {
		t.Fatal(err)
	}
	if err := h.emu.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	after := h.signIn(t, cfg, "olivia@example.org", oauth2.SetAuthURLParam("prompt", "login"))
	if headerOf(t, after.AccessToken)["kid"] == headerOf(t, before.AccessToken)["kid"] {
		t.Fatal("a token minted after rotation carries the old kid")
	}
	// The cached key set has not seen the new kid: go-oidc refetches it.
	if _, err := verifier.Verify(ctx, after.AccessToken); err != nil {
		t.Errorf("new token: %v", err)
	}
	if _, err := verifier.Verify(ctx, before.AccessToken); err != nil {
		t.Errorf("token signed before rotation: %v", err)
	}
}
