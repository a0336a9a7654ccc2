package club_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// fakeClock is a clock that only Kinde calls and the pacer's waits move.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	c.advance(d)
	return nil
}

// Club B must not learn from the time an add takes that someone already
// knew the person: every add of a person new to the club takes as long as
// creating them in Kinde, whichever way they were resolved.
func TestAddMemberTakesAsLongWhoeverKnewThePerson(t *testing.T) {
	dir, k := newMemDirectory(), newFakeIdentities()
	clock := &fakeClock{t: fixedNow()}
	const perCall = 120 * time.Millisecond
	k.onCall = func(string) { clock.advance(perCall) }
	svc := club.NewService(dir, k, fixedNow, nil, club.WithPacing(clock.now, clock.sleep))
	c := club.Club{Code: "org_b", Name: "Hilltop"}
	owner := club.Actor{UserID: "kp_owner", Name: "Owner", Roles: []string{club.RoleOwner}}

	// Known to Kinde from another club; known to the directory too.
	k.seedPerson("kinde-knows@example.org", "org_a")
	dirKnows := k.seedPerson("dir-knows@example.org", "org_a")
	dir.people["dir-knows@example.org"] = dirKnows

	add := func(email string) (took time.Duration, calls int) {
		t.Helper()
		before, start := k.total(), clock.now()
		res, err := svc.AddMember(t.Context(), owner, c, testRoles, club.AddMemberInput{Email: email, Roles: []string{club.RoleMember}})
		if err != nil || res.AlreadyMember {
			t.Fatalf("add %s: %+v, %v", email, res, err)
		}
		return clock.now().Sub(start), k.total() - before
	}
	newTook, newCalls := add("new@example.org")
	kindeTook, kindeCalls := add("kinde-knows@example.org")
	dirTook, dirCalls := add("dir-knows@example.org")

	if newCalls != 3 || kindeCalls != 2 || dirCalls != 1 {
		t.Fatalf("Kinde calls: new %d, Kinde knows %d, directory knows %d; want 3, 2, 1", newCalls, kindeCalls, dirCalls)
	}
	want := 3 * perCall
	for name, took := range map[string]time.Duration{"new person": newTook, "Kinde knew them": kindeTook, "directory knew them": dirTook} {
		if took != want {
			t.Errorf("%s: the add took %v, want %v like every other", name, took, want)
		}
	}
	if len(clock.waits) != 2 || clock.waits[0] != perCall || clock.waits[1] != 2*perCall {
		t.Errorf("pacer waited %v, want [%v %v]", clock.waits, perCall, 2*perCall)
	}

	// Adding someone already in the club tells nothing new: no wait. A
	// failed add is not held either.
	clock.waits = nil
	res, err := svc.AddMember(t.Context(), owner, c, testRoles, club.AddMemberInput{Email: "new@example.org", Roles: []string{club.RoleMember}})
	if err != nil || !res.AlreadyMember {
		t.Fatalf("second add: %+v, %v; want already a member", res, err)
	}
	k.fail["FindPersonByEmail"] = club.Errorf(club.EUNAVAILABLE, "down")
	if _, err := svc.AddMember(t.Context(), owner, c, testRoles, club.AddMemberInput{Email: "other@example.org", Roles: []string{club.RoleMember}}); err == nil {
		t.Fatal("add with Kinde down succeeded")
	}
	if len(clock.waits) != 0 {
		t.Errorf("pacer waited %v for an already-member and a failed add, want no waits", clock.waits)
	}
}

// The pacer follows Kinde's latency as it changes.
func TestPacerFollowsKindeLatency(t *testing.T) {
	dir, k := newMemDirectory(), newFakeIdentities()
	clock := &fakeClock{t: fixedNow()}
	latency := 50 * time.Millisecond
	k.onCall = func(string) { clock.advance(latency) }
	svc := club.NewService(dir, k, fixedNow, nil, club.WithPacing(clock.now, clock.sleep))
	owner := club.Actor{UserID: "kp_owner", Name: "Owner", Roles: []string{club.RoleOwner}}
	add := func(i int) {
		t.Helper()
		email := "p" + string(rune('a'+i)) + "@example.org"
		if _, err := svc.AddMember(t.Context(), owner, club.Club{Code: "org_b"}, testRoles, club.AddMemberInput{Email: email, Roles: []string{club.RoleMember}}); err != nil {
			t.Fatal(err)
		}
	}
	add(0)
	latency = 200 * time.Millisecond // Kinde slows down
	for i := 1; i <= 20; i++ {
		add(i)
	}
	k.seedPerson("known@example.org", "org_a")
	clock.waits = nil
	start := clock.now()
	if _, err := svc.AddMember(t.Context(), owner, club.Club{Code: "org_b"}, testRoles, club.AddMemberInput{Email: "known@example.org", Roles: []string{club.RoleMember}}); err != nil {
		t.Fatal(err)
	}
	if took := clock.now().Sub(start); took < 590*time.Millisecond || took > 600*time.Millisecond {
		t.Errorf("after Kinde slowed to %v a call, a known person's add took %v, want about %v", latency, took, 3*latency)
	}
}
