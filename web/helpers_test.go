package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/static"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	riverside = "org_riverside01"
	hilltop   = "org_hilltop0001"
)

var (
	riversideClub = club.Club{Code: riverside, Name: "Riverside Rowing Club"}
	hilltopClub   = club.Club{Code: hilltop, Name: "Hilltop Tennis Club"}
)

// Identities as the verified tokens would give them.
var (
	olivia = club.Identity{UserID: "kp_olivia", Email: "olivia@example.org", GivenName: "Olivia", FamilyName: "Hart",
		ClubCode: riverside, ClubName: riversideClub.Name, Roles: []string{club.RoleOwner},
		Permissions: []string{club.PermClubManage, club.PermMembersRead, club.PermMembersWrite},
		Clubs:       []club.Club{riversideClub}}
	adam = club.Identity{UserID: "kp_adam", Email: "adam@example.org", GivenName: "Adam", FamilyName: "Brooks",
		ClubCode: riverside, ClubName: riversideClub.Name, Roles: []string{club.RoleAdmin},
		Permissions: []string{club.PermMembersRead, club.PermMembersWrite}, Clubs: []club.Club{riversideClub}}
	mia = club.Identity{UserID: "kp_mia", Email: "mia@example.org", GivenName: "Mia", FamilyName: "Chen",
		ClubCode: riverside, ClubName: riversideClub.Name, Roles: []string{club.RoleMember},
		Clubs: []club.Club{riversideClub, hilltopClub}}
	nora = club.Identity{UserID: "kp_nora", Email: "nora@example.org", GivenName: "Nora", FamilyName: "Quinn"}
)

// env is a portal over fakes, with a clock the test moves.
type env struct {
	t       testing.TB
	s       *Server
	h       http.Handler
	dir     *memDirectory
	kinde   *fakeIdentities
	auth    *fakeAuth
	fresh   *fakeFresh
	records *memRecords
	audit   *memAudit
	mailbox *memMailbox
	logs    *syncBuffer
	deps    Deps // what the server was built from

	mu  sync.Mutex
	now time.Time
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type envOption func(*Deps)

func withPublicURL(u string) envOption { return func(d *Deps) { d.PublicURL = u } }

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, dir: newMemDirectory(), kinde: &fakeIdentities{}, auth: &fakeAuth{}, fresh: &fakeFresh{synced: t0.Add(-time.Hour)},
		records: newMemRecords(), audit: &memAudit{}, mailbox: &memMailbox{}, logs: &syncBuffer{}, now: t0}
	assets, err := static.New()
	if err != nil {
		t.Fatalf("static.New: %v", err)
	}
	for _, m := range []club.Member{
		{ClubCode: riverside, UserID: "kp_olivia", Email: "olivia@example.org", FirstName: "Olivia", LastName: "Hart", Roles: []string{club.RoleOwner}, JoinedAt: t0.Add(-90 * 24 * time.Hour)},
		{ClubCode: riverside, UserID: "kp_adam", Email: "adam@example.org", FirstName: "Adam", LastName: "Brooks", Roles: []string{club.RoleAdmin}, JoinedAt: t0.Add(-60 * 24 * time.Hour)},
		{ClubCode: riverside, UserID: "kp_mia", Email: "mia@example.org", FirstName: "Mia", LastName: "Chen", Roles: []string{club.RoleMember}, JoinedAt: t0.Add(-30 * 24 * time.Hour)},
		{ClubCode: hilltop, UserID: "kp_tom", Email: "tom@example.org", FirstName: "Tom", LastName: "Evans", Roles: []string{club.RoleOwner}, JoinedAt: t0.Add(-30 * 24 * time.Hour)},
	} {
		e.dir.add(m)
	}
	d := Deps{
		Logger:      slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PublicURL:   "http://portal.test",
		KindeIssuer: "https://kinde.test",
		Service:     club.NewService(e.dir, e.kinde, e.clock, nil),
		Directory:   e.dir,
		AuditLog:    e.audit,
		Invitations: e.dir,
		DevMailbox:  e.mailbox,
		Auth:        e.auth,
		Roles:       &fakeRoles{},
		Freshness:   e.fresh,
		Sessions:    e.records,
		Assets:      assets,
		Now:         e.clock,
		Ready:       nil,
	}
	for _, o := range opts {
		o(&d)
	}
	s, err := newServer(d)
	if err != nil {
		t.Fatal(err)
	}
	e.s, e.deps = s, d
	e.h = e.s.handler()
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// browser keeps cookies between requests like a browser would.
type browser struct {
	e       *env
	cookies map[string]*http.Cookie
	// Host and headers sent with every request (none by default).
	header http.Header
}

