package reliability

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// Scripted schedules: the two races that used to break the invariants,
// played in their worst interleaving (each step goes to the other
// operation whenever it can go on), on both databases.

func TestOwnersDemotingEachOtherKeepAnOwner(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, w *world) {
		sc, insts := w.scripted(t)
		c := sc.clubs[0]
		a, b := sc.owners[c.Code][0], sc.owners[c.Code][1]
		errs := sc.alternate(t, insts, sc.rolesOpErr(c, a, b), sc.rolesOpErr(c, b, a))
		refused := 0
		for _, err := range errs {
			switch club.ErrorCode(err) {
			case "":
			case club.ECONFLICT:
				refused++
			default:
				t.Fatalf("demote: %v", err)
			}
		}
		if refused != 1 {
			t.Errorf("%d of the two demotions refused, want 1 (errors %v)", refused, errs)
		}
		if err := sc.checkClub(t.Context(), insts[0], c); err != nil {
			t.Error(err)
		}
	})
}

// The same add posted to both instances at once, twice over: once for a
// person new to Kinde, and once to finish an add that stopped half-way
// (the person created in the club, the roles not yet granted), which both
// instances find pending.
func TestSameAddOnTwoInstancesAddsOnce(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, w *world) {
		sc, insts := w.scripted(t)
		c := sc.clubs[1]
		sameAddTwice(t, sc, insts, c, sc.emails[0])

		email := sc.emails[1]
		u, err := w.emu.World().CreateUser(emulator.User{Email: email}, "", "admin")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.emu.World().AddMember(c.Code, u.ID, nil, "admin"); err != nil {
			t.Fatal(err)
		}
		sc.record(c.Code, u.ID)
		halfway := club.Member{ClubCode: c.Code, UserID: u.ID, Email: email, Roles: []string{}, Pending: true, NamesByClub: true}
		if err := insts[0].db.SaveMember(t.Context(), 0, halfway, nil, nil); err != nil {
			t.Fatal(err)
		}
		sc.dropHeld()
		sameAddTwice(t, sc, insts, c, email)
	})
}

func sameAddTwice(t *testing.T, sc *schedule, insts []*instance, c club.Club, email string) {
	t.Helper()
	{
		add := sc.addOp(c, email, []string{club.RoleMember})
		for _, err := range sc.alternate(t, insts, add.run, add.run) {
			if err != nil {
				t.Fatal(err)
			}
		}
		sc.settle(t, insts)
		if err := sc.check(t.Context(), insts[0]); err != nil {
			t.Error(err)
		}
		if got := sc.added[c.Code+"/"+email]; got != 1 {
			t.Errorf("%d adds answered added, want 1", got)
		}
	}
}

// forEachDatabase runs fn over one instance on SQLite and two on
// PostgreSQL.
func forEachDatabase(t *testing.T, fn func(t *testing.T, w *world)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, newWorld(t, "sqlite:"+filepath.Join(t.TempDir(), "clubhouse.db"), 1))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, newWorld(t, postgresSchema(t), 2))
	})
}

// scripted sets up one schedule's clubs, synced, with no operations.
func (w *world) scripted(t *testing.T) (*schedule, []*instance) {
	t.Helper()
	sc, err := w.newSchedule(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	insts := w.instances(sc)
	for _, c := range sc.clubs {
		if _, err := insts[0].svc.Sync(t.Context(), club.Actor{Name: "set-up"}, c); err != nil {
			t.Fatal(err)
		}
	}
	sc.dropHeld()
	return sc, insts
}

func (sc *schedule) rolesOpErr(c club.Club, by, target string) func(ctx context.Context, inst *instance) error {
	return func(ctx context.Context, inst *instance) error {
		actor := club.Actor{UserID: by, Name: "Owner", Roles: []string{club.RoleOwner}}
		_, err := inst.svc.ChangeRoles(ctx, actor, c, testRoles, target, []string{club.RoleAdmin})
		return err
	}
}

// alternate runs the operations, the i-th on instance i (mod the
// instances), giving each step to another operation than the last one
// whenever another can go on, and returns their errors.
func (sc *schedule) alternate(t *testing.T, insts []*instance, ops ...func(ctx context.Context, inst *instance) error) []error {
	t.Helper()
	errs := make([]error, len(ops))
	var mu sync.Mutex
	for i, op := range ops {
		inst := insts[i%len(insts)]
		sc.s.start(t.Context(), "op", func(ctx context.Context) error {
			err := op(ctx, inst)
			mu.Lock()
			errs[i] = err
			mu.Unlock()
			return nil
		})
	}
	var last *task
	for step := 0; step < 1000; step++ {
		runnable := sc.s.runnable()
		if len(runnable) == 0 {
			break
		}
		next := runnable[0]
		for _, r := range runnable {
			if r != last {
				next = r
				break
			}
		}
		last = next
		sc.s.resume(next)
	}
	if !sc.s.idle() {
		t.Fatal(errStuck)
	}
	mu.Lock()
	defer mu.Unlock()
	return errs
}

// settle delivers every held webhook, in order.
func (sc *schedule) settle(t *testing.T, insts []*instance) {
	t.Helper()
	for _, d := range sc.w.emu.HeldWebhooks() {
		if err := sc.w.emu.DropWebhook(d.ID); err != nil {
			t.Fatal(err)
		}
		if err := insts[0].svc.HandleIdentityEvent(t.Context(), eventOf(d)); err != nil {
			t.Fatal(err)
		}
	}
}
