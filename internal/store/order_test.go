package store

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// The directory never goes backwards: each test is one of the ways an
// older view of Kinde used to replace a newer one, on both databases.

func TestOrderSQLite(t *testing.T) {
	t.Parallel()
	runOrderSuite(t, openSQLiteTest)
}

func TestOrderPostgres(t *testing.T) {
	t.Parallel()
	postgresURL(t)
	runOrderSuite(t, openPostgresTest)
}

func runOrderSuite(t *testing.T, open func(t *testing.T) *DB) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, db *DB)
	}{
		{"LateRereadKeepsFinishedAddsRoles", testLateRereadAfterAdd},
		{"RereadDuringAddIsTheAddsOwn", testRereadDuringAdd},
		{"LateSnapshotKeepsNewerAdd", testLateSnapshotKeepsAdd},
		{"SnapshotKeepsPendingAdds", testSnapshotKeepsPending},
		{"RemovalIsNotUndoneByOlderRead", testTombstone},
		{"OlderSnapshotAfterNewerReread", testSnapshotVersusReread},
		{"LateRemovalDoesNotUndoNewerAdd", testLateRemoval},
		{"LateImportDoesNotUndoNewerRemoval", testLateImport},
		{"PortalChangeWinsOverOlderRead", testPortalChangeWinsOverOlderRead},
		{"FinishAddOnce", testFinishAddOnce},
		{"FinishAddOnceAcrossInstances", testFinishAddAcrossInstances},
		{"LockExcludesAcrossInstances", testLockAcrossInstances},
		{"PruneOrder", testPruneOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

// kindeSees is what a re-read of user n finds: a member of org_a with
// roles (or of no club, with none given).
func kindeSees(n int, roles ...string) club.PersonFacts {
	m := newMember("org_a", n, "Kinde", "Name")
	f := club.PersonFacts{Person: club.Person{ID: m.UserID, Email: m.Email, FirstName: "Kinde", LastName: "Name"}, Clubs: map[string][]string{}}
	if roles != nil {
		f.Clubs["org_a"] = roles
	}
	return f
}

func applyPerson(t *testing.T, db *DB, v club.Version, f club.PersonFacts) {
	t.Helper()
	if _, err := db.ApplyPerson(t.Context(), v, f); err != nil {
		t.Fatalf("apply person: %v", err)
	}
}

func knownClub(t *testing.T, db *DB) {
	t.Helper()
	if err := db.SaveClub(t.Context(), club.Club{Code: "org_a", Name: "A"}, userID(999), event("org_a", club.ActionClubCreated)); err != nil {
		t.Fatal(err)
	}
}

// finishAdd finishes an add of m as the portal does, and reports whether
// this call finished it.
func finishAdd(t *testing.T, db *DB, m club.Member) bool {
	t.Helper()
	inv := club.Invitation{ClubCode: m.ClubCode, ClubName: "A", Email: m.Email}
	ok, err := db.FinishAdd(t.Context(), 0, m, event(m.ClubCode, club.ActionMemberAdded), &inv)
	if err != nil {
		t.Fatalf("finish add: %v", err)
	}
	return ok
}

// kindeActivity lists the club's activity rows written because Kinde said
// so.
func kindeActivity(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	for _, ev := range allEvents(t, db) {
		if ev.Action == club.ActionSyncedFromProvider {
			out = append(out, ev.Detail)
		}
	}
	return out
}

// A webhook for the in-between state of an add (created in the club, no
// roles yet) whose re-read started before the add finished, applied
// after: the member keeps the roles the add gave, and the club's activity
// has no "member → none" row.
func testLateRereadAfterAdd(t *testing.T, db *DB) {
	knownClub(t, db)
	m := newMember("org_a", 1, "Ana", "Alves", club.RoleMember)
	if err := db.StartAdd(t.Context(), "org_a", m.Email); err != nil {
		t.Fatal(err)
	}
	early := readVersion(t, db) // the webhook's re-read starts: no roles yet
	if !finishAdd(t, db, m) {
		t.Fatal("the add did not finish")
	}
	applyPerson(t, db, early, kindeSees(1))
	applyPerson(t, db, early, kindeSees(1, []string{}...))
	if got := mustMember(t, db, "org_a", m.UserID); !slices.Equal(got.Roles, []string{club.RoleMember}) || got.Pending {
		t.Errorf("member after a late re-read = %+v, want listed with role member", got)
	}
	if got := kindeActivity(t, db); len(got) != 0 {
		t.Errorf("activity from Kinde = %q, want none", got)
	}
}

// While an add is under way, what Kinde shows of it is the add's own: a
// re-read records it unlisted and writes no activity, so the club's
// activity reads the same whether or not Kinde knew the person.
func testRereadDuringAdd(t *testing.T, db *DB) {
	knownClub(t, db)
	m := newMember("org_a", 2, "Bo", "Berg", club.RoleCoach)
	m.NamesByClub = true
	if err := db.StartAdd(t.Context(), "org_a", m.Email); err != nil {
		t.Fatal(err)
	}
	applyPerson(t, db, readVersion(t, db), kindeSees(2, []string{}...))
	if got := listAll(t, db, "org_a"); len(got) != 0 {
		t.Fatalf("listed during the add: %v", ids(got))
	}
	if !finishAdd(t, db, m) {
		t.Fatal("the add did not finish: the re-read's row was taken for another add's")
	}
	got := mustMember(t, db, "org_a", m.UserID)
	if got.Pending || got.FirstName != "Bo" || !slices.Equal(got.Roles, []string{club.RoleCoach}) {
		t.Errorf("member = %+v, want listed with the club's names and role coach", got)
	}
	if acts := kindeActivity(t, db); len(acts) != 0 {
		t.Errorf("activity from Kinde = %q, want none", acts)
	}
}

// Reconciliation read Kinde before an add; its snapshot, applied after,
// does not remove the new member.
func testLateSnapshotKeepsAdd(t *testing.T, db *DB) {
	knownClub(t, db)
	owner := newMember("org_a", 1, "Olga", "Owner", club.RoleOwner)
	save(t, db, owner)
	v := readVersion(t, db) // reconciliation starts reading Kinde
	added := newMember("org_a", 3, "Cy", "Cole", club.RoleMember)
	if !finishAdd(t, db, added) {
		t.Fatal("the add did not finish")
	}
	changes, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, []club.Member{owner}, v, at(5), always(event("org_a", club.ActionClubSynced)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(listAll(t, db, "org_a")), []string{owner.UserID, added.UserID}; !slices.Equal(sorted(got), sorted(want)) {
		t.Errorf("members = %v, want %v", got, want)
	}
	if !changes.None() {
		t.Errorf("changes = %v, want none", changes)
	}
	// The next snapshot, read after the add, without the member: they left.
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, []club.Member{owner}, readVersion(t, db), at(6), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatal(err)
	}
	if got := ids(listAll(t, db, "org_a")); !slices.Equal(got, []string{owner.UserID}) {
		t.Errorf("members after a newer snapshot = %v, want only the owner", got)
	}
}

// A pending add is never removed by a snapshot or a re-read that does not
// list it.
func testSnapshotKeepsPending(t *testing.T, db *DB) {
	knownClub(t, db)
	p := newMember("org_a", 4, "Di", "Dale")
	p.Pending = true
	save(t, db, p)
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, nil, readVersion(t, db), at(1), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatal(err)
	}
	applyPerson(t, db, readVersion(t, db), kindeSees(4))
	if got := mustMember(t, db, "org_a", p.UserID); !got.Pending {
		t.Errorf("pending add = %+v, want kept pending", got)
	}
}

// A removal leaves a tombstone: a re-read or a snapshot that started
// before it cannot bring the member back; one that started after can.
func testTombstone(t *testing.T, db *DB) {
	knownClub(t, db)
	m := newMember("org_a", 5, "Ed", "East", club.RoleMember)
	save(t, db, m)
	early := readVersion(t, db)
	if err := db.DeleteMember(t.Context(), 0, "org_a", m.UserID, event("org_a", club.ActionMemberRemoved)); err != nil {
		t.Fatal(err)
	}
	applyPerson(t, db, early, kindeSees(5, club.RoleMember))
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, []club.Member{m}, early, at(2), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatal(err)
	}
	_, err := db.Member(t.Context(), "org_a", m.UserID)
	wantNotFound(t, "member brought back by an older read", err)

	applyPerson(t, db, readVersion(t, db), kindeSees(5, club.RoleAdmin))
	if got := mustMember(t, db, "org_a", m.UserID); !slices.Equal(got.Roles, []string{club.RoleAdmin}) {
		t.Errorf("member after a newer re-read = %+v, want back with role admin", got)
	}
	if got, want := kindeActivity(t, db), []string{"added in Kinde, roles admin"}; !slices.Equal(got, want) {
		t.Errorf("activity from Kinde = %q, want %q", got, want)
	}
}

