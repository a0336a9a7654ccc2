package kinde

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// newEmulatorAdmin returns an Admin for the emulator's M2M application whose
// Management API traffic goes through the spec-validating transport, and
// the log of the waits it asked for.
func newEmulatorAdmin(t testing.TB, e *emulator.Emulator, mod func(*AdminConfig)) (*Admin, *sleepLog) {
	t.Helper()
	id, secret := emulatortest.M2M(t, e)
	sl := &sleepLog{}
	cfg := AdminConfig{
		Issuer:       e.Issuer(),
		ClientID:     id,
		ClientSecret: secret,
		HTTPClient:   &http.Client{Timeout: 5 * time.Second, Transport: specTransport(t)},
		Backoff:      testBackoff,
		Sleep:        sl.sleep,
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := NewAdmin(cfg)
	if err != nil {
		t.Fatalf("NewAdmin: %v", err)
	}
	return a, sl
}

func TestAdminAgainstEmulator(t *testing.T) {
	e := emulatortest.Start(t)
	a, _ := newEmulatorAdmin(t, e, nil)
	ctx := t.Context()
	riverside := emulator.SeedRiversideOrgCode

	// Lookups.
	olivia, err := a.FindPersonByEmail(ctx, "Olivia@Example.org")
	if err != nil {
		t.Fatalf("find olivia: %v", err)
	}
	if olivia.Email != "olivia@example.org" || olivia.FirstName != "Olivia" || !strings.HasPrefix(olivia.ID, "kp_") {
		t.Errorf("olivia: %+v", olivia)
	}
	if _, err := a.FindPersonByEmail(ctx, "nobody@example.org"); !errors.Is(err, club.ErrNotFound) {
		t.Errorf("find nobody: got %v, want not found", err)
	}

	// Create, then the same email again.
	ana, err := a.CreatePerson(ctx, club.Person{Email: "ana.new@example.org", FirstName: "Ana", LastName: "New"}, riverside)
	if err != nil {
		t.Fatalf("create ana: %v", err)
	}
	if _, err := a.CreatePerson(ctx, club.Person{Email: "ANA.NEW@example.org"}, riverside); !errors.Is(err, club.ErrEmailInUse) {
		t.Errorf("create ana again: got %v, want ErrEmailInUse", err)
	}
	if _, err := a.CreatePerson(ctx, club.Person{Email: "tom@example.org"}, riverside); !errors.Is(err, club.ErrEmailInUse) {
		t.Errorf("create tom (in another club): got %v, want ErrEmailInUse", err)
	}
	if got, err := a.FindPersonByEmail(ctx, "ana.new@example.org"); err != nil || got.ID != ana.ID {
		t.Errorf("find ana: %+v, %v; want id %s", got, err, ana.ID)
	}
	if roles, err := a.MemberRoles(ctx, riverside, ana.ID); err != nil || len(roles) != 0 {
		t.Errorf("a created person is a member without roles: got %v, %v", roles, err)
	}

	// Attach someone from another club, twice.
	tom, err := a.FindPersonByEmail(ctx, "tom@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if added, err := a.AddMember(ctx, riverside, tom.ID, []string{"member"}); err != nil || !added {
		t.Fatalf("add tom: added=%v err=%v", added, err)
	}
	if added, err := a.AddMember(ctx, riverside, tom.ID, []string{"member"}); err != nil || added {
		t.Errorf("add tom again: added=%v err=%v, want false, nil", added, err)
	}

	// Roles.
	if err := a.GrantRoles(ctx, riverside, tom.ID, []string{"coach", "member"}); err != nil {
		t.Fatalf("grant: %v", err)
	}
	if got, err := a.MemberRoles(ctx, riverside, tom.ID); err != nil || !slices.Equal(got, []string{"coach", "member"}) {
		t.Errorf("roles after grant: %v, %v", got, err)
	}
	if err := a.RevokeRole(ctx, riverside, tom.ID, "coach"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if got, err := a.MemberRoles(ctx, riverside, tom.ID); err != nil || !slices.Equal(got, []string{"member"}) {
		t.Errorf("roles after revoke: %v, %v", got, err)
	}
	if err := a.RefreshClaims(ctx, tom.ID); err != nil {
		t.Errorf("refresh claims: %v", err)
	}

	// Listing.
	ms, err := a.ClubMembers(ctx, riverside)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]club.Member{}
	for _, m := range ms {
		byID[m.UserID] = m
	}
	if m := byID[tom.ID]; m.Email != "tom@example.org" || !slices.Equal(m.Roles, []string{"member"}) || m.JoinedAt.IsZero() || m.ClubCode != riverside {
		t.Errorf("tom in the listing: %+v", m)
	}
	if m := byID[olivia.ID]; !slices.Equal(m.Roles, []string{"owner"}) || m.FirstName != "Olivia" || m.LastName != "Hart" {
		t.Errorf("olivia in the listing: %+v", m)
	}

	// Removal, twice.
	if err := a.RemoveMember(ctx, riverside, tom.ID); err != nil {
		t.Fatalf("remove tom: %v", err)
	}
	if err := a.RemoveMember(ctx, riverside, tom.ID); !errors.Is(err, club.ErrNotFound) {
		t.Errorf("remove tom again: got %v, want not found", err)
	}

	// Clubs and roles.
	c, err := a.CreateClub(ctx, "Lakeside Canoe Club")
	if err != nil {
		t.Fatalf("create club: %v", err)
	}
	if got, err := a.Club(ctx, c.Code); err != nil || got != c {
		t.Errorf("club: %+v, %v; want %+v", got, err, c)
	}
	roles, err := a.Roles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range roles {
		keys = append(keys, r.Key)
		if r.ID == "" || r.Name == "" {
			t.Errorf("role without id or name: %+v", r)
		}
	}
	slices.Sort(keys)
	if want := []string{"admin", "coach", "member", "owner", "staff"}; !slices.Equal(keys, want) {
		t.Errorf("role keys: got %v, want %v", keys, want)
	}

	// Webhook registration is idempotent and updates event types.
	hook := "http://127.0.0.1:9/kinde/webhook"
	id1, err := a.RegisterWebhook(ctx, hook, []string{"user.updated", "user.created"})
	if err != nil {
		t.Fatalf("register webhook: %v", err)
	}
	id2, err := a.RegisterWebhook(ctx, hook, []string{"user.created", "user.updated"})
	if err != nil || id2 != id1 {
		t.Errorf("register again: %q, %v; want %q", id2, err, id1)
	}
	id3, err := a.RegisterWebhook(ctx, hook, []string{"user.created", "user.updated", "user.deleted"})
	if err != nil || id3 != id1 {
		t.Errorf("register with more events: %q, %v; want %q", id3, err, id1)
	}
	if got := e.RequestCount("CreateWebHook"); got != 1 {
		t.Errorf("CreateWebHook calls: got %d, want 1", got)
	}
	var events []string
	for _, w := range e.World().Webhooks() {
		if w.ID == id1 {
			events = slices.Sorted(slices.Values(w.EventTypes))
		}
	}
	if want := []string{"user.created", "user.deleted", "user.updated"}; !slices.Equal(events, want) {
		t.Errorf("webhook events: got %v, want %v", events, want)
	}

	// Renaming a club changes its name in Kinde; an unknown club is not
	// found.
	if err := a.RenameClub(ctx, riverside, "Riverside Rowing & Sculling"); err != nil {
		t.Fatalf("rename club: %v", err)
	}
	if c, err := a.Club(ctx, riverside); err != nil || c.Name != "Riverside Rowing & Sculling" {
		t.Errorf("club after rename = %+v, %v", c, err)
	}
	if err := a.RenameClub(ctx, "org_nosuchclub", "X"); !errors.Is(err, club.ErrNotFound) {
		t.Errorf("rename an unknown club: %v, want not found", err)
	}

	// One M2M token served every call above.
	if got := e.RequestCount("oauth2.token"); got != 1 {
		t.Errorf("token requests: got %d, want 1", got)
	}
}

func TestAdminLookupIsOneCall(t *testing.T) {
	e := emulatortest.Start(t)
	e.World().AddPeople(2000)
	a, _ := newEmulatorAdmin(t, e, nil)
	for _, email := range []string{"mia@example.org", "person-0001500@bulk.example", "nobody@example.org"} {
		e.ResetRequests()
		_, err := a.FindPersonByEmail(t.Context(), email)
		if err != nil && !errors.Is(err, club.ErrNotFound) {
			t.Fatal(err)
		}
		if got := e.RequestCount("getUsers"); got != 1 {
			t.Errorf("%s: getUsers calls: got %d, want 1", email, got)
		}
		if got := e.RequestCount(""); got > 2 {
			t.Errorf("%s: requests: got %d, want the lookup (and at most one token)", email, got)
		}
	}
}

func TestAdminClubMembersFollowsPages(t *testing.T) {
	e := emulatortest.Start(t)
	ids := e.World().AddPeople(1234)
	a, _ := newEmulatorAdmin(t, e, nil)
	ctx := t.Context()
	c, err := a.CreateClub(ctx, "Big Club")
	if err != nil {
		t.Fatal(err)
	}
	var add []NewMember
	for _, id := range ids {
		add = append(add, NewMember{ID: id, Roles: []string{"member"}})
	}
	added, err := a.AddMembers(ctx, c.Code, add)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(added), len(ids); got != want {
		t.Fatalf("added: got %d, want %d", got, want)
	}
	if got, want := e.RequestCount("AddOrganizationUsers"), 13; got != want {
		t.Errorf("bulk calls: got %d, want %d (chunks of 100)", got, want)
	}
	ms, err := a.ClubMembers(ctx, c.Code)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ms), len(ids); got != want {
		t.Errorf("members: got %d, want %d", got, want)
	}
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m.UserID] || !strings.HasSuffix(m.Email, "@bulk.example") || !slices.Equal(m.Roles, []string{"member"}) {
			t.Fatalf("bad or repeated member %+v", m)
		}
		seen[m.UserID] = true
	}
	if got, want := e.RequestCount("GetOrganizationUsers"), 3; got != want {
		t.Errorf("pages: got %d, want %d (500 per page)", got, want)
	}
}

