package emulator_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// portalCallback is a redirect URI registered for the seeded portal app.
// Nothing listens there: the test browser stops at it.
const portalCallback = "http://127.0.0.1:8080/auth/callback"

// harness is one in-process emulator with a relying party configured the way
// the portal would configure it.
type harness struct {
	emu    *emulator.Emulator
	server *httptest.Server
	clock  *emulator.FakeClock
	portal emulator.App
	m2m    emulator.App
}

type harnessOption func(*emulator.Options)

func withTimeScale(s float64) harnessOption {
	return func(o *emulator.Options) { o.TimeScale = s }
}

// startEmulator serves a fresh emulator on 127.0.0.1:0 with a fake clock
// that starts at the real time (so relying-party libraries that read the
// wall clock agree with it).
func startEmulator(tb testing.TB, opts ...harnessOption) *harness {
	tb.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	clock := emulator.NewFakeClock(time.Now().Truncate(time.Second))
	o := emulator.Options{Clock: clock}
	for _, opt := range opts {
		opt(&o)
	}
	emu, err := emulator.New(issuer, o)
	if err != nil {
		srv.Close()
		tb.Fatalf("emulator.New: %v", err)
	}
	srv.Config.Handler = emu.Handler()
	srv.Start()
	tb.Cleanup(func() {
		srv.Close()
		_ = emu.Close()
	})
	seed := emulator.DefaultSeed()
	portal, ok := seed.AppByName("Clubhouse Portal")
	if !ok {
		tb.Fatal("seed has no Clubhouse Portal app")
	}
	m2m, ok := seed.AppByName("Clubhouse Management")
	if !ok {
		tb.Fatal("seed has no Clubhouse Management app")
	}
	return &harness{emu: emu, server: srv, clock: clock, portal: portal, m2m: m2m}
}

func (h *harness) issuer() string { return h.emu.Issuer() }

// provider discovers the emulator with go-oidc, as the portal does.
func (h *harness) provider(tb testing.TB) *oidc.Provider {
	tb.Helper()
	p, err := oidc.NewProvider(tb.Context(), h.issuer())
	if err != nil {
		tb.Fatalf("oidc.NewProvider: %v", err)
	}
	return p
}

// oauthConfig is the portal's relying-party configuration.
func (h *harness) oauthConfig(p *oidc.Provider, scopes ...string) *oauth2.Config {
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email", "offline"}
	}
	return &oauth2.Config{
		ClientID:     h.portal.ClientID,
		ClientSecret: h.portal.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  portalCallback,
		Scopes:       scopes,
	}
}

// idVerifier verifies ID tokens against the emulator's clock.
func (h *harness) idVerifier(p *oidc.Provider) *oidc.IDTokenVerifier {
	return p.Verifier(&oidc.Config{ClientID: h.portal.ClientID, Now: h.clock.Now})
}

// accessVerifier verifies access tokens with a remote JWKS, as an API would.
func (h *harness) accessVerifier(ctx context.Context) *oidc.IDTokenVerifier {
	keys := oidc.NewRemoteKeySet(ctx, h.issuer()+"/.well-known/jwks")
	return oidc.NewVerifier(h.issuer(), keys, &oidc.Config{SkipClientIDCheck: true, Now: h.clock.Now})
}

// browser is a cookie-keeping HTTP client that follows the emulator's
// redirects but stops at the portal's callback, counting what it saw.
type browser struct {
	tb        testing.TB
	client    *http.Client
	callbacks string
	hops      int // redirects followed inside the emulator
	pages     int // HTML pages shown
}

func newBrowser(tb testing.TB) *browser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	b := &browser{tb: tb, callbacks: portalCallback}
	b.client = &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), b.callbacks) || strings.HasPrefix(req.URL.String(), "http://127.0.0.1:8080/") {
				return http.ErrUseLastResponse
			}
			b.hops++
			return nil
		},
	}
	return b
}

// outcome is where a sign-in step ended: at the callback (Callback set) or on
// a page (Page set).
type outcome struct {
	Status   int
	Callback *url.URL
	Page     *goquery.Document
	Body     string
}

func (o outcome) param(k string) string {
	if o.Callback == nil {
		return ""
	}
	return o.Callback.Query().Get(k)
}

func (b *browser) do(req *http.Request) outcome {
	b.tb.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.tb.Fatal(err)
	}
	out := outcome{Status: resp.StatusCode, Body: string(body)}
	if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusFound && loc != "" {
		u, err := url.Parse(loc)
		if err != nil {
			b.tb.Fatalf("bad Location %q: %v", loc, err)
		}
		out.Callback = u
		return out
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		b.pages++
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
		if err != nil {
			b.tb.Fatal(err)
		}
		out.Page = doc
	}
	return out
}

func (b *browser) get(rawURL string) outcome {
	b.tb.Helper()
	req, err := http.NewRequestWithContext(b.tb.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		b.tb.Fatal(err)
	}
	return b.do(req)
}

