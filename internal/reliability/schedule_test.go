package reliability

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// One schedule: two clubs made for it in the shared emulator, each with two
// owners and a member, a pool of emails (new to Kinde, known from the other
// club, already members), and a seeded mix of operations on random
// instances, with Kinde's webhooks held and delivered late, out of order
// and twice. Then everything settles and the invariants are checked.

type schedule struct {
	w     *world
	n     int // the schedule's number, for unique names
	s     *scheduler
	clubs []club.Club
	// owners of each club at the start, by club code.
	owners map[string][]string
	emails []string
	// history of each membership as Kinde had it, by club + "/" + user id:
	// "" for not a member, else the sorted roles joined by commas.
	history map[string][]string
	shown   map[string]int // index in history of what a page last showed
	added   map[string]int // club + "/" + email -> adds that answered "added"
	removed map[string]int // club + "/" + email -> removals of that member
	ops     []op
}

type op struct {
	name string
	run  func(ctx context.Context, inst *instance) error
}

func (w *world) newSchedule(seed uint64, n int) (*schedule, error) {
	sc := &schedule{w: w, n: n, s: newScheduler(seed), owners: map[string][]string{},
		history: map[string][]string{}, shown: map[string]int{}, added: map[string]int{}, removed: map[string]int{}}
	world := w.emu.World()
	for i := range 2 {
		org, err := world.CreateOrg(fmt.Sprintf("Club %d-%d", n, i), "admin")
		if err != nil {
			return nil, err
		}
		c := club.Club{Code: org.Code, Name: org.Name}
		sc.clubs = append(sc.clubs, c)
		for j, roles := range [][]string{{club.RoleOwner}, {club.RoleOwner}, {club.RoleMember}} {
			u, err := world.CreateUser(emulator.User{Email: fmt.Sprintf("s%d-c%d-p%d@example.org", n, i, j)}, "", "admin")
			if err != nil {
				return nil, err
			}
			if err := world.AddMember(c.Code, u.ID, roles, "admin"); err != nil {
				return nil, err
			}
			if roles[0] == club.RoleOwner {
				sc.owners[c.Code] = append(sc.owners[c.Code], u.ID)
			}
			sc.record(c.Code, u.ID)
		}
	}
	sc.emails = []string{
		fmt.Sprintf("new%d-a@example.org", n), fmt.Sprintf("new%d-b@example.org", n),
		fmt.Sprintf("s%d-c0-p2@example.org", n), // a member of club 0, known to Kinde in club 1
		fmt.Sprintf("s%d-c1-p2@example.org", n),
	}
	return sc, nil
}

// record appends the membership's state in Kinde now to its history.
func (sc *schedule) record(code, userID string) {
	world := sc.w.emu.World()
	state := ""
	if world.IsMember(code, userID) {
		var keys []string
		for _, r := range world.MemberRoles(code, userID) {
			keys = append(keys, r.Key)
		}
		slices.Sort(keys)
		state = "roles:" + strings.Join(keys, ",")
	}
	k := code + "/" + userID
	h := sc.history[k]
	if len(h) == 0 {
		h = []string{""} // not a member before anything happened
	}
	if h[len(h)-1] != state {
		h = append(h, state)
	}
	sc.history[k] = h
}

// plan draws the schedule's operations.
func (sc *schedule) plan() {
	rng := sc.s.rng
	roleSets := [][]string{{club.RoleMember}, {club.RoleCoach}, {club.RoleAdmin, club.RoleCoach}}
	for range 3 + rng.IntN(3) {
		c := sc.clubs[rng.IntN(2)]
		email := sc.emails[rng.IntN(len(sc.emails))]
		roles := roleSets[rng.IntN(len(roleSets))]
		sc.ops = append(sc.ops, sc.addOp(c, email, roles))
		if rng.IntN(3) == 0 { // the same add, posted to both instances
			sc.ops = append(sc.ops, sc.addOp(c, email, roles))
		}
	}
	c := sc.clubs[0]
	a, b := sc.owners[c.Code][0], sc.owners[c.Code][1]
	sc.ops = append(sc.ops,
		sc.rolesOp(c, a, b, []string{club.RoleAdmin}), // two owners demote each other
		sc.rolesOp(c, b, a, []string{club.RoleAdmin}),
		sc.reconcileOp(sc.clubs[rng.IntN(2)]),
	)
	for range 1 + rng.IntN(2) {
		c := sc.clubs[rng.IntN(2)]
		sc.ops = append(sc.ops, sc.memberOp(c, roleSets[rng.IntN(len(roleSets))]))
	}
}

