package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
	"github.com/clubhouse/clubhouse/internal/store"
	"github.com/clubhouse/clubhouse/static"
	"github.com/clubhouse/clubhouse/web"
	"github.com/prometheus/client_golang/prometheus"
	// The store names the driver; registering it here keeps this test
	// independent of which package imports it.
)

// portal is the real portal (real Kinde adapter, real SQLite store) in
// front of the in-process Kinde emulator.
type portal struct {
	url string
	emu *emulator.Emulator
	db  *store.DB
}

func startPortal(t *testing.T) *portal {
	t.Helper()
	ctx := t.Context()
	logger := slog.New(slog.DiscardHandler)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	emu := emulatortest.Start(t, emulatortest.WithSeed(func(s *emulator.Seed) {
		for i := range s.Apps {
			if s.Apps[i].Name == emulator.SeedPortalApp {
				s.Apps[i].RedirectURIs = append(s.Apps[i].RedirectURIs, base+"/auth/callback")
				s.Apps[i].LogoutURIs = append(s.Apps[i].LogoutURIs, base+"/")
			}
		}
	}))
	appID, appSecret := emulatortest.App(t, emu, emulator.SeedPortalApp)
	auth, err := kinde.NewAuth(ctx, kinde.AuthConfig{
		Issuer: emu.Issuer(), ClientID: appID, ClientSecret: appSecret,
		RedirectURL: base + "/auth/callback", Audience: emulator.SeedAPIAudience,
	})
	if err != nil {
		t.Fatalf("kinde.NewAuth: %v", err)
	}
	m2mID, m2mSecret := emulatortest.M2M(t, emu)
	admin, err := kinde.NewAdmin(kinde.AdminConfig{Issuer: emu.Issuer(), ClientID: m2mID, ClientSecret: m2mSecret, Logger: logger})
	if err != nil {
		t.Fatalf("kinde.NewAdmin: %v", err)
	}
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "clubhouse.db"), logger)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	h, err := web.NewServer(web.Deps{
		Logger: logger, PublicURL: base, KindeIssuer: emu.Issuer(),
		Service: club.NewService(db, admin, nil, logger), Directory: db, AuditLog: db, Invitations: db, DevMailbox: db,
		Auth: auth, Roles: admin, Freshness: db, Sessions: db, Assets: assets,
		Registerer: reg, Ready: db.Ping,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &portal{url: base, emu: emu, db: db}
}

// person is someone's browser: cookies for the portal and for Kinde.
type person struct {
	t      *testing.T
	p      *portal
	client *http.Client
}

func (p *portal) person(t *testing.T) *person {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &person{t: t, p: p, client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// signIn starts at the portal's sign-in and picks email on Kinde's page.
func (b *person) signIn(email string) *http.Response {
	b.t.Helper()
	res, err := b.client.Get(b.p.url + "/auth/login")
	if err != nil {
		b.t.Fatal(err)
	}
	d := b.page(res)
	btn := d.Find(`button[data-testid="person"][data-email="` + email + `"]`)
	if btn.Length() != 1 {
		b.t.Fatalf("Kinde's sign-in page does not offer %s", email)
	}
	form := btn.Closest("form")
	action, err := res.Request.URL.Parse(form.AttrOr("action", ""))
	if err != nil {
		b.t.Fatal(err)
	}
	res, err = b.client.PostForm(action.String(), formValues(form))
	if err != nil {
		b.t.Fatal(err)
	}
	return res
}

// formValues is what submitting form sends: its named inputs' values.
func formValues(form *goquery.Selection) url.Values {
	vals := url.Values{}
	form.Find("input[name]").Each(func(_ int, in *goquery.Selection) { vals.Add(in.AttrOr("name", ""), in.AttrOr("value", "")) })
	return vals
}

func (b *person) page(res *http.Response) *goquery.Document {
	b.t.Helper()
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatal(err)
	}
	return d
}

func (b *person) get(path string) *http.Response {
	b.t.Helper()
	res, err := b.client.Get(b.p.url + path)
	if err != nil {
		b.t.Fatal(err)
	}
	return res
}

func (b *person) post(path string, form url.Values) *http.Response {
	b.t.Helper()
	res, err := b.client.PostForm(b.p.url+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	return res
}

// members returns the members page's rows: email → role keys, and email →
// member id.
func (b *person) members() (map[string][]string, map[string]string) {
	b.t.Helper()
	res := b.get("/members")
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("/members = %d", res.StatusCode)
	}
	roles, ids := map[string][]string{}, map[string]string{}
	b.page(res).Find(`[data-testid="member-row"]`).Each(func(_ int, row *goquery.Selection) {
		email := row.AttrOr("data-email", "")
		roles[email] = []string{}
		row.Find(`[data-testid="role-badge"]`).Each(func(_ int, s *goquery.Selection) {
			roles[email] = append(roles[email], s.AttrOr("data-role", ""))
		})
		href := row.Find(`[data-testid="edit-roles-link"]`).AttrOr("href", "")
		ids[email] = strings.TrimSuffix(strings.TrimPrefix(href, "/members/"), "/roles")
	})
	return roles, ids
}

func TestPortalWithEmulator(t *testing.T) {
	p := startPortal(t)
	owner := p.person(t)
	res := owner.signIn("olivia@example.org")
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/members" {
		t.Fatalf("after sign-in: %d at %s, want the members page", res.StatusCode, res.Request.URL)
	}
	res.Body.Close()
	// The directory starts empty; Refresh from Kinde fills it.
	if res := owner.post("/members/refresh", url.Values{}); res.StatusCode != http.StatusOK {
		t.Fatalf("refresh = %d", res.StatusCode)
	}
	roles, _ := owner.members()
	for _, email := range []string{"olivia@example.org", "adam@example.org", "mia@example.org"} {
		if _, ok := roles[email]; !ok {
			t.Errorf("%s is not listed after the refresh", email)
		}
	}

	// Add someone Kinde knows from another club, and someone new.
	for _, tt := range []struct {
		email, role string
	}{{"tom@example.org", club.RoleCoach}, {"newbie@example.org", club.RoleMember}} {
		res := owner.post("/members", url.Values{"email": {tt.email}, "first_name": {"Test"}, "last_name": {"Person"}, "roles": {tt.role}})
		d := owner.page(res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("add %s = %d", tt.email, res.StatusCode)
		}
		if got := strings.TrimSpace(d.Find(`[data-testid="flash"]`).Text()); got != "Added "+tt.email+" to Riverside Rowing Club" {
			t.Errorf("flash = %q", got)
		}
	}
	roles, ids := owner.members()
	if got := roles["tom@example.org"]; !slices.Equal(got, []string{club.RoleCoach}) {
		t.Errorf("tom's roles = %v, want [coach]", got)
	}
	if got := roles["newbie@example.org"]; !slices.Equal(got, []string{club.RoleMember}) {
		t.Errorf("newbie's roles = %v, want [member]", got)
	}
	if _, ok := p.emu.World().UserByEmail("newbie@example.org"); !ok {
		t.Error("the new person was not created in Kinde")
	}

	// An admin loses the admin pages on their next click after a demotion,
	// without signing out.
	admin := p.person(t)
	res = admin.signIn("adam@example.org")
	res.Body.Close()
	if res := admin.get("/members"); res.StatusCode != http.StatusOK {
		t.Fatalf("admin /members = %d, want 200", res.StatusCode)
	}
	res = owner.post("/members/"+ids["adam@example.org"]+"/roles", url.Values{"roles": {club.RoleMember}})
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("demote = %d", res.StatusCode)
	}
	res = admin.get("/members")
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("demoted admin /members = %d (at %s), want 403", res.StatusCode, res.Request.URL.Path)
	}
	res = admin.get("/club")
	d := admin.page(res)
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/club" {
		t.Errorf("demoted admin /club = %d at %s, want 200 and still signed in", res.StatusCode, res.Request.URL.Path)
	}
	var badges []string
	d.Find(`[data-testid="role-badge"]`).Each(func(_ int, s *goquery.Selection) { badges = append(badges, s.AttrOr("data-role", "")) })
	if !slices.Equal(badges, []string{club.RoleMember}) {
		t.Errorf("demoted admin's roles on /club = %v, want [member]", badges)
	}
}

