package emulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/oauth2"
)

func TestLoginPage(t *testing.T) {
	h := startEmulator(t)
	p := h.provider(t)
	cfg := h.oauthConfig(p)

	t.Run("lists people with clubs and labels its fields", func(t *testing.T) {
		out := newBrowser(t).get(newFlow().authURL(cfg))
		if out.Status != http.StatusOK || out.Page == nil {
			t.Fatalf("got %d", out.Status)
		}
		if n := out.Page.Find(`button[data-testid="person"]`).Length(); n != len(h.emu.World().People()) {
			t.Errorf("%d people buttons, want %d", n, len(h.emu.World().People()))
		}
		out.Page.Find("input:not([type=hidden])").Each(func(_ int, in *goquery.Selection) {
			id, _ := in.Attr("id")
			if id == "" || out.Page.Find(`label[for="`+id+`"]`).Length() != 1 {
				t.Errorf("input %v has no label", in.AttrOr("name", "?"))
			}
		})
		if lang, _ := out.Page.Find("html").Attr("lang"); lang != "en" {
			t.Error("page has no lang")
		}
	})
	t.Run("login_hint pre-fills and highlights", func(t *testing.T) {
		out := newBrowser(t).get(newFlow().authURL(cfg, oauth2.SetAuthURLParam("login_hint", "adam@example.org")))
		if v, _ := out.Page.Find(`input[name="email"]`).Attr("value"); v != "adam@example.org" {
			t.Errorf("email field = %q", v)
		}
		hinted := out.Page.Find("li.hinted button[data-testid=person]")
		if hinted.Length() != 1 || hinted.AttrOr("data-email", "") != "adam@example.org" {
			t.Errorf("hinted person = %q", hinted.AttrOr("data-email", ""))
		}
	})
	t.Run("sign in by typing an email", func(t *testing.T) {
		b := newBrowser(t)
		f := newFlow()
		out := b.get(f.authURL(cfg))
		out = b.submit(h.issuer(), out.Page.Find(`form[data-testid="email-form"]`), map[string]string{"email": "OLIVIA@example.org"})
		codeFrom(t, out, f.state)
	})
	t.Run("unknown email offers to create an account", func(t *testing.T) {
		b := newBrowser(t)
		f := newFlow()
		out := b.get(f.authURL(cfg))
		out = b.submit(h.issuer(), out.Page.Find(`form[data-testid="email-form"]`), map[string]string{"email": "new.person@example.org"})
		if out.Page == nil || out.Page.Find(`[data-testid="offer-create"]`).Length() != 1 {
			t.Fatalf("want the offer to create an account, got %d", out.Status)
		}
		out = b.submit(h.issuer(), out.Page.Find(`form[data-testid="offer-create"]`), nil)
		signup := out.Page.Find(`form[data-testid="signup-form"]`)
		if v, _ := signup.Find(`input[name="email"]`).Attr("value"); v != "new.person@example.org" {
			t.Errorf("sign-up email = %q", v)
		}
		out = b.submit(h.issuer(), signup, map[string]string{"first_name": "New", "last_name": "Person"})
		codeFrom(t, out, f.state)
		if _, ok := h.emu.World().UserByEmail("new.person@example.org"); !ok {
			t.Error("the new person was not created")
		}
	})
	t.Run("authorize by form POST", func(t *testing.T) {
		f := newFlow()
		u, _ := url.Parse(f.authURL(cfg))
		b := newBrowser(t)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.issuer()+"/oauth2/auth", strings.NewReader(u.RawQuery))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		out := b.do(req)
		out = b.submit(h.issuer(), personForm(t, out.Page, "olivia@example.org"), nil)
		codeFrom(t, out, f.state)
	})
	t.Run("expired sign-in request", func(t *testing.T) {
		b := newBrowser(t)
		out := b.get(newFlow().authURL(cfg))
		form := personForm(t, out.Page, "olivia@example.org")
		out = b.submit(h.issuer(), form, map[string]string{"auth_request": "forged"})
		if out.Status != http.StatusBadRequest {
			t.Errorf("forged request id: %d, want 400", out.Status)
		}
	})
	t.Run("cross-site post is refused", func(t *testing.T) {
		out := newBrowser(t).get(newFlow().authURL(cfg))
		id, _ := out.Page.Find(`input[name="auth_request"]`).First().Attr("value")
		form := url.Values{"auth_request": {id}, "action": {"email"}, "email": {"olivia@example.org"}}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.issuer()+"/auth/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST = %d, want 403", resp.StatusCode)
		}
	})
}