// A snapshot started before a re-read that was applied first does not
// undo the re-read, in either direction (a join, a role change).
func testSnapshotVersusReread(t *testing.T, db *DB) {
	knownClub(t, db)
	a := newMember("org_a", 6, "Fay", "Fox", club.RoleMember)
	save(t, db, a)
	snap := readVersion(t, db)
	applyPerson(t, db, readVersion(t, db), kindeSees(6, club.RoleAdmin))
	applyPerson(t, db, readVersion(t, db), kindeSees(7, club.RoleMember))
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, []club.Member{a}, snap, at(3), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatal(err)
	}
	if got := mustMember(t, db, "org_a", a.UserID); !slices.Equal(got.Roles, []string{club.RoleAdmin}) {
		t.Errorf("roles = %v, want the re-read's admin", got.Roles)
	}
	if _, err := db.Member(t.Context(), "org_a", userID(7)); err != nil {
		t.Errorf("a member the re-read found was removed by an older snapshot: %v", err)
	}
	// And a re-read older than the snapshot changes nothing after it.
	snap2 := readVersion(t, db)
	stale := snap2 - 1
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, []club.Member{{UserID: a.UserID, Email: a.Email, Roles: []string{club.RoleCoach}}}, snap2, at(4), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatal(err)
	}
	applyPerson(t, db, stale, kindeSees(6, club.RoleOwner))
	if got := mustMember(t, db, "org_a", a.UserID); !slices.Equal(got.Roles, []string{club.RoleCoach}) {
		t.Errorf("roles = %v, want the newer snapshot's coach", got.Roles)
	}
}