// submit posts the given form of the page, as a browser would when its
// button is pressed, after applying overrides to the fields.
func (b *browser) submit(base string, form *goquery.Selection, overrides map[string]string) outcome {
	b.tb.Helper()
	if form.Length() == 0 {
		b.tb.Fatal("form not found on page")
	}
	action, _ := form.Attr("action")
	vals := url.Values{}
	form.Find("input").Each(func(_ int, in *goquery.Selection) {
		name, ok := in.Attr("name")
		if !ok {
			return
		}
		v, _ := in.Attr("value")
		vals.Set(name, v)
	})
	for k, v := range overrides {
		vals.Set(k, v)
	}
	req, err := http.NewRequestWithContext(b.tb.Context(), http.MethodPost, base+action, strings.NewReader(vals.Encode()))
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// personForm finds the sign-in button form for a seeded person by email.
func personForm(tb testing.TB, page *goquery.Document, email string) *goquery.Selection {
	tb.Helper()
	if page == nil {
		tb.Fatal("expected the login page, got no page")
	}
	sel := page.Find(fmt.Sprintf(`button[data-testid="person"][data-email=%q]`, email)).Closest("form")
	if sel.Length() == 0 {
		tb.Fatalf("no sign-in button for %s on the login page", email)
	}
	return sel
}

// orgForm finds the org chooser's form for an org code.
func orgForm(tb testing.TB, page *goquery.Document, code string) *goquery.Selection {
	tb.Helper()
	if page == nil {
		tb.Fatal("expected the org chooser, got no page")
	}
	sel := page.Find(fmt.Sprintf(`button[data-testid="org"][data-org-code=%q]`, code)).Closest("form")
	if sel.Length() == 0 {
		tb.Fatalf("no chooser button for %s", code)
	}
	return sel
}

// signInAs runs an authorize request in the browser and, when the login
// page shows, signs in as email; it returns where that ended.
func (h *harness) signInAs(b *browser, authURL, email string) outcome {
	b.tb.Helper()
	out := b.get(authURL)
	if out.Page == nil {
		return out
	}
	return b.submit(h.issuer(), personForm(b.tb, out.Page, email), nil)
}

// codeFrom checks the outcome is a callback with a code and the state.
func codeFrom(tb testing.TB, out outcome, state string) string {
	tb.Helper()
	if out.Callback == nil {
		tb.Fatalf("expected a redirect to the callback, got status %d: %.300s", out.Status, out.Body)
	}
	if e := out.param("error"); e != "" {
		tb.Fatalf("callback error %s: %s", e, out.param("error_description"))
	}
	if got := out.param("state"); got != state {
		tb.Fatalf("state = %q, want %q", got, state)
	}
	code := out.param("code")
	if code == "" {
		tb.Fatal("callback has no code")
	}
	return code
}

// flow is one authorization-code + PKCE sign-in from the relying party's
// side.
type flow struct {
	state, nonce, verifier string
}

func newFlow() flow {
	return flow{state: "state-" + oauth2.GenerateVerifier()[:12], nonce: "nonce-" + oauth2.GenerateVerifier()[:12], verifier: oauth2.GenerateVerifier()}
}

func (f flow) authURL(cfg *oauth2.Config, extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce)}, extra...)
	return cfg.AuthCodeURL(f.state, opts...)
}

// claimsOf decodes a JWT's payload without verifying it (tests verify
// separately with go-oidc).
func claimsOf(tb testing.TB, jwt string) map[string]any {
	tb.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a compact JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// headerOf decodes a JWT's protected header.
func headerOf(tb testing.TB, jwt string) map[string]any {
	tb.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// oauthErrorCode extracts the RFC 6749 error code from x/oauth2's error.
func oauthErrorCode(tb testing.TB, err error) (code string, status int) {
	tb.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		tb.Fatalf("want *oauth2.RetrieveError, got %T: %v", err, err)
	}
	return re.ErrorCode, re.Response.StatusCode
}

// postForm posts a form to the emulator and decodes a JSON answer.
func postForm(tb testing.TB, rawURL string, form url.Values, basicUser, basicPass string) (int, map[string]any, http.Header) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			tb.Fatalf("decode %s: %v (%s)", rawURL, err, body)
		}
	}
	return resp.StatusCode, m, resp.Header
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// userByEmail finds a seeded person.
func (h *harness) userByEmail(tb testing.TB, email string) emulator.User {
	tb.Helper()
	u, ok := h.emu.World().UserByEmail(email)
	if !ok {
		tb.Fatalf("no person %s in the world", email)
	}
	return u
}

// orgsOf returns a person's org codes, in the world's order.
func (h *harness) orgsOf(tb testing.TB, email string) []emulator.Org {
	tb.Helper()
	return h.emu.World().OrgsOfUser(h.userByEmail(tb, email).ID)
}