func (sc *schedule) addOp(c club.Club, email string, roles []string) op {
	return op{name: "add " + email + " to " + c.Code, run: func(ctx context.Context, inst *instance) error {
		res, err := inst.svc.AddMember(ctx, owner(c), c, testRoles, club.AddMemberInput{Email: email, Roles: roles})
		if err != nil {
			return err
		}
		if !res.AlreadyMember {
			sc.added[c.Code+"/"+email]++
		}
		return nil
	}}
}

// rolesOp: owner `by` sets `target`'s roles; refused when it would leave
// the club without an owner.
func (sc *schedule) rolesOp(c club.Club, by, target string, roles []string) op {
	return op{name: "roles of " + target, run: func(ctx context.Context, inst *instance) error {
		actor := club.Actor{UserID: by, Name: "Owner", Roles: []string{club.RoleOwner}}
		_, err := inst.svc.ChangeRoles(ctx, actor, c, testRoles, target, roles)
		return allowed(err)
	}}
}

// memberOp changes the roles of, or removes, a member the directory lists
// when the operation starts.
func (sc *schedule) memberOp(c club.Club, roles []string) op {
	remove := sc.s.rng.IntN(2) == 0
	pick := sc.s.rng.IntN(1 << 20)
	return op{name: "change a member of " + c.Code, run: func(ctx context.Context, inst *instance) error {
		page, err := inst.db.Members(ctx, c.Code, club.MemberQuery{Limit: 100})
		if err != nil {
			return err
		}
		var ms []club.Member
		for _, m := range page.Members {
			if !m.HasRole(club.RoleOwner) {
				ms = append(ms, m)
			}
		}
		if len(ms) == 0 {
			return nil
		}
		m := ms[pick%len(ms)]
		if remove {
			if _, err = inst.svc.RemoveMember(ctx, owner(c), c, m.UserID); err == nil {
				sc.removed[c.Code+"/"+m.Email]++
			}
		} else {
			_, err = inst.svc.ChangeRoles(ctx, owner(c), c, testRoles, m.UserID, roles)
		}
		return allowed(err)
	}}
}

func (sc *schedule) reconcileOp(c club.Club) op {
	return op{name: "reconcile " + c.Code, run: func(ctx context.Context, inst *instance) error {
		_, err := inst.svc.Reconcile(ctx, c)
		return err
	}}
}

// allowed passes the refusals a user may meet (the last owner, someone
// removed meanwhile) and returns anything else.
func allowed(err error) error {
	switch club.ErrorCode(err) {
	case "", club.ECONFLICT, club.ENOTFOUND:
		return nil
	}
	return err
}

func owner(c club.Club) club.Actor {
	return club.Actor{UserID: "owner-" + c.Code, Name: "Owner", Roles: []string{club.RoleOwner}}
}

var testRoles = []club.Role{
	{Key: club.RoleAdmin, Name: "Admin"}, {Key: club.RoleCoach, Name: "Coach"},
	{Key: club.RoleMember, Name: "Member"}, {Key: club.RoleOwner, Name: "Owner"},
}

// eventOf is the notification a held delivery carries.
func eventOf(d emulator.HeldDelivery) club.IdentityEvent {
	kind, _ := kinde.EventKind(d.Type)
	ev := club.IdentityEvent{ID: d.EventID, Type: kind, At: d.EventTime}
	if d.OrgCode != "" {
		ev.Club = &club.ClubChange{Club: club.Club{Code: d.OrgCode}, Deleted: kind == club.EventClubDeleted}
	} else {
		ev.Person = &club.PersonChange{Person: club.Person{ID: d.UserID}, Deleted: kind == club.EventPersonDeleted}
	}
	return ev
}

var errStuck = errors.New("schedule: no operation can go on")
