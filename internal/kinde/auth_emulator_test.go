package kinde

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/oauth2"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// portalRedirect is the callback the seeded portal application registers.
const portalRedirect = "http://localhost:8080/auth/callback"

// newEmulatorAuth returns an Auth for the emulator's seeded portal app.
func newEmulatorAuth(t testing.TB, e *emulator.Emulator, mod func(*AuthConfig)) *Auth {
	t.Helper()
	seed := e.SeedState()
	app, ok := seed.AppByName(emulator.SeedPortalApp)
	if !ok {
		t.Fatal("no portal app in the seed")
	}
	cfg := AuthConfig{
		Issuer: e.Issuer(), ClientID: app.ClientID, ClientSecret: app.ClientSecret,
		RedirectURL: portalRedirect, Audience: emulator.SeedAPIAudience,
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := NewAuth(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewAuth: %v", err)
	}
	return a
}

// browser is a person's browser: a cookie jar (the emulator's SSO session)
// and a client that stops at the portal's callback instead of following it.
type browser struct {
	t      testing.TB
	client *http.Client
}

func newBrowser(t testing.TB) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{
		Jar:     jar,
		Timeout: 5 * time.Second,
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if strings.HasPrefix(r.URL.String(), portalRedirect) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

// signInResult is where a sign-in ended: the callback's query, and how many
// pages the person was shown on the way.
type signInResult struct {
	callback url.Values
	pages    int
}

// authorize drives Kinde's (the emulator's) pages from authURL until the
// browser is sent to the portal's callback: on the sign-in page it picks
// the person with email, on the club chooser the club orgCode.
func (b *browser) authorize(authURL, email, orgCode string) signInResult {
	b.t.Helper()
	resp, err := b.client.Get(authURL)
	if err != nil {
		b.t.Fatalf("authorize: %v", err)
	}
	var res signInResult
	for range 5 {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && strings.HasPrefix(loc, portalRedirect) {
			u, err := url.Parse(loc)
			if err != nil {
				b.t.Fatal(err)
			}
			res.callback = u.Query()
			return res
		}
		if resp.StatusCode != http.StatusOK {
			b.t.Fatalf("authorize: status %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
		}
		res.pages++
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
		if err != nil {
			b.t.Fatal(err)
		}
		var form *goquery.Selection
		if btn := doc.Find(`button[data-testid="person"][data-email="` + email + `"]`); btn.Length() == 1 {
			form = btn.Closest("form")
		} else if btn := doc.Find(`button[data-testid="org"][data-org-code="` + orgCode + `"]`); btn.Length() == 1 {
			form = btn.Closest("form")
		} else {
			b.t.Fatalf("page at %s offers neither %s nor club %s:\n%s", resp.Request.URL, email, orgCode, body)
		}
		vals := url.Values{}
		form.Find("input[name]").Each(func(_ int, in *goquery.Selection) {
			vals.Add(in.AttrOr("name", ""), in.AttrOr("value", ""))
		})
		action, err := resp.Request.URL.Parse(form.AttrOr("action", ""))
		if err != nil {
			b.t.Fatal(err)
		}
		resp, err = b.client.PostForm(action.String(), vals)
		if err != nil {
			b.t.Fatalf("post %s: %v", action, err)
		}
	}
	b.t.Fatal("authorize: too many pages")
	return res
}

// session is one sign-in's secrets, as the portal keeps them.
type session struct {
	state, nonce, verifier string
}

func newSession() session {
	return session{state: randomString(), nonce: randomString(), verifier: oauth2.GenerateVerifier()}
}

func randomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signIn signs email in through the emulator's pages and returns what
// Exchange made of it.
func signIn(t testing.TB, a *Auth, b *browser, email, orgCode string, req club.SignInRequest) (club.Identity, club.Tokens) {
	t.Helper()
	s := newSession()
	res := b.authorize(a.AuthCodeURL(s.state, s.nonce, s.verifier, req), email, orgCode)
	if res.callback.Get("state") != s.state {
		t.Fatalf("callback state: got %q, want %q (%v)", res.callback.Get("state"), s.state, res.callback)
	}
	code := res.callback.Get("code")
	if code == "" {
		t.Fatalf("callback without code: %v", res.callback)
	}
	id, toks, err := a.Exchange(t.Context(), code, s.verifier, s.nonce)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return id, toks
}

func TestSignInWithEmulator(t *testing.T) {
	e := emulatortest.Start(t)
	a := newEmulatorAuth(t, e, nil)
	tests := []struct {
		name        string
		email       string
		org         string // the club to pick on the chooser, if shown
		req         club.SignInRequest
		wantClub    string
		wantRoles   []string
		wantPerm    string
		wantClubs   int
		wantPages   int
		wantNoClubs bool
	}{
		{name: "owner of one club", email: "olivia@example.org", wantClub: emulator.SeedRiversideOrgCode,
			wantRoles: []string{"owner"}, wantPerm: club.PermClubManage, wantClubs: 1, wantPages: 1},
		{name: "member of three clubs picks one", email: "mia@example.org", org: emulator.SeedHarbourOrgCode,
			wantClub: emulator.SeedHarbourOrgCode, wantRoles: []string{"member"}, wantClubs: 3, wantPages: 2},
		{name: "straight into a club with org_code", email: "carla@example.org",
			req:      club.SignInRequest{ClubCode: emulator.SeedHilltopOrgCode, LoginHint: "carla@example.org"},
			wantClub: emulator.SeedHilltopOrgCode, wantRoles: []string{"member"}, wantClubs: 2, wantPages: 1},
		{name: "no club", email: "nora@example.org", wantNoClubs: true, wantRoles: []string{}, wantPages: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			s := newSession()
			res := b.authorize(a.AuthCodeURL(s.state, s.nonce, s.verifier, tt.req), tt.email, tt.org)
			if res.pages != tt.wantPages {
				t.Errorf("pages shown: got %d, want %d", res.pages, tt.wantPages)
			}
			id, toks, err := a.Exchange(t.Context(), res.callback.Get("code"), s.verifier, s.nonce)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if id.Email != tt.email || !strings.HasPrefix(id.UserID, "kp_") || id.GivenName == "" {
				t.Errorf("profile: %+v", id)
			}
			if id.ClubCode != tt.wantClub {
				t.Errorf("club: got %q, want %q", id.ClubCode, tt.wantClub)
			}
			if !slices.Equal(id.Roles, tt.wantRoles) {
				t.Errorf("roles: got %v, want %v", id.Roles, tt.wantRoles)
			}
			if tt.wantPerm != "" && !id.Can(tt.wantPerm) {
				t.Errorf("permissions %v lack %s", id.Permissions, tt.wantPerm)
			}
			if tt.wantNoClubs {
				if len(id.Clubs) != 0 || id.ClubName != "" {
					t.Errorf("clubs: got %+v", id.Clubs)
				}
			} else {
				if len(id.Clubs) != tt.wantClubs {
					t.Errorf("clubs: got %+v, want %d", id.Clubs, tt.wantClubs)
				}
				for _, c := range id.Clubs {
					if c.Name == "" {
						t.Errorf("club %s has no name", c.Code)
					}
				}
				if id.ClubName == "" {
					t.Error("no club name")
				}
			}
			if toks.RefreshToken == "" || toks.Expiry.Before(time.Now()) {
				t.Errorf("tokens: refresh=%t expiry=%v", toks.RefreshToken != "", toks.Expiry)
			}
		})
	}
}

func TestSilentClubSwitch(t *testing.T) {
	e := emulatortest.Start(t)
	a := newEmulatorAuth(t, e, nil)
	b := newBrowser(t)
	first, _ := signIn(t, a, b, "mia@example.org", emulator.SeedRiversideOrgCode, club.SignInRequest{})
	// Switch with the Kinde session: no page at all.
	s := newSession()
	res := b.authorize(a.AuthCodeURL(s.state, s.nonce, s.verifier,
		club.SignInRequest{ClubCode: emulator.SeedHilltopOrgCode, Prompt: club.PromptNone}), "", "")
	if res.pages != 0 {
		t.Errorf("pages shown on a switch: got %d, want 0", res.pages)
	}
	id, _, err := a.Exchange(t.Context(), res.callback.Get("code"), s.verifier, s.nonce)
	if err != nil {
		t.Fatal(err)
	}
	if id.ClubCode != emulator.SeedHilltopOrgCode || id.UserID != first.UserID {
		t.Errorf("after switch: club %s user %s", id.ClubCode, id.UserID)
	}
	// Without a session, prompt=none comes back with login_required.
	s = newSession()
	res = newBrowser(t).authorize(a.AuthCodeURL(s.state, s.nonce, s.verifier,
		club.SignInRequest{ClubCode: emulator.SeedHilltopOrgCode, Prompt: club.PromptNone}), "", "")
	if got := res.callback.Get("error"); got != "login_required" {
		t.Errorf("no session: got error %q, want login_required", got)
	}
}

func TestRefreshWithEmulator(t *testing.T) {
	riverside := emulator.SeedRiversideOrgCode
	tests := []struct {
		name string
		// change happens in Kinde between sign-in and refresh.
		change    func(t *testing.T, e *emulator.Emulator, adm *Admin, userID string)
		wantErr   error
		wantRoles []string
		wantPerm  string // a permission that must be gone
	}{
		{
			name: "demoted admin gets the new roles",
			change: func(t *testing.T, e *emulator.Emulator, adm *Admin, userID string) {
				ctx := t.Context()
				if err := adm.GrantRoles(ctx, riverside, userID, []string{club.RoleMember}); err != nil {
					t.Fatal(err)
				}
				if err := adm.RevokeRole(ctx, riverside, userID, club.RoleAdmin); err != nil {
					t.Fatal(err)
				}
				if err := adm.RefreshClaims(ctx, userID); err != nil {
					t.Fatal(err)
				}
			},
			wantRoles: []string{"member"},
			wantPerm:  club.PermMembersWrite,
		},
		{
			name: "removed member's session ends",
			change: func(t *testing.T, e *emulator.Emulator, adm *Admin, userID string) {
				if err := adm.RemoveMember(t.Context(), riverside, userID); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: club.ErrSessionEnded,
		},
		{
			name: "signing keys rotated: the new kid is fetched",
			change: func(t *testing.T, e *emulator.Emulator, adm *Admin, userID string) {
				if err := e.RotateKeys(); err != nil {
					t.Fatal(err)
				}
			},
			wantRoles: []string{"admin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := emulatortest.Start(t)
			a := newEmulatorAuth(t, e, nil)
			adm, _ := newEmulatorAdmin(t, e, nil)
			id, toks := signIn(t, a, newBrowser(t), "adam@example.org", "", club.SignInRequest{})
			if !slices.Equal(id.Roles, []string{"admin"}) || !id.Can(club.PermMembersWrite) {
				t.Fatalf("before: roles %v permissions %v", id.Roles, id.Permissions)
			}
			jwks := e.RequestCount("jwks")
			tt.change(t, e, adm, id.UserID)
			got, newToks, err := a.Refresh(t.Context(), toks)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Refresh: got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if !slices.Equal(got.Roles, tt.wantRoles) {
				t.Errorf("roles after refresh: got %v, want %v", got.Roles, tt.wantRoles)
			}
			if tt.wantPerm != "" && got.Can(tt.wantPerm) {
				t.Errorf("still has %s: %v", tt.wantPerm, got.Permissions)
			}
			if got.ClubCode != riverside {
				t.Errorf("club after refresh: %s", got.ClubCode)
			}
			if newToks.RefreshToken == "" || newToks.RefreshToken == toks.RefreshToken {
				t.Error("refresh token was not rotated")
			}
			if strings.Contains(tt.name, "rotated") && e.RequestCount("jwks") <= jwks {
				t.Error("the JWKS was not fetched again for the new kid")
			}
		})
	}
}

// rewriteTokens is a transport that lets a test change the token
// endpoint's answer before Auth sees it.
type rewriteTokens struct {
	base http.RoundTripper
	edit func(m map[string]any)
}

func (rt rewriteTokens) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(r)
	if err != nil || r.URL.Path != "/oauth2/token" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return nil, err
	}
	rt.edit(m)
	b, _ := json.Marshal(m)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestExchangeRefusesWithEmulator(t *testing.T) {
	e := emulatortest.Start(t)
	good := newEmulatorAuth(t, e, nil)
	tamperAccess := func(m map[string]any) { m["access_token"] = tamperPayload(m["access_token"].(string)) }
	tamperID := func(m map[string]any) { m["id_token"] = tamperPayload(m["id_token"].(string)) }
	tests := []struct {
		name     string
		exchange *Auth
		nonce    func(s session) string
	}{
		{name: "tampered access token", exchange: newEmulatorAuth(t, e, func(c *AuthConfig) {
			c.HTTPClient = &http.Client{Transport: rewriteTokens{http.DefaultTransport, tamperAccess}}
		})},
		{name: "tampered id token", exchange: newEmulatorAuth(t, e, func(c *AuthConfig) {
			c.HTTPClient = &http.Client{Transport: rewriteTokens{http.DefaultTransport, tamperID}}
		})},
		{name: "wrong audience", exchange: newEmulatorAuth(t, e, func(c *AuthConfig) { c.Audience = "https://other.example/api" })},
		{name: "nonce mismatch", exchange: good, nonce: func(session) string { return "another-nonce" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession()
			res := newBrowser(t).authorize(good.AuthCodeURL(s.state, s.nonce, s.verifier, club.SignInRequest{}), "olivia@example.org", "")
			nonce := s.nonce
			if tt.nonce != nil {
				nonce = tt.nonce(s)
			}
			_, _, err := tt.exchange.Exchange(t.Context(), res.callback.Get("code"), s.verifier, nonce)
			if err == nil {
				t.Fatal("Exchange: got no error")
			}
			if club.ErrorCode(err) != club.EINTERNAL || strings.Contains(err.Error(), "eyJ") {
				t.Errorf("error: %v", err)
			}
		})
	}
	t.Run("a code is single-use", func(t *testing.T) {
		s := newSession()
		res := newBrowser(t).authorize(good.AuthCodeURL(s.state, s.nonce, s.verifier, club.SignInRequest{}), "olivia@example.org", "")
		code := res.callback.Get("code")
		if _, _, err := good.Exchange(t.Context(), code, s.verifier, s.nonce); err != nil {
			t.Fatal(err)
		}
		_, _, err := good.Exchange(t.Context(), code, s.verifier, s.nonce)
		if club.ErrorCode(err) != club.EUNAUTHENTICATED {
			t.Errorf("reused code: got %v, want EUNAUTHENTICATED", err)
		}
	})
	t.Run("token endpoint down is unavailable", func(t *testing.T) {
		s := newSession()
		res := newBrowser(t).authorize(good.AuthCodeURL(s.state, s.nonce, s.verifier, club.SignInRequest{}), "olivia@example.org", "")
		e.Faults().Add(emulator.FaultRule{Operation: "oauth2.token", Status: 503, Times: 1})
		_, _, err := good.Exchange(t.Context(), res.callback.Get("code"), s.verifier, s.nonce)
		if !errors.Is(err, club.ErrUnavailable) {
			t.Errorf("got %v, want unavailable", err)
		}
	})
}

// tamperPayload changes a JWT's payload and keeps its signature.
func tamperPayload(jwt string) string {
	parts := strings.Split(jwt, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	_ = json.Unmarshal(payload, &m)
	m["exp"] = time.Now().Add(365 * 24 * time.Hour).Unix()
	payload, _ = json.Marshal(m)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}