// An invitation the mail worker gave up on shows on the members page and
// the invitations page, and "Send again" from there queues a new one:
// through the real store and the real Kinde adapter.
func TestInvitationGivenUpIsSentAgain(t *testing.T) {
	p := startPortal(t)
	owner := p.person(t)
	owner.signIn("olivia@example.org").Body.Close()
	res := owner.post("/members", url.Values{"email": {"newbie@example.org"}, "first_name": {"New"}, "last_name": {"Bie"}, "roles": {club.RoleMember}})
	res.Body.Close()

	// The invitation's job tries and gives up.
	items, err := p.db.DueInvitations(t.Context(), time.Now().Add(time.Minute), 0, 10)
	if err != nil || len(items) != 1 || items[0].Invitation.Email != "newbie@example.org" {
		t.Fatalf("due %+v, %v; want newbie's invitation", items, err)
	}
	if ok, err := p.db.MarkFailed(t.Context(), items[0].ID, 1, "the mail server refused the address",
		club.AuditEvent{ClubCode: items[0].Invitation.ClubCode, Action: club.ActionInvitationFailed, TargetEmail: "newbie@example.org"}); err != nil || !ok {
		t.Fatalf("mark failed = %v, %v", ok, err)
	}

	d := owner.page(owner.get("/members"))
	if notice := d.Find(`[data-testid="failed-invitations"]`); !strings.Contains(notice.Text(), "1 member's invitation could not be sent") {
		t.Errorf("members page notice = %q, want one failed invitation", notice.Text())
	}
	d = owner.page(owner.get("/invitations"))
	row := d.Find(`[data-testid="invitation-row"][data-email="newbie@example.org"]`)
	if row.AttrOr("data-status", "") != "failed" || !strings.Contains(row.Text(), "the mail server refused the address") {
		t.Fatalf("invitations row = %q, want newbie's given-up invitation and why", strings.Join(strings.Fields(row.Text()), " "))
	}
	form := row.Find("form")
	res = owner.post(form.AttrOr("action", ""), formValues(form))
	d = owner.page(res)
	if res.Request.URL.Path != "/invitations" {
		t.Fatalf("after Send again: at %s, want /invitations", res.Request.URL.Path)
	}
	if got := strings.TrimSpace(d.Find(`[data-testid="flash"]`).Text()); got != "A new invitation to newbie@example.org is on its way." {
		t.Errorf("flash = %q", got)
	}
	var states []string
	d.Find(`[data-testid="invitation-row"]`).Each(func(_ int, s *goquery.Selection) { states = append(states, s.AttrOr("data-status", "")) })
	if !slices.Equal(states, []string{"sending", "failed"}) {
		t.Errorf("invitations = %v, want the new one sending above the failed one", states)
	}
	if owner.page(owner.get("/members")).Find(`[data-testid="failed-invitations"]`).Length() != 0 {
		t.Error("the members page still points at the failed invitation after it was sent again")
	}
}