func (e *env) browser() *browser {
	return &browser{e: e, cookies: map[string]*http.Cookie{}, header: http.Header{}}
}

// do sends one request through the portal and returns its response.
// form, when non-nil, is sent as the body.
func (b *browser) do(method, target string, form url.Values, header ...string) *http.Response {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequestWithContext(b.e.t.Context(), method, "http://portal.test"+target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return b.send(r, header...)
}

// send sends r through the portal as this browser would: with its
// headers, then the name-value pairs of header, and its cookies; it keeps
// the cookies the response sets.
func (b *browser) send(r *http.Request, header ...string) *http.Response {
	b.e.t.Helper()
	for k, v := range b.header {
		r.Header[k] = v
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.e.h.ServeHTTP(w, r)
	res := w.Result()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c
	}
	return res
}

func (b *browser) get(target string, header ...string) *http.Response {
	b.e.t.Helper()
	return b.do(http.MethodGet, target, nil, header...)
}

func (b *browser) post(target string, form url.Values, header ...string) *http.Response {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return b.do(http.MethodPost, target, form, header...)
}

func (b *browser) sessionCookie() *http.Cookie { return b.cookies["clubhouse_session"] }

// signIn goes through /auth/login and /auth/callback with Kinde faked to
// answer id, and returns the browser's session cookie afterwards.
func (b *browser) signIn(id club.Identity) *http.Cookie {
	b.e.t.Helper()
	b.e.auth.Exchange_ = func(code, verifier, nonce string) (club.Identity, club.Tokens, error) {
		return id, club.Tokens{AccessToken: "at-" + id.UserID, RefreshToken: "rt-" + id.UserID, IDToken: "id", Expiry: b.e.clock().Add(24 * time.Hour)}, nil
	}
	res := b.get("/auth/login")
	state := kindeParam(b.e.t, res, "state")
	res = b.get("/auth/callback?code=abc&state=" + url.QueryEscape(state))
	if res.StatusCode != http.StatusSeeOther {
		b.e.t.Fatalf("callback status = %d, want 303", res.StatusCode)
	}
	return b.sessionCookie()
}

// kindeParam reads a parameter of the Kinde authorize URL a response
// redirects to.
func kindeParam(t testing.TB, res *http.Response, name string) string {
	t.Helper()
	loc := res.Header.Get("Location")
	if loc == "" {
		loc = res.Header.Get(HXRedirect)
	}
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, "https://kinde.test/oauth2/auth") {
		t.Fatalf("redirect = %q (status %d), want Kinde's authorize URL", loc, res.StatusCode)
	}
	return u.Query().Get(name)
}

// doc parses a response body as HTML.
func doc(t testing.TB, res *http.Response) *goquery.Document {
	t.Helper()
	defer res.Body.Close()
	d, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return d
}

func body(t testing.TB, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testid(d *goquery.Document, id string) *goquery.Selection {
	return d.Find(`[data-testid="` + id + `"]`)
}

// flashes returns the texts of the flashes on the next full page.
func (b *browser) flashTexts(target string) []string {
	b.e.t.Helper()
	d := doc(b.e.t, b.get(target))
	var out []string
	testid(d, "flash").Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

func mustAssets(t testing.TB) *static.Assets {
	t.Helper()
	a, err := static.New()
	if err != nil {
		t.Fatalf("static.New: %v", err)
	}
	return a
}
