package club_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

var (
	riverside = club.Club{Code: "org_00000000a01", Name: "Riverside Rowing Club"}
	hilltop   = club.Club{Code: "org_00000000a02", Name: "Hilltop Tennis Club"}
	owner     = club.Actor{UserID: "kp_owner", Email: "olivia@example.org", Name: "Olivia Hart", Roles: []string{club.RoleOwner}}
	admin     = club.Actor{UserID: "kp_admin", Email: "adam@example.org", Name: "Adam Brooks", Roles: []string{club.RoleAdmin}}
)

func fixedNow() time.Time { return time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC) }

func newService(t *testing.T) (*club.Service, *memDirectory, *fakeIdentities) {
	t.Helper()
	dir, k := newMemDirectory(), newFakeIdentities()
	return club.NewService(dir, k, fixedNow, nil), dir, k
}

func TestAddMember(t *testing.T) {
	in := club.AddMemberInput{Email: " Ana@Example.org ", FirstName: "Ana", LastName: "Lima", Roles: []string{"member"}}
	tests := []struct {
		name          string
		setup         func(dir *memDirectory, k *fakeIdentities)
		wantAlready   bool
		wantCalls     map[string]int
		wantAudit     []string
		wantInvites   int
		wantKindeRole []string
	}{
		{
			name:        "new person is created in the club, then given roles",
			wantCalls:   map[string]int{"FindPersonByEmail": 1, "CreatePerson": 1, "GrantRoles": 1},
			wantAudit:   []string{club.ActionMemberAdded},
			wantInvites: 1, wantKindeRole: []string{"member"},
		},
		{
			name: "person known to Kinde in another club is attached in one call after one lookup",
			setup: func(_ *memDirectory, k *fakeIdentities) {
				k.seedPerson("ana@example.org", hilltop.Code)
			},
			wantCalls:   map[string]int{"FindPersonByEmail": 1, "AddMember": 1},
			wantAudit:   []string{club.ActionMemberAdded},
			wantInvites: 1, wantKindeRole: []string{"member"},
		},
		{
			name: "person the directory knows costs one Kinde call",
			setup: func(dir *memDirectory, k *fakeIdentities) {
				p := k.seedPerson("ana@example.org", hilltop.Code)
				dir.people["ana@example.org"] = p
			},
			wantCalls:   map[string]int{"AddMember": 1},
			wantAudit:   []string{club.ActionMemberAdded},
			wantInvites: 1, wantKindeRole: []string{"member"},
		},
		{
			name: "already a member in the directory costs no Kinde call",
			setup: func(dir *memDirectory, k *fakeIdentities) {
				p := k.seedPerson("ana@example.org", riverside.Code)
				dir.people["ana@example.org"] = p
				dir.members[riverside.Code+"/"+p.ID] = club.Member{ClubCode: riverside.Code, UserID: p.ID, Email: p.Email, Roles: []string{"member"}}
			},
			wantAlready:   true,
			wantCalls:     map[string]int{},
			wantKindeRole: []string{"member"},
		},
		{
			name: "member in Kinde the directory did not know gets the roles and is reported as already a member",
			setup: func(_ *memDirectory, k *fakeIdentities) {
				p := k.seedPerson("ana@example.org", riverside.Code)
				k.orgs[riverside.Code][p.ID] = []string{"coach"}
			},
			wantAlready:   true,
			wantCalls:     map[string]int{"FindPersonByEmail": 1, "AddMember": 1, "GrantRoles": 1, "MemberRoles": 1},
			wantAudit:     []string{club.ActionMemberRolesChanged},
			wantKindeRole: []string{"coach", "member"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, dir, k := newService(t)
			if tt.setup != nil {
				tt.setup(dir, k)
			}
			got, err := svc.AddMember(t.Context(), owner, riverside, testRoles, in)
			if err != nil {
				t.Fatalf("AddMember: %v", err)
			}
			if got.AlreadyMember != tt.wantAlready {
				t.Errorf("AlreadyMember = %v, want %v", got.AlreadyMember, tt.wantAlready)
			}
			if got.Member.Email != "ana@example.org" {
				t.Errorf("email = %q, want normalised ana@example.org", got.Member.Email)
			}
			for m, n := range tt.wantCalls {
				if k.calls[m] != n {
					t.Errorf("Kinde %s calls = %d, want %d", m, k.calls[m], n)
				}
			}
			if gotTotal, wantTotal := k.total(), sum(tt.wantCalls); gotTotal != wantTotal {
				t.Errorf("Kinde calls = %d (%v), want %d", gotTotal, k.calls, wantTotal)
			}
			if got, want := dir.auditActions(), tt.wantAudit; !slices.Equal(got, want) {
				t.Errorf("audit = %v, want %v", got, want)
			}
			if len(dir.invites) != tt.wantInvites {
				t.Errorf("invitations = %d, want %d", len(dir.invites), tt.wantInvites)
			}
			p := k.users["ana@example.org"]
			if got := k.rolesOf(riverside.Code, p.ID); !slices.Equal(got, tt.wantKindeRole) {
				t.Errorf("Kinde roles = %v, want %v", got, tt.wantKindeRole)
			}
			m, err := dir.Member(t.Context(), riverside.Code, p.ID)
			if err != nil || m.Pending {
				t.Errorf("directory member = %+v, %v; want an active membership", m, err)
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestAddMemberSameConfirmationWhetherOrNotKindeKnewThePerson(t *testing.T) {
	in := club.AddMemberInput{Email: "ana@example.org", FirstName: "Ana", LastName: "Lima", Roles: []string{"member"}}
	svcNew, _, _ := newService(t)
	gotNew, err := svcNew.AddMember(t.Context(), owner, riverside, testRoles, in)
	if err != nil {
		t.Fatal(err)
	}
	svcOld, _, k := newService(t)
	k.seedPerson("ana@example.org", hilltop.Code)
	gotOld, err := svcOld.AddMember(t.Context(), owner, riverside, testRoles, in)
	if err != nil {
		t.Fatal(err)
	}
	// Everything the owner can see must be equal: the outcome and the member
	// as shown (name typed by this club, email, roles, joined).
	strip := func(r club.AddResult) club.AddResult { r.Member.UserID = ""; return r }
	if fmt.Sprintf("%+v", strip(gotNew)) != fmt.Sprintf("%+v", strip(gotOld)) {
		t.Errorf("results differ:\nnew:      %+v\nexisting: %+v", gotNew, gotOld)
	}
}

func TestAddMemberEmailInUseMidRace(t *testing.T) {
	svc, dir, k := newService(t)
	// Another club creates the same person between our lookup and our create.
	k.onCall = func(method string) {
		if method == "CreatePerson" {
			k.onCall = nil
			k.seedPerson("ana@example.org", hilltop.Code)
		}
	}
	got, err := svc.AddMember(t.Context(), owner, riverside, testRoles, club.AddMemberInput{Email: "ana@example.org", Roles: []string{"coach"}})
	if err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	if got.AlreadyMember {
		t.Error("AlreadyMember = true, want a plain add")
	}
	if k.calls["FindPersonByEmail"] != 2 || k.calls["AddMember"] != 1 {
		t.Errorf("calls = %v, want a second lookup and one attach", k.calls)
	}
	if len(k.users) != 1 {
		t.Errorf("Kinde users = %d, want 1", len(k.users))
	}
	if got := k.rolesOf(riverside.Code, k.users["ana@example.org"].ID); !slices.Equal(got, []string{"coach"}) {
		t.Errorf("roles = %v, want [coach]", got)
	}
	if len(dir.invites) != 1 {
		t.Errorf("invites = %d, want 1", len(dir.invites))
	}
}

func TestAddMemberConcurrentDoubleSubmit(t *testing.T) {
	svc, dir, k := newService(t)
	in := club.AddMemberInput{Email: "new@example.org", FirstName: "New", Roles: []string{"member"}}
	const n = 8
	var wg sync.WaitGroup
	results := make([]club.AddResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = svc.AddMember(t.Context(), owner, riverside, testRoles, in)
		})
	}
	close(start)
	wg.Wait()
	added := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("submit %d: %v", i, errs[i])
		}
		if !results[i].AlreadyMember {
			added++
		}
	}
	if added != 1 {
		t.Errorf("adds reported = %d, want exactly 1 (the rest already a member)", added)
	}
	if len(k.users) != 1 || len(k.orgs[riverside.Code]) != 1 {
		t.Errorf("Kinde has %d users and %d memberships, want 1 and 1", len(k.users), len(k.orgs[riverside.Code]))
	}
	if k.calls["CreatePerson"] != 1 {
		t.Errorf("creates = %d, want 1", k.calls["CreatePerson"])
	}
	if len(dir.invites) != 1 {
		t.Errorf("invitations = %d, want 1", len(dir.invites))
	}
}

func TestAddMemberFaultBeforeRolesIsFinishedOnRetry(t *testing.T) {
	svc, dir, k := newService(t)
	k.fail["GrantRoles"] = club.Unavailable(errors.New("503"))
	in := club.AddMemberInput{Email: "ana@example.org", FirstName: "Ana", Roles: []string{"coach", "member"}}
	_, err := svc.AddMember(t.Context(), owner, riverside, testRoles, in)
	if club.ErrorCode(err) != club.EUNAVAILABLE {
		t.Fatalf("first attempt error = %v, want unavailable", err)
	}
	if page, _ := dir.Members(t.Context(), riverside.Code, club.MemberQuery{}); page.Total != 0 {
		t.Errorf("half-done member is listed: %+v", page.Members)
	}
	if len(dir.invites) != 0 {
		t.Errorf("invitation queued for an unfinished add")
	}
	before := k.total()
	got, err := svc.AddMember(t.Context(), owner, riverside, testRoles, in)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got.AlreadyMember {
		t.Error("retry reported already a member; want the add finished")
	}
	if calls := k.total() - before; calls != 1 {
		t.Errorf("retry made %d Kinde calls, want 1 (grant roles)", calls)
	}
	if roles := k.rolesOf(riverside.Code, got.Member.UserID); !slices.Equal(roles, []string{"coach", "member"}) {
		t.Errorf("Kinde roles = %v", roles)
	}
	if len(k.users) != 1 || len(dir.invites) != 1 {
		t.Errorf("users = %d, invites = %d; want 1 and 1", len(k.users), len(dir.invites))
	}
}

func TestAddMemberKindeUnavailableChangesNothing(t *testing.T) {
	for _, method := range []string{"FindPersonByEmail", "CreatePerson"} {
		t.Run(method, func(t *testing.T) {
			svc, dir, k := newService(t)
			k.fail[method] = club.Unavailable(errors.New("timeout"))
			_, err := svc.AddMember(t.Context(), owner, riverside, testRoles, club.AddMemberInput{Email: "ana@example.org", Roles: []string{"member"}})
			if !errors.Is(err, club.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if got, want := club.ErrorMessage(err), "Kinde did not answer. Nothing was changed. Try again in a minute."; got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
			if dir.writes != 0 || len(k.users) != 0 {
				t.Errorf("writes = %d, Kinde users = %d; want nothing changed", dir.writes, len(k.users))
			}
		})
	}
}

func TestAddMemberBadInputWritesNothing(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name  string
		in    club.AddMemberInput
		field string
	}{
		{"invalid email", club.AddMemberInput{Email: "not-an-email", Roles: []string{"member"}}, "email"},
		{"display-name email", club.AddMemberInput{Email: "Ana <ana@example.org>", Roles: []string{"member"}}, "email"},
		{"300-character name", club.AddMemberInput{Email: "ana@example.org", FirstName: string(long), Roles: []string{"member"}}, "first_name"},
		{"script in a name", club.AddMemberInput{Email: "ana@example.org", LastName: "<script>alert(1)</script>", Roles: []string{"member"}}, "last_name"},
		{"unknown role key", club.AddMemberInput{Email: "ana@example.org", Roles: []string{"superuser"}}, "roles"},
		{"no role", club.AddMemberInput{Email: "ana@example.org"}, "roles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, dir, k := newService(t)
			_, err := svc.AddMember(t.Context(), owner, riverside, testRoles, tt.in)
			var e *club.Error
			if !errors.As(err, &e) || e.Code != club.EINVALID || e.Fields[tt.field] == "" {
				t.Fatalf("err = %v, want EINVALID with a message for %s", err, tt.field)
			}
			if k.total() != 0 || dir.writes != 0 {
				t.Errorf("Kinde calls = %d, writes = %d; want none", k.total(), dir.writes)
			}
		})
	}
}

