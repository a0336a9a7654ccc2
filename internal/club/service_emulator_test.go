package club_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// These tests run the add-member service against the in-process Kinde
// emulator through the real Management API client, so they exercise Kinde's
// wire behaviour: its errors, its faults and its rate limits.

var emuRiverside = club.Club{Code: emulator.SeedRiversideOrgCode, Name: "Riverside Rowing Club"}

type emuRig struct {
	emu   *emulator.Emulator
	admin *kinde.Admin
	dir   *memDirectory
	svc   *club.Service
	mu    sync.Mutex
	waits []time.Duration
}

// newEmuRig starts an emulator and a service over it. before, when set, runs
// in the client's transport before each Management API request reaches the
// emulator (to stage races deterministically).
func newEmuRig(t *testing.T, timeout time.Duration, before func(r *http.Request)) *emuRig {
	t.Helper()
	rig := &emuRig{emu: emulatortest.Start(t), dir: newMemDirectory()}
	id, secret := emulatortest.M2M(t, rig.emu)
	var rt http.RoundTripper = http.DefaultTransport
	if before != nil {
		rt = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			before(r)
			return http.DefaultTransport.RoundTrip(r)
		})
	}
	admin, err := kinde.NewAdmin(kinde.AdminConfig{
		Issuer: rig.emu.Issuer(), ClientID: id, ClientSecret: secret,
		HTTPClient: &http.Client{Timeout: timeout, Transport: rt},
		Backoff:    func(int) time.Duration { return time.Millisecond },
		Sleep: func(ctx context.Context, d time.Duration) error {
			rig.mu.Lock()
			rig.waits = append(rig.waits, d)
			rig.mu.Unlock()
			return ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rig.admin = admin
	rig.svc = club.NewService(rig.dir, admin, time.Now, nil)
	return rig
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// apiCalls counts Management API requests (not token requests).
func (rig *emuRig) apiCalls() int {
	n := 0
	for _, r := range rig.emu.Requests() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			n++
		}
	}
	return n
}

func (rig *emuRig) kindeRoles(t *testing.T, email string) []string {
	t.Helper()
	u, ok := rig.emu.World().UserByEmail(email)
	if !ok {
		t.Fatalf("Kinde has no user %s", email)
	}
	var keys []string
	for _, r := range rig.emu.World().MemberRoles(emuRiverside.Code, u.ID) {
		keys = append(keys, r.Key)
	}
	slices.Sort(keys)
	return keys
}

func (rig *emuRig) kindeUsersWithEmail(email string) int {
	n := 0
	for _, u := range rig.emu.World().Snapshot().Users {
		if strings.EqualFold(u.Email, email) {
			n++
		}
	}
	return n
}

func TestAddMemberAgainstEmulator(t *testing.T) {
	tests := []struct {
		name        string
		email       string
		roles       []string
		fault       *emulator.FaultRule
		timeout     time.Duration
		wantAlready bool
		wantCalls   int // Management API requests, retries included
		wantRoles   []string
		wantWait    time.Duration
	}{
		{name: "person in another club", email: "tom@example.org", roles: []string{"coach"}, wantCalls: 2, wantRoles: []string{"coach"}},
		{name: "new person", email: "newbie@example.org", roles: []string{"member"}, wantCalls: 3, wantRoles: []string{"member"}},
		{name: "already a member in Kinde", email: "mia@example.org", roles: []string{"member"}, wantAlready: true, wantCalls: 4, wantRoles: []string{"member"}},
		{name: "429 on create waits for RateLimit-Reset", email: "newbie@example.org", roles: []string{"member"},
			fault:     &emulator.FaultRule{Operation: "createUser", Status: 429, Headers: map[string]string{"RateLimit-Reset": "3"}, Times: 1},
			wantCalls: 4, wantRoles: []string{"member"}, wantWait: 3 * time.Second},
		{name: "5xx twice on attach is retried", email: "tom@example.org", roles: []string{"admin"},
			fault:     &emulator.FaultRule{Operation: "AddOrganizationUsers", Status: 503, Times: 2},
			wantCalls: 4, wantRoles: []string{"admin"}},
		{name: "dropped connection on create is retried", email: "newbie@example.org", roles: []string{"coach", "member"},
			fault:     &emulator.FaultRule{Operation: "createUser", Drop: true, Times: 1},
			wantCalls: 4, wantRoles: []string{"coach", "member"}},
		{name: "latency beyond the client timeout on lookup is retried", email: "newbie@example.org", roles: []string{"member"},
			fault:   &emulator.FaultRule{Operation: "getUsers", Latency: 5 * time.Second, Times: 1},
			timeout: 300 * time.Millisecond, wantCalls: 4, wantRoles: []string{"member"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			rig := newEmuRig(t, timeout, nil)
			roles := emuRoles(t, rig)
			rig.emu.ResetRequests()
			if tt.fault != nil {
				rig.emu.Faults().Add(*tt.fault)
			}
			got, err := rig.svc.AddMember(t.Context(), owner, emuRiverside, roles, club.AddMemberInput{Email: tt.email, FirstName: "Given", LastName: "Family", Roles: tt.roles})
			if err != nil {
				t.Fatalf("AddMember: %v", err)
			}
			if got.AlreadyMember != tt.wantAlready {
				t.Errorf("AlreadyMember = %v, want %v", got.AlreadyMember, tt.wantAlready)
			}
			if tt.fault != nil {
				// A call the client gave up on (a timeout) reaches the
				// journal when the emulator's handler stops, which may be
				// after the add returned: wait for it, not for a while.
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				rig.emu.WaitForRequests(ctx, tt.fault.Operation, tt.fault.Times+1)
				cancel()
			}
			if calls := rig.apiCalls(); calls != tt.wantCalls {
				t.Errorf("Management API calls = %d, want %d: %+v", calls, tt.wantCalls, rig.emu.Requests())
			}
			if roles := rig.kindeRoles(t, tt.email); !slices.Equal(roles, tt.wantRoles) {
				t.Errorf("Kinde roles = %v, want %v", roles, tt.wantRoles)
			}
			if n := rig.kindeUsersWithEmail(tt.email); n != 1 {
				t.Errorf("Kinde users with %s = %d, want 1", tt.email, n)
			}
			if tt.wantWait != 0 && !slices.Contains(rig.waits, tt.wantWait) {
				t.Errorf("waits = %v, want one of %v", rig.waits, tt.wantWait)
			}
			if m, err := rig.dir.Member(t.Context(), emuRiverside.Code, got.Member.UserID); err != nil || m.Pending || !slices.Equal(m.Roles, tt.wantRoles) {
				t.Errorf("directory = %+v, %v", m, err)
			}
		})
	}
}

func emuRoles(t *testing.T, rig *emuRig) []club.Role {
	t.Helper()
	roles, err := rig.admin.Roles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return roles
}

func TestAddMemberAgainstEmulatorEmailInUseMidRace(t *testing.T) {
	var rig *emuRig
	var once sync.Once
	rig = newEmuRig(t, 5*time.Second, func(r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/user" {
			// Another club's owner creates the same person first.
			once.Do(func() {
				if _, err := rig.emu.World().CreateUser(emulator.User{Email: "race@example.org", FirstName: "Race"}, emulator.SeedHilltopOrgCode, "api"); err != nil {
					t.Error(err)
				}
			})
		}
	})
	got, err := rig.svc.AddMember(t.Context(), owner, emuRiverside, emuRoles(t, rig), club.AddMemberInput{Email: "race@example.org", Roles: []string{"member"}})
	if err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	if got.AlreadyMember {
		t.Error("reported already a member; want added")
	}
	if n := rig.kindeUsersWithEmail("race@example.org"); n != 1 {
		t.Errorf("Kinde users = %d, want 1", n)
	}
	if roles := rig.kindeRoles(t, "race@example.org"); !slices.Equal(roles, []string{"member"}) {
		t.Errorf("roles = %v", roles)
	}
	if n := rig.emu.RequestCount("createUser"); n != 1 {
		t.Errorf("createUser calls = %d, want 1", n)
	}
}

