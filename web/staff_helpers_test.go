package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

const staffOrg = "org_staff000001"

var staffClub = club.Club{Code: staffOrg, Name: "Clubhouse Staff"}

// Identities around staff: the only real staff person, and the two ways
// of nearly being one.
var (
	sam = club.Identity{UserID: "kp_sam", Email: "sam@clubhouse.example", GivenName: "Sam", FamilyName: "Rivera",
		ClubCode: staffOrg, ClubName: staffClub.Name, Roles: []string{"staff"},
		Permissions: []string{club.PermImpersonate}, Clubs: []club.Club{staffClub}}
	// samNoPerm is in the staff org without staff:impersonate.
	samNoPerm = club.Identity{UserID: "kp_sid", Email: "sid@clubhouse.example", GivenName: "Sid", FamilyName: "Vale",
		ClubCode: staffOrg, ClubName: staffClub.Name, Clubs: []club.Club{staffClub}}
	// rogue holds staff:impersonate, but in a club, not the staff org.
	rogue = club.Identity{UserID: "kp_olivia", Email: "olivia@example.org", GivenName: "Olivia", FamilyName: "Hart",
		ClubCode: riverside, ClubName: riversideClub.Name, Roles: []string{club.RoleOwner, "staff"},
		Permissions: []string{club.PermClubManage, club.PermMembersRead, club.PermMembersWrite, club.PermImpersonate},
		Clubs:       []club.Club{riversideClub}}
)

// fakeStaffKinde answers the staff console's Kinde reads from fixed data
// and counts its calls. ClubsErr makes Clubs fail.
type fakeStaffKinde struct {
	calls    atomic.Int64
	mu       sync.Mutex
	clubs    []club.Club
	perms    map[string][]string
	ClubsErr error
}

func newFakeStaffKinde() *fakeStaffKinde {
	return &fakeStaffKinde{
		clubs: []club.Club{staffClub, hilltopClub, riversideClub},
		perms: map[string][]string{
			club.RoleOwner: {club.PermClubManage, club.PermMembersRead, club.PermMembersWrite},
			club.RoleAdmin: {club.PermMembersRead, club.PermMembersWrite},
			club.RoleCoach: {club.PermMembersRead},
			"staff":        {club.PermImpersonate},
		},
	}
}

func (k *fakeStaffKinde) Clubs(context.Context) ([]club.Club, error) {
	k.calls.Add(1)
	if k.ClubsErr != nil {
		return nil, k.ClubsErr
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.clubs), nil
}

func (k *fakeStaffKinde) Club(_ context.Context, code string) (club.Club, error) {
	k.calls.Add(1)
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.clubs {
		if c.Code == code {
			return c, nil
		}
	}
	return club.Club{}, fmt.Errorf("fake: club %s: %w", code, club.ErrNotFound)
}

func (k *fakeStaffKinde) RolePermissions(_ context.Context, roles []string) ([]string, error) {
	k.calls.Add(1)
	var out []string
	for _, r := range roles {
		out = append(out, k.perms[r]...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// staffEnv is a portal with the staff console on, over fakes.
type staffEnv struct {
	*env
	staffKinde *fakeStaffKinde
}

func newStaffEnv(t testing.TB, opts ...envOption) *staffEnv {
	t.Helper()
	k := newFakeStaffKinde()
	opts = append([]envOption{func(d *Deps) {
		d.Staff = &StaffConsole{Org: staffOrg, Kinde: k, RoleHolders: d.Directory.(*memDirectory)}
	}}, opts...)
	return &staffEnv{env: newEnv(t, opts...), staffKinde: k}
}

// staffBrowser is Sam, signed in, with a browser's user agent.
func (e *staffEnv) staffBrowser() *browser {
	e.t.Helper()
	b := e.browser()
	b.header.Set("User-Agent", "Mozilla/5.0 (staff laptop)")
	b.signIn(sam)
	return b
}

const goodReason = "Ticket 4512: owner cannot add a coach"

// startViewAs starts a view of the club as target and fails the test
// unless it started.
func (b *browser) startViewAs(clubCode, target string) {
	b.e.t.Helper()
	res := b.post("/staff/view-as", url.Values{"club": {clubCode}, "target": {target}, "reason": {goodReason}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		b.e.t.Fatalf("start view-as: %d %q %s", res.StatusCode, res.Header.Get("Location"), body(b.e.t, res))
	}
}

// viewAsID reads the running view's id from the banner's Stop form.
func (b *browser) viewAsID() string {
	b.e.t.Helper()
	d := doc(b.e.t, b.get("/club"))
	id, _ := testid(d, "staff-banner").Find(`input[name="view_as"]`).Attr("value")
	if id == "" {
		b.e.t.Fatal("no staff banner with a view id on /club")
	}
	return id
}

// events returns the audit rows with action, oldest first.
func (a *memAudit) withAction(action string) []club.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []club.AuditEvent
	for _, ev := range a.events {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

func (a *memAudit) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.events)
}

func (a *memAudit) last() club.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.events) == 0 {
		return club.AuditEvent{}
	}
	return a.events[len(a.events)-1]
}

// fillPattern turns a route pattern into a path the route matches.
func fillPattern(p string) string {
	p = strings.ReplaceAll(p, "{id}", "kp_mia")
	p = strings.ReplaceAll(p, "{code}", riverside)
	p = strings.ReplaceAll(p, "{$}", "")
	return p
}
