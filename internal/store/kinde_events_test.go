package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// The Kinde webhook behaviours of the store, on both databases.

func TestKindeEventsSQLite(t *testing.T) {
	t.Parallel()
	runKindeSuite(t, openSQLiteTest)
}

func TestKindeEventsPostgres(t *testing.T) {
	t.Parallel()
	postgresURL(t)
	runKindeSuite(t, openPostgresTest)
}

func runKindeSuite(t *testing.T, open func(t *testing.T) *DB) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, db *DB)
	}{
		{"RecordWebhookDeduplicates", testRecordWebhook},
		{"PersonEvents", testPersonEvents},
		{"OutOfOrderAndRepeated", testOutOfOrder},
		{"ConcurrentOutOfOrder", testConcurrentOutOfOrder},
		{"ClubEvents", testClubEvents},
		{"KnownClubs", testKnownClubs},
		{"BadEvents", testBadKindeEvents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

func testRecordWebhook(t *testing.T, db *DB) {
	ctx := t.Context()
	d := WebhookDelivery{ID: "msg_1", EventID: "event_1", EventType: club.EventPersonChanged, ReceivedAt: at(0)}
	calls := 0
	enqueue := func(ctx context.Context, tx *sql.Tx) error {
		calls++
		// The job is written in the delivery's transaction: here, a row
		// of the store's own stands in for it.
		_, err := tx.ExecContext(ctx, `INSERT INTO claims_stale (user_id, at) VALUES ($1, $2)`, fmt.Sprintf("job-%d", calls), db.ts(at(0)))
		return err
	}
	failing := func(ctx context.Context, tx *sql.Tx) error { return errors.New("queue is down") }

	steps := []struct {
		name      string
		d         WebhookDelivery
		enqueue   func(ctx context.Context, tx *sql.Tx) error
		wantDup   bool
		wantErr   bool
		wantCalls int
	}{
		{"enqueue fails: nothing recorded", d, failing, false, true, 0},
		{"first delivery", d, enqueue, false, false, 1},
		{"retry of the same delivery", d, enqueue, true, false, 1},
		{"another delivery", WebhookDelivery{ID: "msg_2", EventID: "event_2", ReceivedAt: at(1)}, enqueue, false, false, 2},
	}
	for _, s := range steps {
		dup, err := db.RecordWebhook(ctx, s.d, s.enqueue)
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: err = %v, want error %v", s.name, err, s.wantErr)
		}
		if dup != s.wantDup {
			t.Errorf("%s: duplicate = %v, want %v", s.name, dup, s.wantDup)
		}
		if calls != s.wantCalls {
			t.Errorf("%s: enqueue calls = %d, want %d", s.name, calls, s.wantCalls)
		}
	}
	var jobs int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM claims_stale WHERE user_id LIKE 'job-%'`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 2 {
		t.Errorf("jobs written = %d, want 2 (the failed attempt rolled back)", jobs)
	}
	if ok, err := deliveryRecorded(t, db, "msg_1"); err != nil || !ok {
		t.Errorf("WebhookDeliveryRecorded(msg_1) = %v, %v; want true", ok, err)
	}
	n, err := db.PruneWebhookDeliveries(ctx, at(1))
	if err != nil || n != 1 {
		t.Errorf("prune = %d, %v; want 1", n, err)
	}
	if ok, _ := deliveryRecorded(t, db, "msg_1"); ok {
		t.Error("msg_1 is still recorded after pruning")
	}
}

// personEvent builds a user.* event at minute min.
func personEvent(typ string, minute, user int, email, first string, clubs ...club.ClubRoles) club.IdentityEvent {
	return club.IdentityEvent{ID: fmt.Sprintf("event_%d_%d", user, minute), Type: typ, At: at(minute),
		Person: &club.PersonChange{Person: club.Person{ID: userID(user), Email: email, FirstName: first, LastName: "Kinde"},
			Deleted: typ == club.EventPersonDeleted, Clubs: clubs}}
}

func roles(code string, keys ...string) club.ClubRoles {
	return club.ClubRoles{Code: code, Roles: keys}
}

// apply writes what a re-read right now would find of the event's person
// or club (the event's own state, as Kinde has it now).
func apply(t *testing.T, db *DB, ev club.IdentityEvent) {
	t.Helper()
	applyAt(t, db, readVersion(t, db), ev)
}

// applyAt writes what a re-read that started at version v found: the
// event's state.
func applyAt(t *testing.T, db *DB, v club.Version, ev club.IdentityEvent) {
	t.Helper()
	var err error
	switch {
	case ev.Club != nil:
		err = db.ApplyClub(t.Context(), v, ev.Club.Club, ev.Club.Deleted)
	default:
		f := club.PersonFacts{Person: ev.Person.Person, Gone: ev.Person.Deleted, Clubs: map[string][]string{}}
		for _, cr := range ev.Person.Clubs {
			f.Clubs[cr.Code] = cr.Roles
		}
		_, err = db.ApplyPerson(t.Context(), v, f)
	}
	if err != nil {
		t.Fatalf("apply %s: %v", ev.ID, err)
	}
}

// clubsOf returns "club:roles" for each of the user's memberships in the
// given clubs, absent ones left out.
func clubsOf(t *testing.T, db *DB, id string, codes ...string) []string {
	t.Helper()
	var out []string
	for _, code := range codes {
		m, err := db.Member(t.Context(), code, id)
		if errors.Is(err, club.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, code+":"+joinRoles(m.Roles))
	}
	return out
}

func testPersonEvents(t *testing.T, db *DB) {
	ctx := t.Context()
	// org_a and org_b are known (a sync, a membership); org_x is not.
	if _, err := db.ReplaceMembers(ctx, club.Club{Code: "org_a", Name: "A"}, []club.Member{newMember("org_a", 1, "Ana", "Alves", club.RoleOwner)}, readVersion(t, db), at(0), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatal(err)
	}
	save(t, db, newMember("org_b", 1, "Ana", "Alves", club.RoleMember))
	u := 7
	steps := []struct {
		name  string
		ev    club.IdentityEvent
		want  []string
		stale bool
	}{
		{"created in a known club", personEvent(club.EventPersonChanged, 1, u, "Pat@Example.org", "Pat", roles("org_a", "member")),
			[]string{"org_a:member"}, true},
		{"joins another known club and an unknown one", personEvent(club.EventPersonChanged, 2, u, "pat@example.org", "Pat", roles("org_a", "member"), roles("org_b", "coach", "admin"), roles("org_x", "member")),
			[]string{"org_a:member", "org_b:admin, coach"}, true},
		{"roles change in one club", personEvent(club.EventPersonChanged, 3, u, "pat@example.org", "Pat", roles("org_a", "coach"), roles("org_b", "admin", "coach")),
			[]string{"org_a:coach", "org_b:admin, coach"}, true},
		{"profile change only", personEvent(club.EventPersonChanged, 4, u, "pat.new@example.org", "Patricia", roles("org_a", "coach"), roles("org_b", "admin", "coach")),
			[]string{"org_a:coach", "org_b:admin, coach"}, false},
		{"leaves a club, no roles in the other", personEvent(club.EventPersonChanged, 5, u, "pat.new@example.org", "Patricia", roles("org_b")),
			[]string{"org_b:none"}, true},
		{"deleted", personEvent(club.EventPersonDeleted, 6, u, "", ""), nil, true},
	}
	var prevStale time.Time
	for _, s := range steps {
		apply(t, db, s.ev)
		if got := clubsOf(t, db, userID(u), "org_a", "org_b", "org_x"); !slices.Equal(got, s.want) {
			t.Errorf("%s: memberships = %v, want %v", s.name, got, s.want)
		}
		stale, err := db.ClaimsStaleSince(ctx, userID(u))
		if err != nil {
			t.Fatal(err)
		}
		if got := stale.After(prevStale); got != s.stale {
			t.Errorf("%s: claims marked stale = %v, want %v", s.name, got, s.stale)
		}
		prevStale = stale
	}
	// The email followed Kinde, then went with the deleted person.
	wantNotFound(t, "person by old email", func() error { _, err := db.PersonByEmail(ctx, "pat@example.org"); return err }())
	wantNotFound(t, "person by email after delete", func() error { _, err := db.PersonByEmail(ctx, "pat.new@example.org"); return err }())

	// Each change is in the audit log, with Kinde as the actor.
	var kinde []string
	for _, ev := range allEvents(t, db) {
		if ev.Action == club.ActionSyncedFromProvider {
			kinde = append(kinde, ev.ClubCode+" "+ev.Detail)
		}
	}
	slices.Reverse(kinde)
	want := []string{
		"org_a added in Kinde, roles member",
		"org_b added in Kinde, roles admin, coach",
		"org_a roles member → coach in Kinde",
		"org_a removed in Kinde",
		"org_b roles admin, coach → none in Kinde",
		"org_b person deleted in Kinde",
	}
	if !slices.Equal(kinde, want) {
		t.Errorf("audit = %q\nwant %q", kinde, want)
	}

	// A club's own names win over Kinde's, as in a sync.
	save(t, db, newMember("org_a", 8, "Typed", "ByClub", club.RoleMember))
	apply(t, db, personEvent(club.EventPersonChanged, 10, 8, "user8@example.org", "Other", roles("org_a", "member", "coach")))
	m := mustMember(t, db, "org_a", userID(8))
	if m.FirstName != "Typed" || !slices.Equal(m.Roles, []string{"coach", "member"}) {
		t.Errorf("member = %+v, want the club's names and Kinde's roles", m)
	}
}

// testOutOfOrder applies re-reads that all overlapped in time (each started
// before any was written), in various orders. Reads that overlap may have
// seen Kinde in either order, so the first one written stands and each
// later one that differs is passed over and says so (its caller reads
// again): the directory never swaps a view for one that may be older.
func testOutOfOrder(t *testing.T, db *DB) {
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, nil, readVersion(t, db), at(0), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatal(err)
	}
	u := 3
	added := personEvent(club.EventPersonChanged, 1, u, "x@example.org", "X", roles("org_a", "member"))
	promoted := personEvent(club.EventPersonChanged, 2, u, "x@example.org", "X", roles("org_a", "admin"))
	removed := personEvent(club.EventPersonChanged, 3, u, "x@example.org", "X")
	deleted := personEvent(club.EventPersonDeleted, 4, u, "", "")
	tests := []struct {
		name  string
		order []club.IdentityEvent // reads started in minute order, applied in this order
		want  []string
	}{
		{"in order", []club.IdentityEvent{added, promoted}, []string{"org_a:member"}},
		{"reversed", []club.IdentityEvent{promoted, added}, []string{"org_a:admin"}},
		{"repeated", []club.IdentityEvent{added, added, promoted, promoted, added}, []string{"org_a:member"}},
		{"removal before the add", []club.IdentityEvent{removed, added, promoted}, nil},
		{"deleted before the updates", []club.IdentityEvent{deleted, promoted, added}, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A user per case; the reads start in the order of their
			// minutes.
			id := 100 + i
			versions := map[time.Time]club.Version{}
			for _, ev := range []club.IdentityEvent{added, promoted, removed, deleted} {
				versions[ev.At] = readVersion(t, db)
			}
			for _, ev := range tt.order {
				ev.Person = &club.PersonChange{Person: ev.Person.Person, Deleted: ev.Person.Deleted, Clubs: ev.Person.Clubs}
				ev.Person.Person.ID = userID(id)
				ev.Person.Person.Email = fmt.Sprintf("u%d@example.org", id)
				if ev.Person.Deleted {
					ev.Person.Person.Email = ""
				}
				applyAt(t, db, versions[ev.At], ev)
			}
			if got := clubsOf(t, db, userID(id), "org_a"); !slices.Equal(got, tt.want) {
				t.Errorf("memberships = %v, want %v", got, tt.want)
			}
		})
	}
}

// testConcurrentOutOfOrder applies a person's overlapping re-reads from
// many goroutines in a shuffled order, as several job workers (or
// instances) would: exactly one is written, and every other read that saw
// something else is told it was passed over (its caller reads again).
func testConcurrentOutOfOrder(t *testing.T, db *DB) {
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, nil, readVersion(t, db), at(0), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatal(err)
	}
	keys := []string{club.RoleMember, club.RoleCoach, club.RoleAdmin}
	const n = 30
	type read struct {
		v  club.Version
		ev club.IdentityEvent
	}
	reads := make([]read, n)
	for i := range n {
		reads[i] = read{readVersion(t, db), personEvent(club.EventPersonChanged, i+1, 5, "c@example.org", "C", roles("org_a", keys[i%len(keys)]))}
	}
	rand.Shuffle(n, func(i, j int) { reads[i], reads[j] = reads[j], reads[i] })
	var wg sync.WaitGroup
	errs := make(chan error, n)
	var staleReads atomic.Int32
	for _, r := range reads {
		wg.Go(func() {
			f := club.PersonFacts{Person: r.ev.Person.Person, Clubs: map[string][]string{"org_a": r.ev.Person.Clubs[0].Roles}}
			stale, err := db.ApplyPerson(t.Context(), r.v, f)
			if err != nil {
				errs <- err
			}
			if stale {
				staleReads.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("apply: %v", err)
	}
	got := clubsOf(t, db, userID(5), "org_a")
	if len(got) != 1 {
		t.Fatalf("memberships = %v, want one", got)
	}
	// Every other read overlapped the one written and is passed over; the
	// ones that saw something else are told so (their callers read again).
	differ := 0
	for _, r := range reads {
		if "org_a:"+r.ev.Person.Clubs[0].Roles[0] != got[0] {
			differ++
		}
	}
	if got := int(staleReads.Load()); got != differ {
		t.Errorf("%d reads told they were passed over, want the %d that saw other roles", got, differ)
	}
}

func testClubEvents(t *testing.T, db *DB) {
	ctx := t.Context()
	orgEvent := func(typ string, minute int, code, name string) club.IdentityEvent {
		return club.IdentityEvent{ID: fmt.Sprintf("event_%s_%d", code, minute), Type: typ, At: at(minute),
			Club: &club.ClubChange{Club: club.Club{Code: code, Name: name}, Deleted: typ == club.EventClubDeleted}}
	}
	apply(t, db, orgEvent(club.EventClubChanged, 1, "org_n", "New Club"))
	if c, err := db.Club(ctx, "org_n"); err != nil || c.Name != "New Club" {
		t.Fatalf("club = %+v, %v", c, err)
	}
	// A known club gets memberships from user events.
	apply(t, db, personEvent(club.EventPersonChanged, 2, 1, "a@example.org", "A", roles("org_n", "owner")))
	if got := clubsOf(t, db, userID(1), "org_n"); len(got) != 1 {
		t.Fatalf("memberships = %v, want one", got)
	}
	apply(t, db, orgEvent(club.EventClubChanged, 3, "org_n", "Renamed"))
	if c, _ := db.Club(ctx, "org_n"); c.Name != "Renamed" {
		t.Errorf("name = %q, want Renamed", c.Name)
	}
	stale := readVersion(t, db) - 10 // a read that started before the rename's
	applyAt(t, db, stale, orgEvent(club.EventClubChanged, 2, "org_n", "Stale name"))
	if c, _ := db.Club(ctx, "org_n"); c.Name != "Renamed" {
		t.Errorf("name after an older read = %q, want Renamed", c.Name)
	}
	apply(t, db, orgEvent(club.EventClubDeleted, 4, "org_n", ""))
	_, err := db.Club(ctx, "org_n")
	wantNotFound(t, "deleted club", err)
	if got := clubsOf(t, db, userID(1), "org_n"); len(got) != 0 {
		t.Errorf("memberships of a deleted club = %v", got)
	}
	// A late user event does not bring the deleted club back.
	apply(t, db, personEvent(club.EventPersonChanged, 5, 1, "a@example.org", "A", roles("org_n", "owner")))
	if got := clubsOf(t, db, userID(1), "org_n"); len(got) != 0 {
		t.Errorf("memberships after a late event = %v", got)
	}
}

func testKnownClubs(t *testing.T, db *DB) {
	ctx := t.Context()
	if _, err := db.ReplaceMembers(ctx, club.Club{Code: "org_synced", Name: "S"}, nil, readVersion(t, db), at(5), always(event("org_synced", club.ActionClubSynced))); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveClub(ctx, club.Club{Code: "org_created", Name: "C"}, userID(1), event("org_created", club.ActionClubCreated)); err != nil {
		t.Fatal(err)
	}
	save(t, db, newMember("org_members_only", 2, "B", "B"))
	got, err := db.KnownClubs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, c := range got {
		codes = append(codes, c.Code)
	}
	// Never synced first, then least recently synced.
	want := []string{"org_created", "org_members_only", "org_synced"}
	if !slices.Equal(codes, want) {
		t.Errorf("KnownClubs = %v, want %v", codes, want)
	}
}

func testBadKindeEvents(t *testing.T, db *DB) {
	if _, err := db.ApplyPerson(t.Context(), readVersion(t, db), club.PersonFacts{}); err == nil {
		t.Error("ApplyPerson without a person = nil error, want one")
	}
	if err := db.ApplyClub(t.Context(), readVersion(t, db), club.Club{}, false); err == nil {
		t.Error("ApplyClub without a club = nil error, want one")
	}
}

// Names a club typed (even none) are never filled in from Kinde, whether by
// a sync or by a webhook: they could be names another club typed. Names of
// a membership the club did not add itself come from Kinde.
func TestNamesByClubStayTheClubs(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *DB
	}{{"sqlite", openSQLiteTest}, {"postgres", openPostgresTest}} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.open(t)
			ctx := t.Context()
			typedNone := newMember("org_a", 1, "", "", club.RoleMember)
			typedNone.NamesByClub = true
			typed := newMember("org_a", 2, "Ana", "Alves", club.RoleMember)
			typed.NamesByClub = true
			save(t, db, typedNone, typed)

			// Kinde lists all three with the names it has.
			fromKinde := []club.Member{
				{UserID: userID(1), Email: typedNone.Email, FirstName: "Typed", LastName: "ByClubA", Roles: []string{club.RoleMember}},
				{UserID: userID(2), Email: typed.Email, FirstName: "Other", LastName: "Name", Roles: []string{club.RoleMember}},
				{UserID: userID(3), Email: "user3@example.org", FirstName: "Cleo", LastName: "Kinde", Roles: []string{club.RoleMember}},
			}
			if _, err := db.ReplaceMembers(ctx, club.Club{Code: "org_a"}, fromKinde, readVersion(t, db), at(1), always(event("org_a", club.ActionClubSynced))); err != nil {
				t.Fatal(err)
			}
			apply(t, db, personEvent(club.EventPersonChanged, 2, 1, typedNone.Email, "Webhook", roles("org_a", club.RoleMember)))

			want := map[string][2]string{userID(1): {"", ""}, userID(2): {"Ana", "Alves"}, userID(3): {"Cleo", "Kinde"}}
			for id, names := range want {
				m := mustMember(t, db, "org_a", id)
				if m.FirstName != names[0] || m.LastName != names[1] {
					t.Errorf("%s: names %q %q, want %q %q", id, m.FirstName, m.LastName, names[0], names[1])
				}
			}
			// A later write without the mark (a role change) keeps it.
			m := mustMember(t, db, "org_a", userID(1))
			m.NamesByClub, m.Roles = false, []string{club.RoleCoach}
			save(t, db, m)
			if got := mustMember(t, db, "org_a", userID(1)); !got.NamesByClub {
				t.Error("a role change dropped the club's claim on the names")
			}
			if got := mustMember(t, db, "org_a", userID(3)); got.NamesByClub {
				t.Error("a member first seen in a sync is marked as named by the club")
			}
		})
	}
}

// deliveryRecorded reports whether a webhook delivery with id is
// remembered.
func deliveryRecorded(t *testing.T, db *DB, id string) (bool, error) {
	t.Helper()
	var n int
	err := db.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM webhook_deliveries WHERE id = $1`, id).Scan(&n)
	return n > 0, err
}