// TestAddMemberTwoInstancesDoubleSubmit runs the same add through two
// services that share a directory but no lock, as two portal instances do:
// Kinde's email uniqueness settles the race.
func TestAddMemberTwoInstancesDoubleSubmit(t *testing.T) {
	rig := newEmuRig(t, 5*time.Second, nil)
	other := club.NewService(rig.dir, rig.admin, time.Now, nil)
	roles := emuRoles(t, rig)
	in := club.AddMemberInput{Email: "double@example.org", FirstName: "Double", Roles: []string{"member"}}
	start := make(chan struct{})
	var wg sync.WaitGroup
	res := make([]club.AddResult, 2)
	errs := make([]error, 2)
	for i, svc := range []*club.Service{rig.svc, other} {
		wg.Go(func() {
			<-start
			res[i], errs[i] = svc.AddMember(t.Context(), owner, emuRiverside, roles, in)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	if n := rig.kindeUsersWithEmail("double@example.org"); n != 1 {
		t.Errorf("Kinde users = %d, want 1", n)
	}
	u, _ := rig.emu.World().UserByEmail("double@example.org")
	if !rig.emu.World().IsMember(emuRiverside.Code, u.ID) {
		t.Error("not a member of the club")
	}
	if roles := rig.kindeRoles(t, "double@example.org"); !slices.Equal(roles, []string{"member"}) {
		t.Errorf("roles = %v", roles)
	}
	page, _ := rig.dir.Members(t.Context(), emuRiverside.Code, club.MemberQuery{Search: "double"})
	if page.Total != 1 {
		t.Errorf("directory members = %d, want 1", page.Total)
	}
}

func TestAddMemberAgainstEmulatorKindeDownChangesNothing(t *testing.T) {
	rig := newEmuRig(t, 5*time.Second, nil)
	roles := emuRoles(t, rig)
	rig.emu.Faults().Add(emulator.FaultRule{PathPrefix: "/api/v1/", Status: 500})
	_, err := rig.svc.AddMember(t.Context(), owner, emuRiverside, roles, club.AddMemberInput{Email: "down@example.org", Roles: []string{"member"}})
	if club.ErrorCode(err) != club.EUNAVAILABLE {
		t.Fatalf("err = %v, want unavailable", err)
	}
	if got, want := club.ErrorMessage(err), "Kinde did not answer. Nothing was changed. Try again in a minute."; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if n := rig.kindeUsersWithEmail("down@example.org"); n != 0 {
		t.Errorf("Kinde users = %d, want 0", n)
	}
	if rig.dir.writes != 0 {
		t.Errorf("directory writes = %d, want 0", rig.dir.writes)
	}
}

func TestAddMemberAgainstEmulatorFaultBeforeRolesIsFinishedOnRetry(t *testing.T) {
	rig := newEmuRig(t, 5*time.Second, nil)
	roles := emuRoles(t, rig)
	rule := rig.emu.Faults().Add(emulator.FaultRule{Operation: "UpdateOrganizationUsers", Status: 503})
	in := club.AddMemberInput{Email: "half@example.org", FirstName: "Half", Roles: []string{"coach"}}
	if _, err := rig.svc.AddMember(t.Context(), owner, emuRiverside, roles, in); club.ErrorCode(err) != club.EUNAVAILABLE {
		t.Fatalf("first attempt: %v, want unavailable", err)
	}
	rig.emu.Faults().Remove(rule)
	got, err := rig.svc.AddMember(t.Context(), owner, emuRiverside, roles, in)
	if err != nil || got.AlreadyMember {
		t.Fatalf("retry = %+v, %v; want a finished add", got, err)
	}
	if roles := rig.kindeRoles(t, "half@example.org"); !slices.Equal(roles, []string{"coach"}) {
		t.Errorf("roles = %v, want [coach]", roles)
	}
	if n := rig.kindeUsersWithEmail("half@example.org"); n != 1 {
		t.Errorf("Kinde users = %d", n)
	}
}