func TestAddMemberOnlyOwnersGrantOwner(t *testing.T) {
	svc, dir, k := newService(t)
	_, err := svc.AddMember(t.Context(), admin, riverside, testRoles, club.AddMemberInput{Email: "ana@example.org", Roles: []string{"owner"}})
	if club.ErrorCode(err) != club.EFORBIDDEN {
		t.Fatalf("err = %v, want forbidden", err)
	}
	if k.total() != 0 || dir.writes != 0 {
		t.Error("something was written")
	}
}

func TestChangeRolesGuardRails(t *testing.T) {
	setup := func(t *testing.T, owners int) (*club.Service, *memDirectory, *fakeIdentities) {
		svc, dir, k := newService(t)
		for i := range owners {
			id := fmt.Sprintf("kp_owner%d", i)
			dir.members[riverside.Code+"/"+id] = club.Member{ClubCode: riverside.Code, UserID: id, Email: id + "@example.org", Roles: []string{"owner"}}
			k.orgs[riverside.Code] = map[string][]string{}
		}
		dir.members[riverside.Code+"/kp_coach"] = club.Member{ClubCode: riverside.Code, UserID: "kp_coach", Email: "c@example.org", Roles: []string{"coach"}}
		return svc, dir, k
	}
	t.Run("last owner cannot be demoted", func(t *testing.T) {
		svc, dir, k := setup(t, 1)
		_, err := svc.ChangeRoles(t.Context(), owner, riverside, testRoles, "kp_owner0", []string{"admin"})
		if club.ErrorCode(err) != club.ECONFLICT {
			t.Fatalf("err = %v, want conflict", err)
		}
		if k.total() != 0 || dir.writes != 0 {
			t.Error("something changed")
		}
	})
	t.Run("last owner cannot be removed", func(t *testing.T) {
		svc, dir, k := setup(t, 1)
		_, err := svc.RemoveMember(t.Context(), owner, riverside, "kp_owner0")
		if club.ErrorCode(err) != club.ECONFLICT || k.total() != 0 || dir.writes != 0 {
			t.Fatalf("err = %v, calls = %d, writes = %d", err, k.total(), dir.writes)
		}
	})
	t.Run("one of two owners can be demoted", func(t *testing.T) {
		svc, dir, k := setup(t, 2)
		m, err := svc.ChangeRoles(t.Context(), owner, riverside, testRoles, "kp_owner0", []string{"admin"})
		if err != nil || !slices.Equal(m.Roles, []string{"admin"}) {
			t.Fatalf("ChangeRoles = %+v, %v", m, err)
		}
		if k.calls["GrantRoles"] != 1 || k.calls["RevokeRole"] != 1 || k.calls["RefreshClaims"] != 1 {
			t.Errorf("calls = %v", k.calls)
		}
		if _, ok := dir.stale["kp_owner0"]; !ok {
			t.Error("claims not marked stale")
		}
	})
	t.Run("admin cannot grant owner", func(t *testing.T) {
		svc, dir, k := setup(t, 1)
		_, err := svc.ChangeRoles(t.Context(), admin, riverside, testRoles, "kp_coach", []string{"owner"})
		if club.ErrorCode(err) != club.EFORBIDDEN || k.total() != 0 || dir.writes != 0 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("admin cannot remove an owner", func(t *testing.T) {
		svc, _, k := setup(t, 2)
		_, err := svc.RemoveMember(t.Context(), admin, riverside, "kp_owner0")
		if club.ErrorCode(err) != club.EFORBIDDEN || k.total() != 0 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("member of another club is not found", func(t *testing.T) {
		svc, _, k := setup(t, 1)
		_, err := svc.ChangeRoles(t.Context(), owner, hilltop, testRoles, "kp_coach", []string{"member"})
		if club.ErrorCode(err) != club.ENOTFOUND || k.total() != 0 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown role key", func(t *testing.T) {
		svc, _, k := setup(t, 1)
		_, err := svc.ChangeRoles(t.Context(), owner, riverside, testRoles, "kp_coach", []string{"wizard"})
		if club.ErrorCode(err) != club.EINVALID || k.total() != 0 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("removal marks claims stale and audits", func(t *testing.T) {
		svc, dir, k := setup(t, 1)
		if _, err := svc.RemoveMember(t.Context(), owner, riverside, "kp_coach"); err != nil {
			t.Fatal(err)
		}
		if k.calls["RemoveMember"] != 1 || dir.stale["kp_coach"].IsZero() || !slices.Contains(dir.auditActions(), club.ActionMemberRemoved) {
			t.Errorf("calls = %v, stale = %v, audit = %v", k.calls, dir.stale, dir.auditActions())
		}
	})
}

func TestCreateClubDoubleSubmitCreatesOne(t *testing.T) {
	svc, _, k := newService(t)
	nora := club.Actor{UserID: "kp_nora", Email: "nora@example.org", Name: "Nora Quinn"}
	var wg sync.WaitGroup
	codes := make([]string, 4)
	for i := range codes {
		wg.Go(func() {
			c, err := svc.CreateClub(t.Context(), nora, "Lakeside Chess")
			if err != nil {
				t.Error(err)
			}
			codes[i] = c.Code
		})
	}
	wg.Wait()
	if k.calls["CreateClub"] != 1 {
		t.Errorf("clubs created = %d, want 1", k.calls["CreateClub"])
	}
	for _, c := range codes {
		if c != codes[0] {
			t.Errorf("codes differ: %v", codes)
		}
	}
	if roles := k.rolesOf(codes[0], "kp_nora"); !slices.Equal(roles, []string{"owner"}) {
		t.Errorf("creator roles = %v, want [owner]", roles)
	}
}