func TestAdminFaultsFromEmulator(t *testing.T) {
	tests := []struct {
		name string
		rule emulator.FaultRule
		// call is the Admin method under test.
		call      func(t *testing.T, a *Admin) error
		op        string
		mod       func(*AdminConfig)
		wantErr   error
		wantCalls int // journal entries for op (0 = don't check)
		wantWaits []time.Duration
	}{
		{
			name: "429 waits for RateLimit-Reset",
			rule: emulator.FaultRule{Operation: "getUsers", Status: 429, Headers: rateLimited("7"), Times: 1},
			call: func(t *testing.T, a *Admin) error {
				_, err := a.FindPersonByEmail(t.Context(), "olivia@example.org")
				return err
			},
			op:        "getUsers",
			wantCalls: 2,
			wantWaits: []time.Duration{7 * time.Second},
		},
		{
			name: "429 beyond MaxRateLimitWait is unavailable",
			rule: emulator.FaultRule{Operation: "getUsers", Status: 429, Headers: rateLimited("90")},
			call: func(t *testing.T, a *Admin) error {
				_, err := a.FindPersonByEmail(t.Context(), "olivia@example.org")
				return err
			},
			op:        "getUsers",
			wantErr:   club.ErrUnavailable,
			wantCalls: 1,
		},
		{
			name: "5xx then success",
			rule: emulator.FaultRule{Operation: "GetOrganizationUsers", Status: 503, Times: 2},
			call: func(t *testing.T, a *Admin) error {
				_, err := a.ClubMembers(t.Context(), emulator.SeedRiversideOrgCode)
				return err
			},
			op:        "GetOrganizationUsers",
			wantCalls: 3,
			wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond},
		},
		{
			// A POST: net/http does not retry it by itself, so the drop
			// reaches the client's own retry.
			name:      "dropped connection then success",
			rule:      emulator.FaultRule{Operation: "refreshUserClaims", Drop: true, Times: 1},
			call:      func(t *testing.T, a *Admin) error { return a.RefreshClaims(t.Context(), oliviaID(t)) },
			op:        "refreshUserClaims",
			wantWaits: []time.Duration{100 * time.Millisecond},
		},
		{
			// A GET: the emulator notices the client giving up only once it
			// has read the request (net/http's background read). The
			// timeout leaves the retry seconds to answer on a busy machine
			// (250 ms did not, with both cores saturated).
			name:      "latency beyond the client's timeout, then success",
			rule:      emulator.FaultRule{Operation: "GetRoles", Latency: time.Minute, Times: 1},
			call:      func(t *testing.T, a *Admin) error { _, err := a.Roles(t.Context()); return err },
			op:        "GetRoles",
			mod:       func(c *AdminConfig) { c.HTTPClient.Timeout = 3 * time.Second },
			wantWaits: []time.Duration{100 * time.Millisecond},
		},
		{
			name: "exhaustion is unavailable",
			rule: emulator.FaultRule{Operation: "AddOrganizationUsers", Status: 500},
			call: func(t *testing.T, a *Admin) error {
				_, err := a.AddMember(t.Context(), emulator.SeedRiversideOrgCode, oliviaID(t), nil)
				return err
			},
			op:        "AddOrganizationUsers",
			wantErr:   club.ErrUnavailable,
			wantCalls: 4,
			wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
		},
		{
			name:      "token endpoint 5xx then success",
			rule:      emulator.FaultRule{Operation: "oauth2.token", Status: 502, Times: 1},
			call:      func(t *testing.T, a *Admin) error { _, err := a.Roles(t.Context()); return err },
			op:        "GetRoles",
			wantCalls: 1,
			wantWaits: []time.Duration{100 * time.Millisecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := emulatortest.Start(t)
			a, sl := newEmulatorAdmin(t, e, tt.mod)
			e.Faults().Add(tt.rule)
			err := tt.call(t, a)
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && err != nil:
				t.Fatalf("got %v, want success", err)
			}
			if tt.wantCalls > 0 {
				if got := e.RequestCount(tt.op); got != tt.wantCalls {
					t.Errorf("%s calls: got %d, want %d", tt.op, got, tt.wantCalls)
				}
			}
			if got := sl.all(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits: got %v, want %v", got, tt.wantWaits)
			}
		})
	}
}