// Two finishes of the same add: exactly one writes the member, the audit
// row and the invitation.
func testFinishAddOnce(t *testing.T, db *DB) {
	m := newMember("org_a", 8, "Gil", "Gray", club.RoleMember)
	first, second := finishAdd(t, db, m), finishAdd(t, db, m)
	if !first || second {
		t.Errorf("finished = %v then %v, want true then false", first, second)
	}
	if got := actions(allEvents(t, db)); !slices.Equal(got, []string{club.ActionMemberAdded}) {
		t.Errorf("audit = %v, want one add", got)
	}
	if got := invitationCount(t, db, "org_a"); got != 1 {
		t.Errorf("invitations = %d, want 1", got)
	}
}

// The same add finished by two instances at once, many times over:
// exactly one wins each time.
func testFinishAddAcrossInstances(t *testing.T, db *DB) {
	other := reopen(t, db)
	const rounds = 20
	for i := range rounds {
		m := newMember("org_a", 100+i, "", "", club.RoleMember)
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, inst := range []*DB{db, other} {
			wg.Go(func() {
				<-start
				inv := club.Invitation{ClubCode: "org_a", Email: m.Email}
				ok, err := inst.FinishAdd(context.WithoutCancel(t.Context()), 0, m, event("org_a", club.ActionMemberAdded), &inv)
				if err != nil {
					t.Errorf("finish add: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if got := wins.Load(); got != 1 {
			t.Fatalf("round %d: %d instances finished the add, want 1", i, got)
		}
	}
	if got := invitationCount(t, db, "org_a"); got != rounds {
		t.Errorf("invitations = %d, want %d (one per add)", got, rounds)
	}
	if got := len(allEvents(t, db)); got != rounds {
		t.Errorf("audit rows = %d, want %d", got, rounds)
	}
}

// A lock is held by one instance at a time: another instance cannot take
// it while it is held, takes it once it is let go, and a waiter that gives
// up takes nothing.
func testLockAcrossInstances(t *testing.T, db *DB) {
	other := reopen(t, db)
	key := lockKey("club", "org_a")
	unlock, err := db.Lock(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if free(t, other, key) {
		t.Fatal("a second instance could take a held lock")
	}
	if !free(t, other, lockKey("club", "org_b")) {
		t.Fatal("another key is taken too")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := other.Lock(ctx, key); err == nil {
		t.Fatal("a waiter whose context ended took the lock")
	}
	got := make(chan func(), 1)
	go func() {
		u, err := other.Lock(t.Context(), key)
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		got <- u
	}()
	unlock()
	(<-got)() // the waiter gets it once it is let go, and lets go in turn
	if !free(t, db, key) {
		t.Error("the lock is still held after both let go")
	}
}

// free reports whether db could take the lock named key now, without
// waiting (and lets go of it at once when it could).
func free(t *testing.T, db *DB, key string) bool {
	t.Helper()
	ctx := t.Context()
	if db.dialect == DialectPostgres {
		var ok bool
		if err := db.write.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, lockID(key)).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			if _, err := db.write.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, lockID(key)); err != nil {
				t.Fatal(err)
			}
		}
		return ok
	}
	ok, err := db.tryLease(ctx, key, "probe")
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		if _, err := db.write.ExecContext(ctx, `DELETE FROM directory_locks WHERE key = $1 AND holder = 'probe'`, key); err != nil {
			t.Fatal(err)
		}
	}
	return ok
}

// Tombstones and adds that never finished are forgotten after a while.
func testPruneOrder(t *testing.T, db *DB) {
	m := newMember("org_a", 9, "Hal", "Hill")
	save(t, db, m)
	if err := db.DeleteMember(t.Context(), 0, "org_a", m.UserID, event("org_a", club.ActionMemberRemoved)); err != nil {
		t.Fatal(err)
	}
	if err := db.StartAdd(t.Context(), "org_a", "someone@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := db.PruneOrder(t.Context(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"membership_tombstones", "member_changes"} {
		var n int
		if err := db.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows after pruning, want 0", table, n)
		}
	}
}

func invitationCount(t *testing.T, db *DB, clubCode string) int {
	t.Helper()
	page, err := db.ClubInvitations(t.Context(), clubCode, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return page.Total
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// The portal removed a member, then added them again; the removal's save
// ran last (another instance, a slow transaction). The member stays: the
// removal is older than the add, as Kinde made them. (Found by the soak:
// the save used to take its version when it ran.)
func testLateRemoval(t *testing.T, db *DB) {
	knownClub(t, db)
	m := newMember("org_a", 20, "Ivy", "Ives", club.RoleMember)
	save(t, db, m)
	removedAt := readVersion(t, db) // Kinde removed them
	addedAt := readVersion(t, db)   // then Kinde added them again
	inv := club.Invitation{ClubCode: "org_a", Email: m.Email}
	if _, err := db.FinishAdd(t.Context(), addedAt, m, event("org_a", club.ActionMemberAdded), &inv); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteMember(t.Context(), removedAt, "org_a", m.UserID, event("org_a", club.ActionMemberRemoved)); err != nil {
		t.Fatal(err)
	}
	if got := mustMember(t, db, "org_a", m.UserID); got.Pending || !slices.Equal(got.Roles, []string{club.RoleMember}) {
		t.Errorf("member after a late removal = %+v, want listed with role member", got)
	}
}

// A re-read began before the portal changed a member's roles, and was
// written first (its write is stamped after it ended, later than the
// portal's change). The portal's change still lands: Kinde made it after
// the read began, so it is newer than what the read saw.
func testPortalChangeWinsOverOlderRead(t *testing.T, db *DB) {
	knownClub(t, db)
	m := newMember("org_a", 21, "Jo", "Jones", club.RoleMember)
	save(t, db, m)
	if err := db.StartChange(t.Context(), "org_a", m.UserID); err != nil {
		t.Fatal(err)
	}
	began := readVersion(t, db)   // the re-read begins: roles member
	changed := readVersion(t, db) // Kinde makes the portal's change: coach
	applyPerson(t, db, began, kindeSees(21, club.RoleMember))
	m.Roles = []string{club.RoleCoach}
	ev := event("org_a", club.ActionMemberRolesChanged)
	if err := db.SaveMember(t.Context(), changed, m, &ev, nil); err != nil {
		t.Fatal(err)
	}
	if got := mustMember(t, db, "org_a", m.UserID); !slices.Equal(got.Roles, []string{club.RoleCoach}) {
		t.Errorf("roles = %v, want the portal's coach", got.Roles)
	}
	if acts := kindeActivity(t, db); len(acts) != 0 {
		t.Errorf("activity from Kinde = %q, want none", acts)
	}
}

// lockKey is the text of a lock's key, as the domain builds them.
func lockKey(parts ...string) string { return strings.Join(parts, "\x00") }

// An import added a person in Kinde; an owner then removed them, and the
// removal was saved before the import's row. The import's save does not
// bring them back: it is as of when Kinde did the import's work.
func testLateImport(t *testing.T, db *DB) {
	knownClub(t, db)
	id := createImport(t, db, "org_a", "late", importRows(1))
	m := newMember("org_a", 22, "Kit", "Kane", club.RoleMember)
	imported := readVersion(t, db)
	save(t, db, m) // the directory heard of them meanwhile (a re-read)
	if err := db.DeleteMember(t.Context(), readVersion(t, db), "org_a", m.UserID, event("org_a", club.ActionMemberRemoved)); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveImportRows(t.Context(), id, imported, nil, []club.Member{m}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := db.Member(t.Context(), "org_a", m.UserID)
	wantNotFound(t, "a member removed after the import's work", err)
}
