package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestWorld(t *testing.T) (*World, *FakeClock) {
	t.Helper()
	clock := NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	w, err := newWorld(*DefaultSeed(), clock)
	if err != nil {
		t.Fatalf("newWorld: %v", err)
	}
	return w, clock
}

// recorder collects events; it calls back into the world from the
// subscriber, which would deadlock if events were sent under the lock.
type recorder struct {
	mu     sync.Mutex
	w      *World
	events []Event
}

func (r *recorder) record(ev Event) {
	r.w.UserCount() // must not deadlock: events are emitted after unlocking
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Type)
	}
	return out
}

func (r *recorder) last() Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[len(r.events)-1]
}

func TestDefaultSeed(t *testing.T) {
	w, _ := newTestWorld(t)
	s := DefaultSeed()
	orgByName := func(name string) string {
		o, ok := s.OrgByName(name)
		if !ok {
			t.Fatalf("no org %q", name)
		}
		return o.Code
	}
	if got := orgByName("Clubhouse Staff"); got != SeedStaffOrgCode {
		t.Errorf("staff code %s, constant %s", got, SeedStaffOrgCode)
	}
	if got := orgByName("Riverside Rowing Club"); got != SeedRiversideOrgCode {
		t.Errorf("riverside code %s, constant %s", got, SeedRiversideOrgCode)
	}
	if got := orgByName("Hilltop Tennis Club"); got != SeedHilltopOrgCode {
		t.Errorf("hilltop code %s, constant %s", got, SeedHilltopOrgCode)
	}
	if got := orgByName("Harbour Sailing Club"); got != SeedHarbourOrgCode {
		t.Errorf("harbour code %s, constant %s", got, SeedHarbourOrgCode)
	}
	tests := []struct {
		email string
		clubs map[string]string // org code -> role key
	}{
		{"sam@clubhouse.example", map[string]string{SeedStaffOrgCode: "staff"}},
		{"olivia@example.org", map[string]string{SeedRiversideOrgCode: "owner"}},
		{"carla@example.org", map[string]string{SeedRiversideOrgCode: "coach", SeedHilltopOrgCode: "member"}},
		{"mia@example.org", map[string]string{SeedRiversideOrgCode: "member", SeedHilltopOrgCode: "member", SeedHarbourOrgCode: "member"}},
		{"liam@example.org", map[string]string{SeedHilltopOrgCode: "coach", SeedHarbourOrgCode: "member"}},
		{"grace@example.org", map[string]string{SeedHarbourOrgCode: "owner"}},
		{"nora@example.org", map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.email, func(t *testing.T) {
			u, ok := w.UserByEmail(strings.ToUpper(tc.email))
			if !ok {
				t.Fatalf("no user %s", tc.email)
			}
			got := map[string]string{}
			for _, o := range w.OrgsOfUser(u.ID) {
				roles := w.MemberRoles(o.Code, u.ID)
				if len(roles) != 1 {
					t.Fatalf("%s in %s: %d roles", tc.email, o.Name, len(roles))
				}
				got[o.Code] = roles[0].Key
			}
			if !reflect.DeepEqual(got, tc.clubs) {
				t.Errorf("memberships = %v, want %v", got, tc.clubs)
			}
		})
	}
	if got := len(s.Users); got != 16 {
		t.Errorf("people = %d, want 16", got)
	}
	for _, name := range []string{SeedPortalApp, SeedManagementApp, SeedReporterApp} {
		if _, ok := s.AppByName(name); !ok {
			t.Errorf("no app %q", name)
		}
	}
	portal, _ := s.AppByName(SeedPortalApp)
	if len(portal.ClientID) != 32 || strings.Trim(portal.ClientID, "0123456789abcdef") != "" {
		t.Errorf("portal client id %q is not 32 lower-case hex", portal.ClientID)
	}
	for _, a := range s.Apps {
		if n := len(a.ClientSecret); n < 40 || n > 60 || strings.Trim(a.ClientSecret, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			t.Errorf("%s secret does not match ^[a-zA-Z0-9]{40,60}$", a.Name)
		}
	}
	reporter, _ := s.AppByName(SeedReporterApp)
	if !slices.Equal(reporter.Scopes, []string{"read:users"}) {
		t.Errorf("reporter scopes = %v", reporter.Scopes)
	}
}