// rateLimited are the headers of Kinde's 429: RateLimit-Reset, and the
// media type getUsers declares for its 429 body.
func rateLimited(reset string) map[string]string {
	return map[string]string{"RateLimit-Reset": reset, "Content-Type": "application/json"}
}

// oliviaID is the seeded owner of Riverside Rowing Club.
func oliviaID(t testing.TB) string {
	t.Helper()
	s := emulator.DefaultSeed()
	u, ok := s.UserByEmail("olivia@example.org")
	if !ok {
		t.Fatal("olivia is not in the default seed")
	}
	return u.ID
}

func TestAdminRateLimitedByEmulator(t *testing.T) {
	// The emulator's fixed one-minute window runs on a fake clock, and the
	// client's Sleep moves that clock: waiting is simulated, not slept.
	clock := emulator.NewFakeClock(time.Now().Truncate(time.Minute).Add(50 * time.Second))
	e := emulatortest.Start(t, emulatortest.WithClock(clock))
	var waits []time.Duration
	a, _ := newEmulatorAdmin(t, e, func(c *AdminConfig) {
		c.Sleep = func(ctx context.Context, d time.Duration) error {
			waits = append(waits, d)
			clock.Advance(d)
			return nil
		}
	})
	e.SetRateLimit(2)
	ctx := t.Context()
	for i := range 3 {
		if _, err := a.FindPersonByEmail(ctx, "olivia@example.org"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if want := []time.Duration{10 * time.Second}; !slices.Equal(waits, want) {
		t.Errorf("waits: got %v, want %v (until the window resets)", waits, want)
	}
	if got, want := e.RequestCount("getUsers"), 4; got != want {
		t.Errorf("getUsers calls: got %d, want %d", got, want)
	}
}

func TestSeededM2MAppHoldsEveryScope(t *testing.T) {
	e := emulatortest.Start(t)
	id, _ := emulatortest.M2M(t, e)
	app, ok := e.World().App(id)
	if !ok {
		t.Fatal("no M2M app")
	}
	for _, s := range Scopes() {
		if !slices.Contains(app.Scopes, s) {
			t.Errorf("the seeded %q app lacks %s", app.Name, s)
		}
	}
}
