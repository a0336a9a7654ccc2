package reliability

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
	"github.com/clubhouse/clubhouse/internal/store"
)

// world is what every schedule of a test shares: one Kinde emulator with
// webhooks held, and one database with one or two portal instances on it.
type world struct {
	emu   *emulator.Emulator
	admin *kinde.Admin
	insts []*instance
}

type instance struct {
	db  *store.DB
	svc *club.Service
}

func newWorld(t *testing.T, dbURL string, instances int) *world {
	t.Helper()
	w := &world{emu: emulatortest.Start(t)}
	id, secret := emulatortest.M2M(t, w.emu)
	admin, err := kinde.NewAdmin(kinde.AdminConfig{Issuer: w.emu.Issuer(), ClientID: id, ClientSecret: secret,
		HTTPClient: &http.Client{Timeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	w.admin = admin
	if _, err := w.emu.World().CreateWebhook(emulator.Webhook{Name: "portal", Endpoint: "http://127.0.0.1:1/webhooks/kinde",
		EventTypes: kinde.WebhookEventTypes()}); err != nil {
		t.Fatal(err)
	}
	w.emu.HoldWebhooks(true)
	for range instances {
		db, err := store.Open(t.Context(), dbURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		w.insts = append(w.insts, &instance{db: db})
	}
	return w
}

// instances returns the portal instances of a schedule: services over the
// shared databases, pausing at the schedule's yield points.
func (w *world) instances(sc *schedule) []*instance {
	insts := make([]*instance, len(w.insts))
	for i, in := range w.insts {
		k := pausingIdentities{Identities: w.admin, s: sc.s, changed: sc.record}
		// An operation may wait many steps for its turn: the request
		// deadline is not what these schedules test.
		insts[i] = &instance{db: in.db, svc: club.NewService(pausingDirectory{Directory: in.db, s: sc.s}, k, nil, nil,
			club.WithoutPacing(), club.WithProviderDeadline(time.Hour))}
	}
	return insts
}

// runSchedule plays schedule n of seed and checks it; the error says what
// went wrong.
func (w *world) runSchedule(ctx context.Context, seed uint64, n int) error {
	sc, err := w.newSchedule(seed, n)
	if err != nil {
		return err
	}
	insts := w.instances(sc)
	for _, c := range sc.clubs { // the portal knows the clubs: a first sync
		if _, err := insts[0].svc.Sync(ctx, club.Actor{Name: "set-up"}, c); err != nil {
			return err
		}
	}
	sc.dropHeld()
	sc.plan()
	err = sc.play(ctx, insts)
	if err == nil {
		err = sc.check(ctx, insts[0])
	}
	if err != nil && os.Getenv("CLUBHOUSE_TRACE") != "" {
		err = fmt.Errorf("%w\n%s", err, strings.Join(sc.s.trace, "\n"))
	}
	return err
}

// play runs the operations and the webhook deliveries to the end, one
// step at a time, in the order the seed draws.
func (sc *schedule) play(ctx context.Context, insts []*instance) error {
	rng := sc.s.rng
	late := map[string]bool{} // held deliveries kept for the end
	pending := slices.Clone(sc.ops)
	for step := 0; ; step++ {
		if step > 5000 {
			return errStuck
		}
		if err := sc.s.err(); err != nil {
			return err
		}
		if err := sc.checkPages(ctx, insts[0]); err != nil {
			return err
		}
		runnable := sc.s.runnable()
		held := sc.held(late, len(pending) == 0 && len(runnable) == 0)
		choices := len(runnable) + len(pending) + len(held)
		if choices == 0 {
			if !sc.s.idle() {
				return errStuck
			}
			return sc.s.err()
		}
		inst := insts[rng.IntN(len(insts))]
		switch i := rng.IntN(choices); {
		case i < len(runnable):
			sc.s.trace = append(sc.s.trace, "resume "+runnable[i].name)
			sc.s.resume(runnable[i])
		case i < len(runnable)+len(pending):
			o := pending[i-len(runnable)]
			pending = slices.Delete(pending, i-len(runnable), i-len(runnable)+1)
			sc.s.trace = append(sc.s.trace, fmt.Sprintf("start %s on instance %d", o.name, slices.Index(insts, inst)))
			sc.s.start(ctx, o.name, func(ctx context.Context) error { return o.run(ctx, inst) })
		default:
			sc.deliver(ctx, held[i-len(runnable)-len(pending)], inst, late)
		}
	}
}

// held lists the deliveries that may go now: all of them at the end,
// else those not kept back to arrive late.
func (sc *schedule) held(late map[string]bool, end bool) []emulator.HeldDelivery {
	var out []emulator.HeldDelivery
	for _, d := range sc.w.emu.HeldWebhooks() {
		if end || !late[d.ID] {
			out = append(out, d)
		}
	}
	return out
}

// deliver delivers a held webhook as the portal's job would apply it:
// now, twice (it stays held for a second delivery), or not yet (late).
func (sc *schedule) deliver(ctx context.Context, d emulator.HeldDelivery, inst *instance, late map[string]bool) {
	switch sc.s.rng.IntN(6) {
	case 0:
		late[d.ID] = true
		return
	case 1: // delivered again later: it stays held
	default:
		if err := sc.w.emu.DropWebhook(d.ID); err != nil {
			sc.s.fail(err)
			return
		}
	}
	ev := eventOf(d)
	sc.s.trace = append(sc.s.trace, "deliver "+d.Type+" "+d.UserID+d.OrgCode)
	sc.s.start(ctx, "webhook "+d.Type+" "+d.UserID, func(ctx context.Context) error { return inst.svc.HandleIdentityEvent(ctx, ev) })
}

func (sc *schedule) dropHeld() {
	for _, d := range sc.w.emu.HeldWebhooks() {
		_ = sc.w.emu.DropWebhook(d.ID)
	}
}

// checkPages: no page shows a membership older than one shown before.
// What a page shows must be a state in the membership's history at or
// after the last one shown.
func (sc *schedule) checkPages(ctx context.Context, inst *instance) error {
	for _, c := range sc.clubs {
		page, err := inst.db.Members(ctx, c.Code, club.MemberQuery{Limit: 200})
		if err != nil {
			return err
		}
		listed := map[string]string{}
		for _, m := range page.Members {
			listed[m.UserID] = "roles:" + strings.Join(m.Roles, ",")
		}
		for key, h := range sc.history {
			code, id, _ := strings.Cut(key, "/")
			if code != c.Code {
				continue
			}
			shown := listed[id]
			i := slices.Index(h[sc.shown[key]:], shown)
			if i < 0 {
				return fmt.Errorf("club %s shows %s as %q after %q (history %q)", code, id, shown, h[sc.shown[key]], h)
			}
			sc.shown[key] += i
			delete(listed, id)
		}
		for id, shown := range listed {
			return fmt.Errorf("club %s shows %s as %q, never so in Kinde", c.Code, id, shown)
		}
	}
	return nil
}

// check is what must hold once the schedule settled.
func (sc *schedule) check(ctx context.Context, inst *instance) error {
	for _, c := range sc.clubs {
		if err := sc.checkClub(ctx, inst, c); err != nil {
			return err
		}
	}
	return nil
}

func (sc *schedule) checkClub(ctx context.Context, inst *instance, c club.Club) error {
	inKinde, err := sc.w.admin.ClubMembers(ctx, c.Code)
	if err != nil {
		return err
	}
	want, owners := []string{}, 0
	for _, m := range inKinde {
		slices.Sort(m.Roles)
		want = append(want, m.UserID+" "+strings.Join(m.Roles, ","))
		if slices.Contains(m.Roles, club.RoleOwner) {
			owners++
		}
	}
	page, err := inst.db.Members(ctx, c.Code, club.MemberQuery{Limit: 200})
	if err != nil {
		return err
	}
	got := []string{}
	for _, m := range page.Members {
		got = append(got, m.UserID+" "+strings.Join(m.Roles, ","))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return fmt.Errorf("club %s: directory %q, Kinde %q", c.Code, got, want)
	}
	if owners == 0 {
		return fmt.Errorf("club %s has no owner", c.Code)
	}
	return sc.checkTrail(ctx, inst, c)
}

// checkTrail: one invitation per added member, and no activity row that
// is not true. Every change in these schedules is the portal's own, so
// Kinde is never the author of a change, and reconciliation finds none.
func (sc *schedule) checkTrail(ctx context.Context, inst *instance, c club.Club) error {
	invs, err := inst.db.ClubInvitations(ctx, c.Code, 0, 500)
	if err != nil {
		return err
	}
	sent := map[string]int{}
	for _, it := range invs.Items {
		sent[it.Invitation.Email]++
	}
	for _, email := range sc.emails {
		// Added again only after a removal, and one invitation per add.
		added, removed := sc.added[c.Code+"/"+email], sc.removed[c.Code+"/"+email]
		if added > removed+1 || sent[email] != added {
			return fmt.Errorf("club %s: %s answered added %d times (removed %d), %d invitations", c.Code, email, added, removed, sent[email])
		}
	}
	page, err := inst.db.Events(ctx, club.AuditQuery{ClubCode: c.Code, Limit: 500})
	if err != nil {
		return err
	}
	for _, ev := range page.Events {
		if ev.Action == club.ActionSyncedFromProvider || (ev.Action == club.ActionClubSynced && ev.ActorName != "set-up") {
			return fmt.Errorf("club %s: activity %q %q is not true: the portal made every change", c.Code, ev.Action, ev.Detail)
		}
	}
	return nil
}

// schedules is how many schedules a test plays: a few hundred in make
// test, CLUBHOUSE_SCHEDULES in make soak.
func schedules(t *testing.T, def int) int {
	if s := os.Getenv("CLUBHOUSE_SCHEDULES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("CLUBHOUSE_SCHEDULES=%q: want a positive number", s)
		}
		return n
	}
	if raceSchedules > 0 {
		return raceSchedules
	}
	return def
}

// firstSeed is the seed of the first schedule; CLUBHOUSE_SEED replays one.
func firstSeed(t *testing.T) uint64 {
	if s := os.Getenv("CLUBHOUSE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CLUBHOUSE_SEED=%q: want a number", s)
		}
		return n
	}
	return 1
}

func runSchedules(t *testing.T, dbURL string, instances, def int) {
	w := newWorld(t, dbURL, instances)
	n, first := schedules(t, def), firstSeed(t)
	failed := 0
	for i := range n {
		seed := first + uint64(i)
		if err := w.runSchedule(t.Context(), seed, i); err != nil {
			failed++
			t.Errorf("schedule with seed %d failed (replay: CLUBHOUSE_SEED=%d CLUBHOUSE_SCHEDULES=1): %v", seed, seed, err)
			if failed >= 5 {
				break
			}
		}
	}
	t.Logf("%d schedules (seeds %d–%d) on %d instance(s): %d failed", n, first, first+uint64(n)-1, instances, failed)
}