// An owner renames the club: Kinde has the new name, and the owner's very
// next page shows it in the header (their token is refreshed, not reused).
func TestRenameClubWithEmulator(t *testing.T) {
	p := startPortal(t)
	owner := p.person(t)
	owner.signIn("olivia@example.org").Body.Close()
	res := owner.post("/settings", url.Values{"name": {"Riverside Rowing & Sculling"}})
	d := owner.page(res)
	if res.Request.URL.Path != "/settings" {
		t.Fatalf("after rename: at %s (status %d), want /settings", res.Request.URL.Path, res.StatusCode)
	}
	if got := strings.TrimSpace(d.Find(`[data-testid="flash"]`).Text()); got != "The club is now called Riverside Rowing & Sculling." {
		t.Errorf("flash = %q", got)
	}
	if org, _ := p.emu.World().OrgByCode(emulator.SeedRiversideOrgCode); org.Name != "Riverside Rowing & Sculling" {
		t.Errorf("Kinde's name = %q", org.Name)
	}
	if got := strings.TrimSpace(d.Find(`[data-testid="club-switcher"]`).First().Text()); !strings.Contains(got, "Riverside Rowing & Sculling") {
		t.Errorf("header shows %q, want the new name", got)
	}
	if got := d.Find(`#club-name`).AttrOr("value", ""); got != "Riverside Rowing & Sculling" {
		t.Errorf("settings form shows %q, want the new name", got)
	}
}

// Hilltop's owner adds Olivia (Kinde knows her as "Olivia Hart" from
// Riverside) and a brand-new person, typing no names for either. After
// "Refresh from Kinde" both rows still show only the email: the names
// Riverside gave Olivia never reach Hilltop, so her row looks like the new
// person's.
func TestNamesAnotherClubTypedNeverShow(t *testing.T) {
	p := startPortal(t)
	owner := p.person(t)
	owner.signIn("tom@example.org").Body.Close()
	for _, email := range []string{"olivia@example.org", "brand.new@example.org"} {
		res := owner.post("/members", url.Values{"email": {email}, "roles": {club.RoleMember}})
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("add %s = %d", email, res.StatusCode)
		}
	}
	if res := owner.post("/members/refresh", url.Values{}); res.StatusCode != http.StatusOK {
		t.Fatalf("refresh = %d", res.StatusCode)
	}
	d := owner.page(owner.get("/members"))
	for _, email := range []string{"olivia@example.org", "brand.new@example.org"} {
		name := strings.TrimSpace(d.Find(`[data-testid="member-row"][data-email="` + email + `"] [data-testid="member-name"]`).Text())
		if name != email {
			t.Errorf("%s is shown as %q after a refresh, want only the email, as typed", email, name)
		}
	}
	if strings.Contains(d.Text(), "Hart") {
		t.Error("Hilltop's members page shows the name Riverside gave Olivia")
	}
}