func TestSignUpWithPromptCreate(t *testing.T) {
	h := startEmulator(t)
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	b := newBrowser(t)
	f := newFlow()
	out := b.get(f.authURL(cfg, oauth2.SetAuthURLParam("prompt", "create")))
	signup := out.Page.Find(`form[data-testid="signup-form"]`)
	if signup.Length() != 1 {
		t.Fatal("prompt=create should show the sign-up form")
	}
	tests := []struct {
		name   string
		fields map[string]string
		want   string
	}{
		{"missing names", map[string]string{"email": "ana@example.org"}, "Enter a first name."},
		{"bad email", map[string]string{"email": "ana", "first_name": "Ana", "last_name": "Silva"}, "Enter a valid email address, like name@example.org."},
		{"email in use", map[string]string{"email": "olivia@example.org", "first_name": "O", "last_name": "H"}, "An account with this email already exists. Sign in with it instead."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := b.submit(h.issuer(), signup, tt.fields)
			if msg := strings.TrimSpace(got.Page.Find(`[data-testid="form-message"]`).Text()); msg != tt.want {
				t.Errorf("message = %q, want %q", msg, tt.want)
			}
		})
	}
	out = b.submit(h.issuer(), signup, map[string]string{"email": "ana@example.org", "first_name": "Ana", "last_name": "Silva"})
	tok, err := cfg.Exchange(t.Context(), codeFrom(t, out, f.state), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	id := claimsOf(t, tok.Extra("id_token").(string))
	if id["email"] != "ana@example.org" || id["given_name"] != "Ana" || id["family_name"] != "Silva" {
		t.Errorf("ID token = %v", id)
	}
	if _, ok := claimsOf(t, tok.AccessToken)["org_code"]; ok {
		t.Error("a person in no org must get no org_code")
	}
}

func TestCreateOrgAtSignIn(t *testing.T) {
	h := startEmulator(t)
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	b := newBrowser(t)
	// Nora is in no club; with an SSO session she creates one.
	h.signInAs(b, newFlow().authURL(cfg), "nora@example.org")
	f := newFlow()
	out := b.get(f.authURL(cfg, oauth2.SetAuthURLParam("is_create_org", "true"), oauth2.SetAuthURLParam("org_name", "Lakeside Canoe Club")))
	tok, err := cfg.Exchange(t.Context(), codeFrom(t, out, f.state), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	ac := claimsOf(t, tok.AccessToken)
	if ac["org_name"] != "Lakeside Canoe Club" {
		t.Fatalf("org_name = %v", ac["org_name"])
	}
	if got := roleKeys(t, tok.AccessToken); len(got) != 1 || got[0] != "owner" {
		t.Errorf("creator's roles = %v, want [owner]", got)
	}
	code, _ := ac["org_code"].(string)
	if org, ok := h.emu.World().OrgByCode(code); !ok || org.Name != "Lakeside Canoe Club" {
		t.Errorf("org %s not in the world", code)
	}

	t.Run("org_name is required", func(t *testing.T) {
		out := b.get(newFlow().authURL(cfg, oauth2.SetAuthURLParam("is_create_org", "true")))
		if got := out.param("error"); got != "invalid_request" {
			t.Errorf("error = %q", got)
		}
	})
}