func TestMemberPermissionKeys(t *testing.T) {
	w, _ := newTestWorld(t)
	tests := []struct {
		email, org string
		want       []string
	}{
		{"olivia@example.org", SeedRiversideOrgCode, []string{"club:manage", "members:read", "members:write"}},
		{"adam@example.org", SeedRiversideOrgCode, []string{"members:read", "members:write"}},
		{"carla@example.org", SeedRiversideOrgCode, []string{"members:read"}},
		{"carla@example.org", SeedHilltopOrgCode, []string{}},
		{"sam@clubhouse.example", SeedStaffOrgCode, []string{"staff:impersonate"}},
		{"nora@example.org", SeedRiversideOrgCode, nil},
	}
	for _, tc := range tests {
		t.Run(tc.email+"@"+tc.org, func(t *testing.T) {
			u, _ := w.UserByEmail(tc.email)
			got := w.MemberPermissionKeys(tc.org, u.ID)
			if len(got) != len(tc.want) || (len(got) > 0 && !slices.Equal(got, tc.want)) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Direct permissions join role permissions, deduplicated.
	carla, _ := w.UserByEmail("carla@example.org")
	if err := w.GrantMember(SeedRiversideOrgCode, carla.ID, nil, []string{"members:read", "club:manage"}, SourceAPI); err != nil {
		t.Fatal(err)
	}
	if got := w.MemberPermissionKeys(SeedRiversideOrgCode, carla.ID); !slices.Equal(got, []string{"club:manage", "members:read"}) {
		t.Errorf("with direct permissions: %v", got)
	}
}

func TestCreateUser(t *testing.T) {
	w, clock := newTestWorld(t)
	rec := &recorder{w: w}
	w.Subscribe(rec.record)
	tests := []struct {
		name    string
		user    User
		org     string
		wantErr error
	}{
		{"new person in a club", User{Email: "Pia@Example.org", FirstName: "Pia"}, SeedRiversideOrgCode, nil},
		{"same email, other case", User{Email: "pia@example.org"}, "", ErrEmailInUse},
		{"seeded email", User{Email: "OLIVIA@example.org"}, "", ErrEmailInUse},
		{"unknown club", User{Email: "x@example.org"}, "org_00000000000", ErrNotFound},
		{"no email", User{Username: "anon"}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := w.CreateUser(tc.user, tc.org, SourceAPI)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if len(u.ID) != 35 || !strings.HasPrefix(u.ID, "kp_") {
				t.Errorf("id %q is not kp_ + 32 hex", u.ID)
			}
			if !u.CreatedOn.Equal(clock.Now()) {
				t.Errorf("created_on %v, want the clock's %v", u.CreatedOn, clock.Now())
			}
			if got := w.IsMember(tc.org, u.ID); tc.org != "" && !got {
				t.Error("not a member of the org given")
			}
			ev := rec.last()
			if ev.Type != "user.created" || ev.Source != SourceAPI || !strings.HasPrefix(ev.ID, "event_") || len(ev.ID) != 38 {
				t.Errorf("event %+v", ev)
			}
		})
	}
}

func TestMembershipEvents(t *testing.T) {
	w, _ := newTestWorld(t)
	rec := &recorder{w: w}
	w.Subscribe(rec.record)
	nora, _ := w.UserByEmail("nora@example.org")
	admin, _ := w.RoleByKey("admin")
	coach, _ := w.RoleByKey("coach")
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"add", func() error { return w.AddMember(SeedHilltopOrgCode, nora.ID, []string{"admin"}, SourceAdmin) }, "user.updated"},
		{"add again", func() error { return w.AddMember(SeedHilltopOrgCode, nora.ID, nil, SourceAdmin) }, ""},
		{"grant role", func() error { return w.AddMemberRole(SeedHilltopOrgCode, nora.ID, coach.ID, SourceAPI) }, "user.updated"},
		{"revoke role", func() error { return w.RemoveMemberRole(SeedHilltopOrgCode, nora.ID, coach.ID, SourceAPI) }, "user.updated"},
		{"remove", func() error { return w.RemoveMember(SeedHilltopOrgCode, nora.ID, SourceAPI) }, "user.updated"},
		{"delete", func() error { return w.DeleteUser(nora.ID, SourceAPI) }, "user.deleted"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := len(rec.types())
			version := w.ClaimsVersion(nora.ID)
			err := st.do()
			if st.want == "" {
				if !errors.Is(err, ErrAlreadyMember) {
					t.Fatalf("err = %v, want ErrAlreadyMember", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.types(); len(got) != before+1 || got[before] != st.want {
				t.Fatalf("events %v, want one more %s", got, st.want)
			}
			if st.want == "user.updated" && w.ClaimsVersion(nora.ID) <= version {
				t.Error("claims version not bumped")
			}
		})
	}
	// The first user.updated carries the membership in Kinde's shape.
	rec.mu.Lock()
	first := rec.events[0]
	rec.mu.Unlock()
	b, _ := json.Marshal(first.Data)
	want := fmt.Sprintf(`"organizations":[{"code":"%s","permissions":null,"roles":[{"id":"%s","key":"admin"}]}]`, SeedHilltopOrgCode, admin.ID)
	if !strings.Contains(string(b), want) {
		t.Errorf("user.updated data = %s, want it to contain %s", b, want)
	}
	if _, ok := w.UserByEmail("nora@example.org"); ok {
		t.Error("deleted user still found by email")
	}
}

func TestListUsersPaging(t *testing.T) {
	w, _ := newTestWorld(t)
	w.AddPeople(25)
	var all []string
	tok := ""
	pages := 0
	for {
		users, next, err := w.ListUsers(UserQuery{PageSize: 10, NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range users {
			all = append(all, u.ID)
		}
		if next == "" {
			break
		}
		tok = next
	}
	if pages != 5 || len(all) != 41 {
		t.Fatalf("pages %d, people %d; want 5 pages of 41 people", pages, len(all))
	}
	if len(slices.Compact(slices.Sorted(slices.Values(all)))) != 41 {
		t.Error("duplicates across pages")
	}
	if _, _, err := w.ListUsers(UserQuery{NextToken: "bogus!"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad token err = %v", err)
	}
	got, _, _ := w.ListUsers(UserQuery{Emails: []string{"MIA@example.org", "nobody@example.org", "zoe@example.org"}})
	if len(got) != 2 {
		t.Errorf("by email: %d users", len(got))
	}
}

func TestSnapshotReplaceRoundTrip(t *testing.T) {
	w, _ := newTestWorld(t)
	if _, err := w.CreateOrg("Lakeside", SourceAPI); err != nil {
		t.Fatal(err)
	}
	snap := w.Snapshot()
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	w2, _ := newTestWorld(t)
	if err := w2.Replace(back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(w2.Snapshot())
	if string(b) != string(b2) {
		t.Error("state differs after export and import")
	}
	bad := []struct {
		name string
		edit func(*State)
	}{
		{"duplicate email", func(s *State) { s.Users[1].Email = strings.ToUpper(s.Users[0].Email) }},
		{"membership to unknown org", func(s *State) { s.Memberships[0].OrgCode = "org_00000000000" }},
		{"unknown role", func(s *State) { s.Memberships[0].RoleIDs = []string{"nope"} }},
		{"user without id", func(s *State) { s.Users[0].ID = "" }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			s := w.Snapshot()
			tc.edit(&s)
			if err := w2.Replace(s); err == nil {
				t.Error("Replace accepted an inconsistent state")
			}
		})
	}
}

func TestPeopleSortedByName(t *testing.T) {
	w, _ := newTestWorld(t)
	people := w.People()
	if people[0].FirstName != "Adam" || people[len(people)-1].FirstName != "Zoe" {
		t.Errorf("first %s, last %s", people[0].FirstName, people[len(people)-1].FirstName)
	}
	mia, _ := w.UserByEmail("mia@example.org")
	var names []string
	for _, o := range w.OrgsOfUser(mia.ID) {
		names = append(names, o.Name)
	}
	if !slices.Equal(names, []string{"Harbour Sailing Club", "Hilltop Tennis Club", "Riverside Rowing Club"}) {
		t.Errorf("mia's clubs = %v", names)
	}
}

func TestInvites(t *testing.T) {
	w, _ := newTestWorld(t)
	inv, err := w.CreateInvite(Invite{OrgCode: SeedRiversideOrgCode, Email: "quinn@example.org", RoleKeys: []string{"member"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		inv  Invite
		want error
	}{
		{"pending", Invite{OrgCode: SeedRiversideOrgCode, Email: "QUINN@example.org"}, ErrInvitePending},
		{"member", Invite{OrgCode: SeedRiversideOrgCode, Email: "mia@example.org"}, ErrAlreadyMember},
		{"unknown role", Invite{OrgCode: SeedRiversideOrgCode, Email: "r@example.org", RoleKeys: []string{"boss"}}, ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := w.CreateInvite(tc.inv); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	u, err := w.AcceptInvite(inv.Code, SourceUser)
	if err != nil {
		t.Fatal(err)
	}
	if !w.IsMember(SeedRiversideOrgCode, u.ID) {
		t.Error("accepting did not add the member")
	}
	if _, err := w.AcceptInvite(inv.Code, SourceUser); !errors.Is(err, ErrNotFound) {
		t.Errorf("second accept err = %v", err)
	}
}

func TestOrgAndRoleEvents(t *testing.T) {
	w, _ := newTestWorld(t)
	rec := &recorder{w: w}
	w.Subscribe(rec.record)
	var code string
	steps := []struct {
		name string
		do   func() error
		want string
		key  string // top-level key of Data
	}{
		{"create org", func() error {
			o, err := w.CreateOrganization(Org{Name: "Lakeside", Handle: "lakeside"}, SourceAPI)
			code = o.Code
			return err
		}, "organization.created", "organization"},
		{"update org", func() error {
			name := "Lakeside CC"
			_, err := w.UpdateOrganization(code, OrgPatch{Name: &name}, SourceAPI)
			return err
		}, "organization.updated", "organization"},
		{"delete org", func() error { return w.DeleteOrganization(code, SourceAPI) }, "organization.deleted", "organization"},
		{"create role", func() error { _, err := w.CreateRole(Role{Key: "treasurer", Name: "Treasurer"}, SourceAPI); return err }, "role.created", "role"},
		{"create permission", func() error {
			_, err := w.CreatePermission(Permission{Key: "money:read", Name: "Read money"}, SourceAPI)
			return err
		}, "permission.created", "permission"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			ev := rec.last()
			if ev.Type != st.want || ev.Data[st.key] == nil {
				t.Errorf("event %s %v, want %s with %q", ev.Type, ev.Data, st.want, st.key)
			}
		})
	}
	if len(code) != 15 || !strings.HasPrefix(code, "org_") {
		t.Errorf("org code %q", code)
	}
}
