package store

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// runSuite runs every behaviour of the store against the databases open
// returns. Each subtest gets a fresh, empty database.
func runSuite(t *testing.T, open func(t *testing.T) *DB) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, db *DB)
	}{
		{"OpenTwiceMigratesOnce", testOpenTwice},
		{"MigrationsGoDownAndUp", testMigrationsDownUp},
		{"PersonByEmail", testPersonByEmail},
		{"SaveMemberUpserts", testSaveMemberUpserts},
		{"SaveMemberIsAtomic", testSaveMemberAtomic},
		{"RecycledEmail", testRecycledEmail},
		{"NamesArePerClub", testNamesPerClub},
		{"MemberNotFound", testMemberNotFound},
		{"MembersSortAndPage", testMembersSortAndPage},
		{"MembersSearch", testMembersSearch},
		{"MembersExcludePendingAndOtherClubs", testMembersExcludePending},
		{"CountWithRole", testCountWithRole},
		{"DeleteMember", testDeleteMember},
		{"ReplaceMembers", testReplaceMembers},
		{"ReplaceMembersIsAtomic", testReplaceMembersAtomic},
		{"ReplaceMembersReportsChanges", testReplaceMembersReportsChanges},
		{"ReplaceMembersLarge", testReplaceMembersLarge},
		{"ReplaceMembersSwapsEmails", testReplaceMembersSwap},
		{"ReplaceMembersLongNames", testReplaceMembersLongNames},
		{"SaveClubAndRecentByCreator", testSaveClub},
		{"RenameClub", testRenameClub},
		{"ClaimsStale", testClaimsStale},
		{"AuditEvents", testAuditEvents},
		{"AuditIsAppendOnly", testAuditAppendOnly},
		{"AuditOrigin", testAuditOrigin},
		{"MembersWithRole", testMembersWithRole},
		{"OutboxLifecycle", testOutboxLifecycle},
		{"OutboxMarkFailedIsAtomic", testMarkFailedAtomic},
		{"OutboxStaleAttemptChangesNothing", testOutboxStaleAttempt},
		{"OutboxMarksConcurrently", testOutboxMarksConcurrently},
		{"OutboxJobCommitsWithTheRow", testOutboxJobCommitsWithRow},
		{"OutboxJobRollsBackWithTheMember", testOutboxJobRollsBack},
		{"DueInvitations", testDueInvitations},
		{"OutboxRecent", testOutboxRecent},
		{"QueueInvitation", testQueueInvitation},
		{"QueueInvitationRace", testQueueInvitationRace},
		{"ClubInvitations", testClubInvitations},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Sessions", testSessions},
		{"DevMailbox", testDevMailbox},
		{"TimestampsAreUTC", testTimestampsUTC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

// base is the suite's fixed "now".
func base() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }

func at(minutes int) time.Time { return base().Add(time.Duration(minutes) * time.Minute) }

func userID(n int) string { return fmt.Sprintf("kp_%032x", n) }

func newMember(clubCode string, n int, first, last string, roles ...string) club.Member {
	if roles == nil {
		roles = []string{}
	}
	return club.Member{
		ClubCode: clubCode, UserID: userID(n), Email: fmt.Sprintf("user%d@example.org", n),
		FirstName: first, LastName: last, Roles: roles, JoinedAt: at(n),
	}
}

func event(clubCode, action string) club.AuditEvent {
	return club.AuditEvent{ClubCode: clubCode, ActorID: userID(999), ActorName: "Olga Owner", Action: action, At: base()}
}

// always records ev whatever a ReplaceMembers changed.
func always(ev club.AuditEvent) func(club.SyncChanges) *club.AuditEvent {
	return func(club.SyncChanges) *club.AuditEvent { return &ev }
}

func save(t *testing.T, db *DB, ms ...club.Member) {
	t.Helper()
	for _, m := range ms {
		if err := db.SaveMember(t.Context(), 0, m, nil, nil); err != nil {
			t.Fatalf("save member %s: %v", m.UserID, err)
		}
	}
}

func mustMember(t *testing.T, db *DB, clubCode, id string) club.Member {
	t.Helper()
	m, err := db.Member(t.Context(), clubCode, id)
	if err != nil {
		t.Fatalf("member %s/%s: %v", clubCode, id, err)
	}
	return m
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, club.ErrNotFound) {
		t.Errorf("%s: err = %v, want club.ErrNotFound", what, err)
	}
}

func allEvents(t *testing.T, db *DB) []club.AuditEvent {
	t.Helper()
	p, err := db.Events(t.Context(), club.AuditQuery{Limit: maxAuditPage})
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	return p.Events
}

func actions(evs []club.AuditEvent) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, ev.Action)
	}
	return out
}

func ids(ms []club.Member) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.UserID)
	}
	return out
}

func listAll(t *testing.T, db *DB, clubCode string) []club.Member {
	t.Helper()
	p, err := db.Members(t.Context(), clubCode, club.MemberQuery{Limit: club.MaxPageSize})
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	return p.Members
}

func testOpenTwice(t *testing.T, db *DB) {
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	save(t, db, newMember("org_a", 1, "Ana", "Alves", club.RoleOwner))
	other := reopen(t, db)
	if got, want := other.Dialect(), db.Dialect(); got != want {
		t.Errorf("Dialect() = %q, want %q", got, want)
	}
	if _, err := other.Member(t.Context(), "org_a", userID(1)); err != nil {
		t.Errorf("second instance does not see the first's data: %v", err)
	}
}

func testMigrationsDownUp(t *testing.T, db *DB) {
	p, err := migrations(t.Context(), db.dialect, db.write, testLogger(t))
	if err != nil {
		t.Fatalf("migrations: %v", err)
	}
	if _, err := p.DownTo(t.Context(), 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	if _, err := db.Member(t.Context(), "org_a", userID(1)); err == nil || errors.Is(err, club.ErrNotFound) {
		t.Errorf("Member after migrating down = %v, want an error about the missing table", err)
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatalf("up again: %v", err)
	}
	save(t, db, newMember("org_a", 1, "Ana", "Alves", club.RoleOwner))
	if err := db.Append(t.Context(), event("org_a", club.ActionMemberAdded)); err != nil {
		t.Fatalf("append after up: %v", err)
	}
	if _, err := db.write.ExecContext(t.Context(), "DELETE FROM audit_events"); err == nil {
		t.Error("the append-only trigger is missing after migrating up again")
	}
}

func testPersonByEmail(t *testing.T, db *DB) {
	_, err := db.PersonByEmail(t.Context(), "nobody@example.org")
	wantNotFound(t, "unknown email", err)
	_, err = db.PersonByEmail(t.Context(), "")
	wantNotFound(t, "empty email", err)

	m := newMember("org_a", 1, "Ana", "Alves", club.RoleMember)
	m.Email = "Ana.Alves@Example.org"
	save(t, db, m)
	for _, in := range []string{"ana.alves@example.org", "  ANA.ALVES@example.org "} {
		t.Run(in, func(t *testing.T) {
			got, err := db.PersonByEmail(t.Context(), in)
			if err != nil {
				t.Fatalf("PersonByEmail: %v", err)
			}
			// No names: they are the club's, and the caller may be another club.
			if want := (club.Person{ID: userID(1), Email: "ana.alves@example.org"}); got != want {
				t.Errorf("PersonByEmail = %+v, want %+v", got, want)
			}
		})
	}
}

func testSaveMemberUpserts(t *testing.T, db *DB) {
	m := newMember("org_a", 1, "Ana", "Alves", club.RoleMember, club.RoleCoach)
	save(t, db, m)
	got := mustMember(t, db, "org_a", m.UserID)
	want := m
	want.Roles = []string{club.RoleCoach, club.RoleMember}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after insert: got %+v, want %+v", got, want)
	}

	// Roles are replaced, not merged; a zero JoinedAt keeps the stored one.
	m2 := m
	m2.FirstName, m2.LastName = "Ana Maria", "Alves-Silva"
	m2.Roles = []string{club.RoleOwner, club.RoleOwner, club.RoleAdmin}
	m2.JoinedAt = time.Time{}
	save(t, db, m2)
	got = mustMember(t, db, "org_a", m.UserID)
	want = m
	want.FirstName, want.LastName = "Ana Maria", "Alves-Silva"
	want.Roles = []string{club.RoleAdmin, club.RoleOwner}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after update: got %+v, want %+v", got, want)
	}

	// An empty email keeps the known address.
	noEmail := m2
	noEmail.Email = ""
	save(t, db, noEmail)
	if got := mustMember(t, db, "org_a", m.UserID).Email; got != m.Email {
		t.Errorf("email after saving without one = %q, want %q", got, m.Email)
	}

	// Pending memberships are stored and returned as pending.
	p := newMember("org_a", 2, "", "")
	p.Pending = true
	save(t, db, p)
	if got := mustMember(t, db, "org_a", p.UserID); !got.Pending || len(got.Roles) != 0 {
		t.Errorf("pending member = %+v, want pending without roles", got)
	}

	// A new membership without a join time is stamped now.
	db.now = func() time.Time { return at(500) }
	n := newMember("org_a", 3, "Nia", "Neves", club.RoleMember)
	n.JoinedAt = time.Time{}
	save(t, db, n)
	if got := mustMember(t, db, "org_a", n.UserID).JoinedAt; !got.Equal(at(500)) {
		t.Errorf("JoinedAt = %v, want %v", got, at(500))
	}

	// The event and the invitation go with the write.
	ev := event("org_a", club.ActionMemberAdded)
	ev.TargetID, ev.TargetEmail = n.UserID, n.Email
	inv := &club.Invitation{ClubCode: "org_a", ClubName: "Alpha", Email: n.Email, Name: "Nia Neves", InvitedBy: "Olga Owner"}
	if err := db.SaveMember(t.Context(), 0, n, &ev, inv); err != nil {
		t.Fatalf("save member with event and invitation: %v", err)
	}
	evs := allEvents(t, db)
	if len(evs) != 1 || evs[0].Action != club.ActionMemberAdded || evs[0].TargetID != n.UserID {
		t.Errorf("events = %+v, want one member.added for %s", evs, n.UserID)
	}
	items, err := db.Recent(t.Context(), "org_a", 10)
	if err != nil {
		t.Fatalf("recent: %v", err)
	}
	if len(items) != 1 || items[0].Invitation != *inv || items[0].Status != club.InvitationQueued || !items[0].CreatedAt.Equal(base()) {
		t.Errorf("outbox = %+v, want the queued invitation created at the event's time", items)
	}
}

func testSaveMemberAtomic(t *testing.T, db *DB) {
	m := newMember("org_a", 1, "Ana", "Alves", club.RoleMember)
	bad := club.AuditEvent{ClubCode: "org_a"} // no action: the audit insert fails
	inv := &club.Invitation{ClubCode: "org_a", Email: m.Email}
	if err := db.SaveMember(t.Context(), 0, m, &bad, inv); err == nil {
		t.Fatal("SaveMember with a bad event succeeded, want an error")
	}
	_, err := db.Member(t.Context(), "org_a", m.UserID)
	wantNotFound(t, "member after failed save", err)
	_, err = db.PersonByEmail(t.Context(), m.Email)
	wantNotFound(t, "person after failed save", err)
	if items, _ := db.Recent(t.Context(), "org_a", 10); len(items) != 0 {
		t.Errorf("outbox after failed save = %+v, want empty", items)
	}

	// An update that fails leaves the old row as it was.
	save(t, db, m)
	m2 := m
	m2.FirstName, m2.Roles = "Changed", []string{club.RoleOwner}
	if err := db.SaveMember(t.Context(), 0, m2, &bad, nil); err == nil {
		t.Fatal("SaveMember with a bad event succeeded, want an error")
	}
	if got := mustMember(t, db, "org_a", m.UserID); !reflect.DeepEqual(got, m) {
		t.Errorf("after failed update: got %+v, want %+v", got, m)
	}
}

func testRecycledEmail(t *testing.T, db *DB) {
	old := newMember("org_a", 1, "Ana", "Alves", club.RoleMember)
	old.Email = "shared@example.org"
	save(t, db, old)

	// Kinde gave the address to a new user id; saving them must not fail.
	recycled := newMember("org_b", 2, "Bea", "Brito", club.RoleOwner)
	recycled.Email = "Shared@example.org"
	save(t, db, recycled)

	p, err := db.PersonByEmail(t.Context(), "shared@example.org")
	if err != nil {
		t.Fatalf("PersonByEmail: %v", err)
	}
	if p.ID != recycled.UserID {
		t.Errorf("PersonByEmail = %s, want the new id %s", p.ID, recycled.UserID)
	}
	// The old id keeps its membership but not the address, and is no longer
	// found by it.
	if got := mustMember(t, db, "org_a", old.UserID); got.Email != "" || got.FirstName != "Ana" {
		t.Errorf("old member = %+v, want Ana without an email", got)
	}
	page, err := db.Members(t.Context(), "org_a", club.MemberQuery{Search: "shared@", Limit: 10})
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	if page.Total != 0 {
		t.Errorf("search for the moved address in the old club found %v", ids(page.Members))
	}

	// The same id changing its address moves it too.
	recycled.Email = "bea@example.org"
	save(t, db, recycled)
	if _, err := db.PersonByEmail(t.Context(), "shared@example.org"); !errors.Is(err, club.ErrNotFound) {
		t.Errorf("old address still resolves: %v", err)
	}
	if p, err := db.PersonByEmail(t.Context(), "bea@example.org"); err != nil || p.ID != recycled.UserID {
		t.Errorf("PersonByEmail(new address) = %+v, %v", p, err)
	}
}

func testNamesPerClub(t *testing.T, db *DB) {
	a := newMember("org_a", 1, "Ana", "Alves", club.RoleMember)
	b := a
	b.ClubCode, b.FirstName, b.LastName = "org_b", "Annie", "A."
	save(t, db, a, b)
	if got := mustMember(t, db, "org_a", a.UserID); got.FirstName != "Ana" || got.LastName != "Alves" {
		t.Errorf("org_a sees %q %q, want Ana Alves", got.FirstName, got.LastName)
	}
	if got := mustMember(t, db, "org_b", a.UserID); got.FirstName != "Annie" || got.LastName != "A." {
		t.Errorf("org_b sees %q %q, want Annie A.", got.FirstName, got.LastName)
	}
	page, err := db.Members(t.Context(), "org_b", club.MemberQuery{Search: "alves", Limit: 10})
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	if page.Total != 0 {
		t.Errorf("org_b found %v by the name org_a typed", ids(page.Members))
	}
}

func testMemberNotFound(t *testing.T, db *DB) {
	save(t, db, newMember("org_a", 1, "Ana", "Alves", club.RoleMember))
	_, err := db.Member(t.Context(), "org_a", userID(2))
	wantNotFound(t, "unknown user", err)
	_, err = db.Member(t.Context(), "org_b", userID(1))
	wantNotFound(t, "member of another club", err)
}

// seedListing saves members whose names and join times sort differently.
func seedListing(t *testing.T, db *DB) []club.Member {
	t.Helper()
	names := [][2]string{
		{"Zoe", "Zimmer"}, {"ana", "Alves"}, {"Bruno", "Brito"}, {"Émile", "Eça"}, {"Carla", "Costa"},
		{"", ""}, {"Duarte", "Dias"}, {"Ana", "Alves"}, {"Yara", "Young"}, {"Filipa", "Faria"},
		{"Gil", "Gomes"}, {"Hugo", "Horta"},
	}
	var ms []club.Member
	for i, n := range names {
		// Join times run against name order, and two members share one.
		m := newMember("org_a", i+1, n[0], n[1], club.RoleMember)
		m.JoinedAt = at(100 - i)
		if i == 7 {
			m.JoinedAt = at(100 - 1)
		}
		ms = append(ms, m)
	}
	save(t, db, ms...)
	return ms
}

func testMembersSortAndPage(t *testing.T, db *DB) {
	ms := seedListing(t, db)
	sortKey := func(m club.Member) string { s, _ := memberKeys(m.FirstName, m.LastName, m.Email); return s }
	byName := slices.Clone(ms)
	slices.SortFunc(byName, func(a, b club.Member) int {
		return cmp.Or(strings.Compare(sortKey(a), sortKey(b)), strings.Compare(a.UserID, b.UserID))
	})
	byJoined := slices.Clone(ms)
	slices.SortFunc(byJoined, func(a, b club.Member) int {
		return cmp.Or(a.JoinedAt.Compare(b.JoinedAt), strings.Compare(a.UserID, b.UserID))
	})
	// Sanity of the expectation: accents and case fold, the nameless sorts
	// by email.
	if got := sortKey(byName[5]); got != "emile eca" {
		t.Fatalf("expected order is wrong: 6th key %q", got)
	}
	tests := []struct {
		sort club.MemberSort
		want []club.Member
	}{
		{club.SortNameAsc, byName},
		{club.SortNameDesc, reversed(byName)},
		{club.SortJoinedAsc, byJoined},
		{club.SortJoinedDesc, reversed(byJoined)},
		{"", byName},
	}
	for _, tt := range tests {
		t.Run(string(tt.sort), func(t *testing.T) {
			page, err := db.Members(t.Context(), "org_a", club.MemberQuery{Sort: tt.sort, Limit: club.MaxPageSize})
			if err != nil {
				t.Fatalf("members: %v", err)
			}
			if got, want := ids(page.Members), ids(tt.want); !slices.Equal(got, want) {
				t.Errorf("order = %v, want %v", got, want)
			}
			if page.Total != len(ms) {
				t.Errorf("Total = %d, want %d", page.Total, len(ms))
			}
			// Pages of 5 concatenate to the full listing: no overlap, no gap.
			var paged []string
			for off := 0; off < len(ms); off += 5 {
				p, err := db.Members(t.Context(), "org_a", club.MemberQuery{Sort: tt.sort, Offset: off, Limit: 5})
				if err != nil {
					t.Fatalf("members offset %d: %v", off, err)
				}
				if p.Total != len(ms) {
					t.Errorf("offset %d: Total = %d, want %d", off, p.Total, len(ms))
				}
				paged = append(paged, ids(p.Members)...)
			}
			if want := ids(tt.want); !slices.Equal(paged, want) {
				t.Errorf("paged = %v, want %v", paged, want)
			}
		})
	}
	// Listed members are complete: roles, names, email, join time.
	page, err := db.Members(t.Context(), "org_a", club.MemberQuery{Sort: club.SortJoinedDesc, Limit: 1})
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	if want := reversed(byJoined)[0]; len(page.Members) != 1 || !reflect.DeepEqual(page.Members[0], want) {
		t.Errorf("first member = %+v, want %+v", page.Members, want)
	}

	bounds := []struct {
		name          string
		q             club.MemberQuery
		wantLen       int
		wantFirstName string
	}{
		{"offset past the end", club.MemberQuery{Offset: 50, Limit: 10}, 0, ""},
		{"negative offset", club.MemberQuery{Offset: -3, Limit: 2}, 2, byName[0].UserID},
		{"zero limit means a full page", club.MemberQuery{}, len(ms), byName[0].UserID},
		{"limit above the maximum", club.MemberQuery{Limit: club.MaxPageSize + 50}, len(ms), byName[0].UserID},
		{"last partial page", club.MemberQuery{Offset: 10, Limit: 5}, 2, byName[10].UserID},
	}
	for _, tt := range bounds {
		t.Run(tt.name, func(t *testing.T) {
			p, err := db.Members(t.Context(), "org_a", tt.q)
			if err != nil {
				t.Fatalf("members: %v", err)
			}
			if len(p.Members) != tt.wantLen || p.Total != len(ms) {
				t.Fatalf("got %d members of %d, want %d of %d", len(p.Members), p.Total, tt.wantLen, len(ms))
			}
			if tt.wantLen > 0 && p.Members[0].UserID != tt.wantFirstName {
				t.Errorf("first = %s, want %s", p.Members[0].UserID, tt.wantFirstName)
			}
			if p.Members == nil {
				t.Error("Members is nil, want an empty slice")
			}
		})
	}
}

func testMembersSearch(t *testing.T, db *DB) {
	seedListing(t, db)
	odd := newMember("org_a", 50, "Per_cent", "100%", club.RoleMember)
	odd.Email = "weird_one@example.org"
	save(t, db, odd)
	tests := []struct {
		search string
		want   []string // by name order
	}{
		{"", nil}, // everyone; checked by count only
		{"ana", []string{userID(2), userID(8)}},
		{"ANA ALV", []string{userID(2), userID(8)}},
		{"emile", []string{userID(4)}},
		{"ÉMILE EÇA", []string{userID(4)}},
		{"user6@", []string{userID(6)}},
		{"EXAMPLE.ORG", nil}, // everyone
		{"%", []string{userID(50)}},
		{"_", []string{userID(50)}},
		{"t_o", nil},
		{"nobody", []string{}},
		{"  bruno  ", []string{userID(3)}},
		{"alves user", []string{}}, // never across name and email
	}
	for _, tt := range tests {
		t.Run(tt.search, func(t *testing.T) {
			p, err := db.Members(t.Context(), "org_a", club.MemberQuery{Search: tt.search, Limit: club.MaxPageSize})
			if err != nil {
				t.Fatalf("members: %v", err)
			}
			if p.ClubTotal != 13 {
				t.Errorf("club total = %d, want 13 whatever the search", p.ClubTotal)
			}
			switch {
			case tt.search == "t_o":
				if p.Total != 0 {
					t.Errorf("_ matched as a wildcard: %v", ids(p.Members))
				}
			case tt.want == nil:
				if p.Total != 13 || len(p.Members) != 13 {
					t.Errorf("got %d of %d, want everyone (13)", len(p.Members), p.Total)
				}
			default:
				if got := ids(p.Members); !slices.Equal(got, tt.want) || p.Total != len(tt.want) {
					t.Errorf("got %v (total %d), want %v", got, p.Total, tt.want)
				}
			}
		})
	}
	// Search pages like the full listing does.
	p, err := db.Members(t.Context(), "org_a", club.MemberQuery{Search: "a", Offset: 1, Limit: 1})
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	all, _ := db.Members(t.Context(), "org_a", club.MemberQuery{Search: "a", Limit: club.MaxPageSize})
	if len(p.Members) != 1 || p.Members[0].UserID != all.Members[1].UserID || p.Total != all.Total || p.ClubTotal != 13 {
		t.Errorf("second search result page = %v of %d, want %s of %d", ids(p.Members), p.Total, all.Members[1].UserID, all.Total)
	}
}

func testMembersExcludePending(t *testing.T, db *DB) {
	a := newMember("org_a", 1, "Ana", "Alves", club.RoleOwner)
	p := newMember("org_a", 2, "Paula", "Pending", club.RoleOwner)
	p.Pending = true
	other := newMember("org_b", 3, "Otto", "Other", club.RoleOwner)
	save(t, db, a, p, other)
	for _, search := range []string{"", "p"} {
		page, err := db.Members(t.Context(), "org_a", club.MemberQuery{Search: search, Limit: 10})
		if err != nil {
			t.Fatalf("members: %v", err)
		}
		if got := ids(page.Members); page.Total != 1 || !slices.Equal(got, []string{a.UserID}) {
			t.Errorf("search %q: got %v (total %d), want only %s", search, got, page.Total, a.UserID)
		}
	}
	page, err := db.Members(t.Context(), "org_c", club.MemberQuery{Limit: 10})
	if err != nil || page.Total != 0 || page.Members == nil || len(page.Members) != 0 {
		t.Errorf("empty club = %+v, %v; want an empty page", page, err)
	}
}

func testCountWithRole(t *testing.T, db *DB) {
	pending := newMember("org_a", 3, "Pat", "Pending", club.RoleOwner)
	pending.Pending = true
	save(t, db,
		newMember("org_a", 1, "Ana", "Alves", club.RoleOwner, club.RoleCoach),
		newMember("org_a", 2, "Bruno", "Brito", club.RoleOwner),
		pending,
		newMember("org_a", 4, "Carla", "Costa", club.RoleMember),
		newMember("org_b", 1, "Ana", "Alves", club.RoleOwner),
	)
	tests := []struct {
		club, role string
		want       int
	}{
		{"org_a", club.RoleOwner, 2},
		{"org_a", club.RoleCoach, 1},
		{"org_a", club.RoleMember, 1},
		{"org_a", club.RoleAdmin, 0},
		{"org_b", club.RoleOwner, 1},
		{"org_x", club.RoleOwner, 0},
	}
	for _, tt := range tests {
		t.Run(tt.club+"/"+tt.role, func(t *testing.T) {
			got, err := db.CountWithRole(t.Context(), tt.club, tt.role)
			if err != nil {
				t.Fatalf("count: %v", err)
			}
			if got != tt.want {
				t.Errorf("CountWithRole = %d, want %d", got, tt.want)
			}
		})
	}
}

func testDeleteMember(t *testing.T, db *DB) {
	a := newMember("org_a", 1, "Ana", "Alves", club.RoleOwner)
	b := newMember("org_a", 2, "Bruno", "Brito", club.RoleOwner)
	save(t, db, a, b, newMember("org_b", 1, "Ana", "Alves", club.RoleOwner))

	if err := db.DeleteMember(t.Context(), 0, "org_a", b.UserID, event("org_a", club.ActionMemberRemoved)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err := db.Member(t.Context(), "org_a", b.UserID)
	wantNotFound(t, "deleted member", err)
	if n, _ := db.CountWithRole(t.Context(), "org_a", club.RoleOwner); n != 1 {
		t.Errorf("owners after delete = %d, want 1 (roles go with the membership)", n)
	}
	if _, err := db.PersonByEmail(t.Context(), b.Email); err != nil {
		t.Errorf("the person is forgotten with the membership: %v", err)
	}
	// Coming back starts from no roles.
	back := b
	back.Roles = []string{club.RoleMember}
	save(t, db, back)
	if got := mustMember(t, db, "org_a", b.UserID).Roles; !slices.Equal(got, []string{club.RoleMember}) {
		t.Errorf("roles after re-adding = %v, want [member]", got)
	}

	// Deleting what is not there is fine, and still audited.
	if err := db.DeleteMember(t.Context(), 0, "org_a", userID(77), event("org_a", club.ActionMemberRemoved)); err != nil {
		t.Errorf("delete of a non-member: %v", err)
	}
	if got := actions(allEvents(t, db)); !slices.Equal(got, []string{club.ActionMemberRemoved, club.ActionMemberRemoved}) {
		t.Errorf("events = %v, want two removals", got)
	}

	// A failed delete deletes nothing.
	if err := db.DeleteMember(t.Context(), 0, "org_a", a.UserID, club.AuditEvent{}); err == nil {
		t.Fatal("DeleteMember with a bad event succeeded, want an error")
	}
	mustMember(t, db, "org_a", a.UserID)
	// Other clubs are untouched.
	mustMember(t, db, "org_b", a.UserID)
}

func testReplaceMembers(t *testing.T, db *DB) {
	stay := newMember("org_a", 1, "Ana", "Alves", club.RoleOwner)
	gone := newMember("org_a", 2, "Bruno", "Brito", club.RoleMember)
	pend := newMember("org_a", 3, "Pat", "Pending")
	pend.Pending = true
	elsewhere := newMember("org_b", 2, "Bruno", "Brito", club.RoleOwner)
	save(t, db, stay, gone, pend, elsewhere)

	// As Kinde has them: no names, no join times for some, new roles.
	fromKinde := []club.Member{
		{UserID: stay.UserID, Email: stay.Email, Roles: []string{club.RoleOwner, club.RoleCoach}},
		{UserID: pend.UserID, Email: pend.Email, Roles: []string{}},
		{UserID: userID(4), Email: "New.Person@Example.org", FirstName: "Nuno", LastName: "Novo", Roles: []string{club.RoleMember}, JoinedAt: at(40)},
		{UserID: userID(5), Email: "no-join-time@example.org", Roles: []string{club.RoleMember}},
	}
	synced := at(60)
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a", Name: "Alpha"}, fromKinde, readVersion(t, db), synced, always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatalf("replace: %v", err)
	}

	_, err := db.Member(t.Context(), "org_a", gone.UserID)
	wantNotFound(t, "member Kinde no longer has", err)
	mustMember(t, db, "org_b", gone.UserID) // other clubs untouched

	want := stay
	want.Roles = []string{club.RoleCoach, club.RoleOwner}
	if got := mustMember(t, db, "org_a", stay.UserID); !reflect.DeepEqual(got, want) {
		t.Errorf("kept member = %+v, want %+v (names and join time kept)", got, want)
	}
	if got := mustMember(t, db, "org_a", pend.UserID); !got.Pending {
		t.Errorf("pending member without roles in Kinde = %+v, want still pending", got)
	}
	nuno := mustMember(t, db, "org_a", userID(4))
	if nuno.Email != "new.person@example.org" || nuno.FirstName != "Nuno" || !nuno.JoinedAt.Equal(at(40)) {
		t.Errorf("new member = %+v", nuno)
	}
	if got := mustMember(t, db, "org_a", userID(5)).JoinedAt; !got.Equal(synced) {
		t.Errorf("new member without a join time joined %v, want the sync time %v", got, synced)
	}
	if got, err := db.LastSynced(t.Context(), "org_a"); err != nil || !got.Equal(synced) {
		t.Errorf("LastSynced = %v, %v; want %v", got, err, synced)
	}
	if got, err := db.Club(t.Context(), "org_a"); err != nil || got != (club.Club{Code: "org_a", Name: "Alpha"}) {
		t.Errorf("Club = %+v, %v", got, err)
	}
	if got := actions(allEvents(t, db)); !slices.Equal(got, []string{club.ActionClubSynced}) {
		t.Errorf("events = %v, want one club.synced", got)
	}
	page, err := db.Members(t.Context(), "org_a", club.MemberQuery{Limit: 10})
	if err != nil || page.Total != 3 {
		t.Errorf("listing after sync: total %d (%v), want 3", page.Total, err)
	}

	// A second sync with the same list changes nothing but the sync time,
	// and a sync without a name keeps the club's name.
	before := listAll(t, db, "org_a")
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, fromKinde, readVersion(t, db), at(70), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatalf("second replace: %v", err)
	}
	if after := listAll(t, db, "org_a"); !reflect.DeepEqual(after, before) {
		t.Errorf("second sync changed members:\n got %+v\nwant %+v", after, before)
	}
	if got, _ := db.Club(t.Context(), "org_a"); got.Name != "Alpha" {
		t.Errorf("club name = %q, want Alpha kept", got.Name)
	}

	// Replacing with nobody empties the club.
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, nil, readVersion(t, db), at(80), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatalf("empty replace: %v", err)
	}
	if got := listAll(t, db, "org_a"); len(got) != 0 {
		t.Errorf("members after empty sync = %v", ids(got))
	}
	if n, _ := db.CountWithRole(t.Context(), "org_a", club.RoleOwner); n != 0 {
		t.Errorf("owners after empty sync = %d", n)
	}
}

func testReplaceMembersAtomic(t *testing.T, db *DB) {
	a := newMember("org_a", 1, "Ana", "Alves", club.RoleOwner)
	save(t, db, a)
	_, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a", Name: "Alpha"},
		[]club.Member{newMember("org_a", 2, "Bruno", "Brito", club.RoleMember)}, readVersion(t, db), at(60), always(club.AuditEvent{}))
	if err == nil {
		t.Fatal("ReplaceMembers with a bad event succeeded, want an error")
	}
	if got := ids(listAll(t, db, "org_a")); !slices.Equal(got, []string{a.UserID}) {
		t.Errorf("members after failed sync = %v, want [%s]", got, a.UserID)
	}
	if got, _ := db.LastSynced(t.Context(), "org_a"); !got.IsZero() {
		t.Errorf("LastSynced after failed sync = %v, want zero", got)
	}
	_, err = db.Club(t.Context(), "org_a")
	wantNotFound(t, "club after failed sync", err)
	_, err = db.PersonByEmail(t.Context(), newMember("", 2, "", "").Email)
	wantNotFound(t, "person after failed sync", err)
}

// testReplaceMembersLarge syncs more members than one statement carries.
func testReplaceMembersLarge(t *testing.T, db *DB) {
	const n = 1200
	ms := make([]club.Member, n)
	for i := range ms {
		ms[i] = newMember("org_a", i+1, fmt.Sprintf("First%04d", i), "Last", club.RoleMember, club.RoleCoach)
	}
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, ms, readVersion(t, db), at(1), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if got, _ := db.CountWithRole(t.Context(), "org_a", club.RoleCoach); got != n {
		t.Errorf("coaches = %d, want %d", got, n)
	}
	half := ms[:n/2]
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, half, readVersion(t, db), at(2), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatalf("second replace: %v", err)
	}
	p, err := db.Members(t.Context(), "org_a", club.MemberQuery{Limit: 1})
	if err != nil || p.Total != n/2 {
		t.Errorf("total = %d (%v), want %d", p.Total, err, n/2)
	}
}

func testReplaceMembersSwap(t *testing.T, db *DB) {
	a := newMember("org_a", 1, "Ana", "Alves", club.RoleOwner)
	b := newMember("org_a", 2, "Bruno", "Brito", club.RoleMember)
	save(t, db, a, b, newMember("org_b", 2, "Bruno", "B.", club.RoleMember))
	a2, b2 := a, b
	a2.Email, b2.Email = b.Email, a.Email
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, []club.Member{a2, b2}, readVersion(t, db), at(5), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatalf("replace with swapped emails: %v", err)
	}
	for _, want := range []club.Member{a2, b2} {
		if p, err := db.PersonByEmail(t.Context(), want.Email); err != nil || p.ID != want.UserID {
			t.Errorf("PersonByEmail(%s) = %+v, %v; want %s", want.Email, p, err, want.UserID)
		}
	}
	// Bruno's other club searches by his new address.
	page, err := db.Members(t.Context(), "org_b", club.MemberQuery{Search: a.Email, Limit: 10})
	if err != nil || !slices.Equal(ids(page.Members), []string{b.UserID}) {
		t.Errorf("org_b search by Bruno's new address = %v, %v", ids(page.Members), err)
	}
}

// testReplaceMembersLongNames stores names longer than the portal allows,
// as Kinde may send them: they are kept whole and still listed and found.
func testReplaceMembersLongNames(t *testing.T, db *DB) {
	long := strings.Repeat("Ñandú ", 600)
	m := newMember("org_a", 1, long, long, club.RoleMember)
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, []club.Member{m}, readVersion(t, db), at(1), always(event("org_a", club.ActionClubSynced))); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if got := mustMember(t, db, "org_a", m.UserID); got.FirstName != long {
		t.Errorf("first name is %d bytes, want %d", len(got.FirstName), len(long))
	}
	for _, search := range []string{"nandu nandu", m.Email} {
		p, err := db.Members(t.Context(), "org_a", club.MemberQuery{Search: search, Limit: 10})
		if err != nil || p.Total != 1 {
			t.Errorf("search %q: total %d, %v; want 1", search[:10], p.Total, err)
		}
	}
}

func testSaveClub(t *testing.T, db *DB) {
	_, err := db.Club(t.Context(), "org_new")
	wantNotFound(t, "unknown club", err)
	ev := event("org_new", club.ActionClubCreated)
	ev.At = at(10)
	if err := db.SaveClub(t.Context(), club.Club{Code: "org_new", Name: "Rowing Club"}, userID(1), ev); err != nil {
		t.Fatalf("save club: %v", err)
	}
	if got, err := db.Club(t.Context(), "org_new"); err != nil || got != (club.Club{Code: "org_new", Name: "Rowing Club"}) {
		t.Errorf("Club = %+v, %v", got, err)
	}
	if got := actions(allEvents(t, db)); !slices.Equal(got, []string{club.ActionClubCreated}) {
		t.Errorf("events = %v", got)
	}
	tests := []struct {
		name, creator, club string
		since               time.Time
		found               bool
	}{
		{"same creator and name, since before", userID(1), "Rowing Club", at(5), true},
		{"since exactly the creation", userID(1), "Rowing Club", at(10), true},
		{"since after", userID(1), "Rowing Club", at(11), false},
		{"other creator", userID(2), "Rowing Club", at(5), false},
		{"other name", userID(1), "Sailing Club", at(5), false},
		{"no creator", "", "Rowing Club", at(5), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.RecentClubByCreator(t.Context(), tt.creator, tt.club, tt.since)
			if !tt.found {
				wantNotFound(t, "RecentClubByCreator", err)
				return
			}
			if err != nil || got.Code != "org_new" {
				t.Errorf("RecentClubByCreator = %+v, %v; want org_new", got, err)
			}
		})
	}
	// A failed save saves nothing.
	if err := db.SaveClub(t.Context(), club.Club{Code: "org_bad", Name: "Bad"}, userID(1), club.AuditEvent{}); err == nil {
		t.Fatal("SaveClub with a bad event succeeded, want an error")
	}
	_, err = db.Club(t.Context(), "org_bad")
	wantNotFound(t, "club after failed save", err)
}

func testClaimsStale(t *testing.T, db *DB) {
	if got, err := db.ClaimsStaleSince(t.Context(), userID(1)); err != nil || !got.IsZero() {
		t.Fatalf("never marked: %v, %v; want zero, nil", got, err)
	}
	steps := []struct {
		mark time.Time
		want time.Time
	}{
		{at(10), at(10)},
		{at(5), at(10)}, // an older mark does not move it back
		{at(20), at(20)},
	}
	for _, s := range steps {
		if err := db.MarkClaimsStale(t.Context(), userID(1), s.mark); err != nil {
			t.Fatalf("mark: %v", err)
		}
		if got, err := db.ClaimsStaleSince(t.Context(), userID(1)); err != nil || !got.Equal(s.want) {
			t.Errorf("after marking %v: %v, %v; want %v", s.mark, got, err, s.want)
		}
	}
	if got, _ := db.ClaimsStaleSince(t.Context(), userID(2)); !got.IsZero() {
		t.Errorf("another user is marked: %v", got)
	}
	if got, err := db.LastSynced(t.Context(), "org_never"); err != nil || !got.IsZero() {
		t.Errorf("LastSynced of an unknown club = %v, %v; want zero, nil", got, err)
	}
}

func testAuditEvents(t *testing.T, db *DB) {
	mk := func(clubCode, actor, target, action string, minute int) club.AuditEvent {
		return club.AuditEvent{ClubCode: clubCode, ActorID: actor, ActorName: "Actor " + actor, Action: action,
			TargetID: target, TargetEmail: target + "@example.org", Detail: "detail", At: at(minute)}
	}
	in := []club.AuditEvent{
		mk("org_a", "u1", "u2", club.ActionMemberAdded, 1),
		mk("org_a", "u2", "u3", club.ActionMemberRolesChanged, 2),
		mk("org_b", "u1", "u4", club.ActionMemberAdded, 3),
		mk("org_a", "u3", "", club.ActionClubSynced, 4),
		mk("org_a", "u1", "u3", club.ActionMemberRemoved, 5),
	}
	for _, ev := range in {
		if err := db.Append(t.Context(), ev); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if err := db.Append(t.Context(), club.AuditEvent{ClubCode: "org_a"}); err == nil {
		t.Error("Append without an action succeeded, want an error")
	}
	tests := []struct {
		name      string
		q         club.AuditQuery
		wantMin   []int // the events' minutes, newest first
		wantTotal int
	}{
		{"one club", club.AuditQuery{ClubCode: "org_a"}, []int{5, 4, 2, 1}, 4},
		{"every club", club.AuditQuery{}, []int{5, 4, 3, 2, 1}, 5},
		{"person as actor or target", club.AuditQuery{ClubCode: "org_a", Person: "u3"}, []int{5, 4, 2}, 3},
		{"person in every club", club.AuditQuery{Person: "u1"}, []int{5, 3, 1}, 3},
		{"paged", club.AuditQuery{ClubCode: "org_a", Offset: 1, Limit: 2}, []int{4, 2}, 4},
		{"past the end", club.AuditQuery{ClubCode: "org_a", Offset: 10}, []int{}, 4},
		{"unknown club", club.AuditQuery{ClubCode: "org_x"}, []int{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := db.Events(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("events: %v", err)
			}
			got := []int{}
			for _, ev := range p.Events {
				got = append(got, int(ev.At.Sub(base())/time.Minute))
			}
			if !slices.Equal(got, tt.wantMin) || p.Total != tt.wantTotal {
				t.Errorf("got %v (total %d), want %v (total %d)", got, p.Total, tt.wantMin, tt.wantTotal)
			}
		})
	}
	p, _ := db.Events(t.Context(), club.AuditQuery{ClubCode: "org_b"})
	want := in[2]
	if len(p.Events) != 1 {
		t.Fatalf("org_b events = %+v", p.Events)
	}
	got := p.Events[0]
	want.ID = got.ID
	if got != want || got.ID == 0 {
		t.Errorf("event = %+v, want %+v with an id", got, want)
	}
}

// testAuditAppendOnly writes through every method and checks that the rows
// already in the audit log never change, and that the database itself
// refuses to change them.
func testAuditAppendOnly(t *testing.T, db *DB) {
	a := newMember("org_a", 1, "Ana", "Alves", club.RoleOwner)
	ev := event("org_a", club.ActionMemberAdded)
	ev.TargetID, ev.TargetEmail, ev.Detail = a.UserID, a.Email, "roles owner"
	if err := db.SaveMember(t.Context(), 0, a, &ev, &club.Invitation{ClubCode: "org_a", Email: a.Email}); err != nil {
		t.Fatalf("save: %v", err)
	}
	if err := db.SaveClub(t.Context(), club.Club{Code: "org_a", Name: "Alpha"}, a.UserID, event("org_a", club.ActionClubCreated)); err != nil {
		t.Fatalf("save club: %v", err)
	}
	before := allEvents(t, db)

	ops := []func() error{
		func() error {
			return db.DeleteMember(t.Context(), 0, "org_a", a.UserID, event("org_a", club.ActionMemberRemoved))
		},
		func() error {
			_, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, []club.Member{a}, readVersion(t, db), at(9), always(event("org_a", club.ActionClubSynced)))
			return err
		},
		func() error {
			items, err := db.Recent(t.Context(), "org_a", 10)
			if err != nil || len(items) != 1 {
				return fmt.Errorf("recent: %v, %v", items, err)
			}
			_, err = db.MarkFailed(t.Context(), items[0].ID, 1, "smtp said no", event("org_a", club.ActionInvitationFailed))
			return err
		},
		func() error { return db.Append(t.Context(), event("", "staff.signed_in")) },
	}
	for i, op := range ops {
		if err := op(); err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}
	after := allEvents(t, db)
	if got := after[len(after)-len(before):]; !reflect.DeepEqual(got, before) {
		t.Errorf("earlier audit rows changed:\n got %+v\nwant %+v", got, before)
	}
	if got, want := len(after), len(before)+len(ops); got != want {
		t.Errorf("audit rows = %d, want %d", got, want)
	}

	for _, stmt := range []string{
		"UPDATE audit_events SET detail = 'tampered'",
		"DELETE FROM audit_events",
	} {
		if _, err := db.write.ExecContext(t.Context(), stmt); err == nil {
			t.Errorf("%q succeeded, want the database to refuse", stmt)
		}
	}
	if got := allEvents(t, db); !reflect.DeepEqual(got, after) {
		t.Error("audit rows changed after refused statements")
	}
}

func queueInvitations(t *testing.T, db *DB, clubCode string, n int) {
	t.Helper()
	for i := range n {
		m := newMember(clubCode, i+1, "Guest", fmt.Sprint(i), club.RoleMember)
		ev := event(clubCode, club.ActionMemberAdded)
		ev.At = at(i % 3) // several share a due time
		inv := &club.Invitation{ClubCode: clubCode, ClubName: "Club " + clubCode, Email: m.Email, Name: m.Name(), InvitedBy: "Olga Owner"}
		if err := db.SaveMember(t.Context(), 0, m, &ev, inv); err != nil {
			t.Fatalf("save member with invitation: %v", err)
		}
	}
}

func testOutboxLifecycle(t *testing.T, db *DB) {
	queueInvitations(t, db, "org_a", 1)
	recent, _ := db.Recent(t.Context(), "org_a", 1)
	it, err := db.OutboxItem(t.Context(), recent[0].ID)
	if err != nil {
		t.Fatalf("outbox item: %v", err)
	}
	wantInv := club.Invitation{ClubCode: "org_a", ClubName: "Club org_a", Email: newMember("", 1, "", "").Email, Name: "Guest 0", InvitedBy: "Olga Owner"}
	if it.Invitation != wantInv || it.Status != club.InvitationQueued || it.Attempts != 0 || !it.NextAttemptAt.Equal(at(0)) || !it.CreatedAt.Equal(at(0)) || !it.SentAt.IsZero() {
		t.Errorf("queued item = %+v", it)
	}
	_, err = db.OutboxItem(t.Context(), 9999)
	wantNotFound(t, "unknown outbox item", err)

	// Attempt 1 fails: recorded, with the next try.
	if ok, err := db.MarkRetry(t.Context(), it.ID, 1, at(30), "the mail server did not answer"); err != nil || !ok {
		t.Fatalf("mark retry = %v, %v; want recorded", ok, err)
	}
	got, _ := db.OutboxItem(t.Context(), it.ID)
	if got.Status != club.InvitationQueued || got.Attempts != 1 || got.LastError != "the mail server did not answer" || !got.NextAttemptAt.Equal(at(30)) {
		t.Errorf("retried item = %+v", got)
	}
	// Attempt 2 died without a word; attempt 3 sends it.
	if ok, err := db.MarkSent(t.Context(), it.ID, 3, at(31)); err != nil || !ok {
		t.Fatalf("mark sent = %v, %v; want recorded", ok, err)
	}
	recent, _ = db.Recent(t.Context(), "org_a", 10)
	if len(recent) != 1 || recent[0].Status != club.InvitationSent || !recent[0].SentAt.Equal(at(31)) || recent[0].Attempts != 3 || recent[0].LastError != "" {
		t.Errorf("sent item = %+v", recent)
	}

	for name, mark := range map[string]func() (bool, error){
		"MarkSent":  func() (bool, error) { return db.MarkSent(t.Context(), 9999, 1, at(1)) },
		"MarkRetry": func() (bool, error) { return db.MarkRetry(t.Context(), 9999, 1, at(1), "x") },
		"MarkFailed": func() (bool, error) {
			return db.MarkFailed(t.Context(), 9999, 1, "x", event("org_a", club.ActionInvitationFailed))
		},
	} {
		ok, err := mark()
		wantNotFound(t, name+" of an unknown item", err)
		if ok {
			t.Errorf("%s of an unknown item recorded", name)
		}
	}

	// Reasons are kept short.
	queueInvitations(t, db, "org_b", 1)
	items, _ := db.Recent(t.Context(), "org_b", 1)
	long := strings.Repeat("é", maxReason)
	if _, err := db.MarkRetry(t.Context(), items[0].ID, 1, at(1), long); err != nil {
		t.Fatalf("mark retry: %v", err)
	}
	recent, _ = db.Recent(t.Context(), "org_b", 1)
	if n := len(recent[0].LastError); n > maxReason || !strings.HasPrefix(long, recent[0].LastError) {
		t.Errorf("stored reason is %d bytes or cut mid-character", n)
	}
}

func testMarkFailedAtomic(t *testing.T, db *DB) {
	queueInvitations(t, db, "org_a", 1)
	items, _ := db.Recent(t.Context(), "org_a", 1)
	id := items[0].ID
	if _, err := db.MarkFailed(t.Context(), id, 6, "no", club.AuditEvent{}); err == nil {
		t.Fatal("MarkFailed with a bad event succeeded, want an error")
	}
	if got, _ := db.Recent(t.Context(), "org_a", 1); got[0].Status != club.InvitationQueued || got[0].Attempts != 0 {
		t.Errorf("after failed MarkFailed: %+v, want still queued", got[0])
	}
	ev := event("org_a", club.ActionInvitationFailed)
	if ok, err := db.MarkFailed(t.Context(), id, 6, "the address does not exist", ev); err != nil || !ok {
		t.Fatalf("mark failed = %v, %v; want recorded", ok, err)
	}
	got, _ := db.Recent(t.Context(), "org_a", 1)
	if got[0].Status != club.InvitationFailed || got[0].LastError != "the address does not exist" || got[0].Attempts != 6 {
		t.Errorf("failed item = %+v", got[0])
	}
	if acts := actions(allEvents(t, db)); acts[0] != club.ActionInvitationFailed {
		t.Errorf("latest event = %v, want invitation.failed", acts)
	}
	if due, _ := db.DueInvitations(t.Context(), at(1000), 0, 10); len(due) != 0 {
		t.Errorf("a failed item is due: %+v", due)
	}
}

// testOutboxStaleAttempt is the unfenced-mark bug: attempt 1 is still at
// work when attempt 2 (its job rescued, or on another instance) sends the
// invitation; attempt 1's outcome, whatever it is, then changes nothing,
// and its give-up appends no audit row. A stale attempt cannot move a
// newer retry back either.
func testOutboxStaleAttempt(t *testing.T, db *DB) {
	queueInvitations(t, db, "org_a", 2)
	items, _ := db.Recent(t.Context(), "org_a", 2)
	sentID, retryID := items[0].ID, items[1].ID
	eventsBefore := len(allEvents(t, db))

	if ok, err := db.MarkSent(t.Context(), sentID, 2, at(5)); err != nil || !ok {
		t.Fatalf("attempt 2 sent = %v, %v", ok, err)
	}
	stale := map[string]func() (bool, error){
		"MarkFailed": func() (bool, error) {
			return db.MarkFailed(t.Context(), sentID, 1, "smtp said no", event("org_a", club.ActionInvitationFailed))
		},
		"MarkRetry": func() (bool, error) { return db.MarkRetry(t.Context(), sentID, 1, at(9), "smtp said no") },
		"MarkSent":  func() (bool, error) { return db.MarkSent(t.Context(), sentID, 1, at(9)) },
		// Even a later attempt number cannot reopen a settled invitation.
		"MarkFailed by a later attempt": func() (bool, error) {
			return db.MarkFailed(t.Context(), sentID, 3, "smtp said no", event("org_a", club.ActionInvitationFailed))
		},
	}
	for name, mark := range stale {
		if ok, err := mark(); err != nil || ok {
			t.Errorf("stale %s = %v, %v; want not recorded, no error", name, ok, err)
		}
	}
	if got, _ := db.OutboxItem(t.Context(), sentID); got.Status != club.InvitationSent || got.Attempts != 2 || !got.SentAt.Equal(at(5)) || got.LastError != "" {
		t.Errorf("after stale marks: %+v, want still sent by attempt 2", got)
	}
	if got := len(allEvents(t, db)); got != eventsBefore {
		t.Errorf("audit rows = %d, want %d: a stale give-up appends nothing", got, eventsBefore)
	}

	// Attempt 3 recorded a retry at minute 40; attempt 2, late, would set
	// an earlier time and another reason.
	if ok, err := db.MarkRetry(t.Context(), retryID, 3, at(40), "greylisted"); err != nil || !ok {
		t.Fatalf("attempt 3 retry = %v, %v", ok, err)
	}
	if ok, err := db.MarkRetry(t.Context(), retryID, 2, at(10), "timeout"); err != nil || ok {
		t.Errorf("stale retry = %v, %v; want not recorded", ok, err)
	}
	if got, _ := db.OutboxItem(t.Context(), retryID); got.Attempts != 3 || got.LastError != "greylisted" || !got.NextAttemptAt.Equal(at(40)) {
		t.Errorf("after a stale retry: %+v, want attempt 3's", got)
	}
}

// testOutboxMarksConcurrently has attempts on two instances mark one
// invitation at once, each as sent: exactly one is recorded.
func testOutboxMarksConcurrently(t *testing.T, db *DB) {
	queueInvitations(t, db, "org_a", 1)
	items, _ := db.Recent(t.Context(), "org_a", 1)
	instances := []*DB{db, reopen(t, db)}
	const n = 8
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		recorded []int
	)
	for attempt := 1; attempt <= n; attempt++ {
		wg.Go(func() {
			ok, err := instances[attempt%2].MarkSent(t.Context(), items[0].ID, attempt, at(attempt))
			if err != nil {
				t.Errorf("attempt %d: %v (busy: %v)", attempt, err, isBusy(err))
			}
			if ok {
				mu.Lock()
				recorded = append(recorded, attempt)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(recorded) != 1 {
		t.Fatalf("recorded sends = %v, want exactly one", recorded)
	}
	got, _ := db.OutboxItem(t.Context(), items[0].ID)
	if got.Status != club.InvitationSent || got.Attempts != recorded[0] || !got.SentAt.Equal(at(recorded[0])) {
		t.Errorf("item = %+v, want sent by attempt %d", got, recorded[0])
	}
}

func testOutboxRecent(t *testing.T, db *DB) {
	queueInvitations(t, db, "org_a", 5)
	queueInvitations(t, db, "org_b", 2)
	got, err := db.Recent(t.Context(), "org_a", 3)
	if err != nil {
		t.Fatalf("recent: %v", err)
	}
	if len(got) != 3 || got[0].ID <= got[1].ID || got[1].ID <= got[2].ID || got[0].Invitation.Name != "Guest 4" {
		t.Errorf("recent = %+v, want the 3 newest, newest first", got)
	}
	for _, it := range got {
		if it.Invitation.ClubCode != "org_a" {
			t.Errorf("recent of org_a has %+v", it)
		}
	}
	if got, _ := db.Recent(t.Context(), "org_x", 0); got == nil || len(got) != 0 {
		t.Errorf("recent of an unknown club = %#v, want empty", got)
	}
}

// testConcurrentWriters has two instances write at once: no write fails
// (in SQLite, none with SQLITE_BUSY) and none is lost.
func testConcurrentWriters(t *testing.T, db *DB) {
	instances := []*DB{db, reopen(t, db)}
	const writers, each = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			inst := instances[w%len(instances)]
			for i := range each {
				m := newMember("org_a", w*100+i+1, "W", fmt.Sprint(w), club.RoleOwner)
				ev := event("org_a", club.ActionMemberAdded)
				if err := inst.SaveMember(t.Context(), 0, m, &ev, &club.Invitation{ClubCode: "org_a", Email: m.Email}); err != nil {
					errs <- err
				}
				if _, err := inst.Members(t.Context(), "org_a", club.MemberQuery{Search: "w", Limit: 10}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v (busy: %v)", err, isBusy(err))
	}
	if n, _ := db.CountWithRole(t.Context(), "org_a", club.RoleOwner); n != writers*each {
		t.Errorf("owners = %d, want %d", n, writers*each)
	}
	if got := len(allEvents(t, db)); got != writers*each {
		t.Errorf("audit rows = %d, want %d", got, writers*each)
	}
}

func testSessions(t *testing.T, db *DB) {
	now := at(0)
	db.now = func() time.Time { return now }
	_, _, _, err := db.LoadSession(t.Context(), "missing")
	wantNotFound(t, "missing session", err)

	if err := db.SaveSession(t.Context(), "s1", []byte{0, 1, 2, 0xff}, at(10), 0); err != nil {
		t.Fatalf("save: %v", err)
	}
	data, exp, v, err := db.LoadSession(t.Context(), "s1")
	if err != nil || !slices.Equal(data, []byte{0, 1, 2, 0xff}) || !exp.Equal(at(10)) || v != 1 {
		t.Fatalf("load = %v, %v, version %d, %v; want version 1", data, exp, v, err)
	}
	// Saving again at the loaded version replaces data and expiry.
	if err := db.SaveSession(t.Context(), "s1", []byte("second"), at(20), v); err != nil {
		t.Fatalf("save again: %v", err)
	}
	if data, exp, v, _ := db.LoadSession(t.Context(), "s1"); string(data) != "second" || !exp.Equal(at(20)) || v != 2 {
		t.Errorf("after update: %q, %v, version %d; want version 2", data, exp, v)
	}
	// Expired sessions are not found, even before they are swept.
	now = at(20)
	_, _, _, err = db.LoadSession(t.Context(), "s1")
	wantNotFound(t, "session at its expiry", err)

	for i, exp := range []time.Time{at(15), at(25), at(30)} {
		if err := db.SaveSession(t.Context(), fmt.Sprint("t", i), nil, exp, 0); err != nil {
			t.Fatalf("save: %v", err)
		}
	}
	n, err := db.DeleteExpiredSessions(t.Context(), at(25))
	if err != nil || n != 3 { // s1 (20), t0 (15), t1 (25)
		t.Errorf("DeleteExpiredSessions = %d, %v; want 3", n, err)
	}
	now = at(0)
	if _, _, _, err := db.LoadSession(t.Context(), "t2"); err != nil {
		t.Errorf("live session swept: %v", err)
	}
	if err := db.DeleteSession(t.Context(), "t2"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, _, _, err = db.LoadSession(t.Context(), "t2")
	wantNotFound(t, "deleted session", err)
	if err := db.DeleteSession(t.Context(), "t2"); err != nil {
		t.Errorf("deleting a missing session: %v", err)
	}
}

func testDevMailbox(t *testing.T, db *DB) {
	for i := range 3 {
		m := club.Mail{To: fmt.Sprintf("to%d@example.org", i), Subject: fmt.Sprint("Subject ", i), HTML: "<p>hi</p>", Text: "hi", At: at(i)}
		if err := db.Deliver(t.Context(), m); err != nil {
			t.Fatalf("deliver: %v", err)
		}
	}
	got, err := db.Messages(t.Context(), 2)
	if err != nil || len(got) != 2 || got[0].Subject != "Subject 2" || got[1].Subject != "Subject 1" {
		t.Fatalf("messages = %+v, %v; want the 2 newest, newest first", got, err)
	}
	one, err := db.Message(t.Context(), got[1].ID)
	if err != nil || one != got[1] {
		t.Errorf("Message = %+v, %v; want %+v", one, err, got[1])
	}
	if want := (club.Mail{ID: one.ID, To: "to1@example.org", Subject: "Subject 1", HTML: "<p>hi</p>", Text: "hi", At: at(1)}); one != want {
		t.Errorf("Message = %+v, want %+v", one, want)
	}
	_, err = db.Message(t.Context(), 424242)
	wantNotFound(t, "unknown message", err)
}

func testTimestampsUTC(t *testing.T, db *DB) {
	lisbonSummer := time.FixedZone("WEST", 3600)
	joined := time.Date(2025, 7, 1, 9, 30, 15, 123456789, lisbonSummer)
	m := newMember("org_a", 1, "Ana", "Alves", club.RoleOwner)
	m.JoinedAt = joined
	save(t, db, m)
	got := mustMember(t, db, "org_a", m.UserID).JoinedAt
	if got.Location() != time.UTC || !got.Equal(joined.Truncate(time.Microsecond)) {
		t.Errorf("JoinedAt = %v (%v), want %v in UTC", got, got.Location(), joined.UTC().Truncate(time.Microsecond))
	}
	// Stored as UTC, not as the caller's zone.
	var raw string
	query := `SELECT joined_at FROM memberships`
	if db.Dialect() == DialectPostgres {
		query = `SELECT to_char(joined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM memberships`
	}
	if err := db.read.QueryRowContext(t.Context(), query).Scan(&raw); err != nil {
		t.Fatalf("raw: %v", err)
	}
	if want := "2025-07-01T08:30:15.123456Z"; raw != want {
		t.Errorf("stored %q, want %q", raw, want)
	}
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// testReplaceMembersReportsChanges: a sync tells what it changed, pending
// memberships aside, and appends only the event it is given for that.
func testReplaceMembersReportsChanges(t *testing.T, db *DB) {
	stay := newMember("org_a", 1, "Ana", "Alves", club.RoleOwner)
	promoted := newMember("org_a", 2, "Bruno", "Brito", club.RoleMember)
	leaves := newMember("org_a", 3, "Carla", "Cruz", club.RoleMember)
	moved := newMember("org_a", 4, "Dev", "Dias", club.RoleMember)
	pending := newMember("org_a", 5, "Eva", "Pending")
	pending.Pending = true
	save(t, db, stay, promoted, leaves, moved, pending)

	var seen []club.SyncChanges
	record := func(ch club.SyncChanges) *club.AuditEvent {
		seen = append(seen, ch)
		if ch.None() {
			return nil
		}
		ev := event("org_a", club.ActionClubSynced)
		ev.Detail = ch.String()
		return &ev
	}
	promoted.Roles = []string{club.RoleAdmin, club.RoleMember}
	moved.Email = "dev.new@example.org"
	joined := newMember("org_a", 6, "Fay", "Fox", club.RoleCoach)
	// Kinde still lists the pending one without roles: it stays pending.
	pendingInKinde := pending
	pendingInKinde.Pending = false
	fromKinde := []club.Member{stay, promoted, moved, joined, pendingInKinde}
	got, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, fromKinde, readVersion(t, db), at(10), record)
	if err != nil {
		t.Fatalf("replace members: %v", err)
	}
	want := club.SyncChanges{Joined: 1, Left: 1, RolesChanged: 1, Updated: 1}
	if got != want || len(seen) != 1 || seen[0] != want {
		t.Errorf("changes = %+v (event saw %+v), want %+v", got, seen, want)
	}
	if evs := allEvents(t, db); len(evs) != 1 || evs[0].Detail != "1 joined, 1 left, 1 with changed roles, 1 with a changed email" {
		t.Errorf("events = %+v, want one saying what changed", evs)
	}

	// The same list again changes nothing, and nothing is appended.
	got, err = db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, fromKinde, readVersion(t, db), at(20), record)
	if err != nil || !got.None() {
		t.Errorf("second sync = %+v, %v; want no changes", got, err)
	}
	if n := len(allEvents(t, db)); n != 1 {
		t.Errorf("%d events after a sync that changed nothing, want 1", n)
	}
	if synced, _ := db.LastSynced(t.Context(), "org_a"); !synced.Equal(at(20)) {
		t.Errorf("last synced = %v, want %v even when nothing changed", synced, at(20))
	}
}

// testRenameClub: a rename changes the name and keeps who created the club
// and when, so the double-submit guard still finds it (by its new name) only
// from its creator; a club known only from a sync gets no creation time.
func testRenameClub(t *testing.T, db *DB) {
	created := event("org_new", club.ActionClubCreated)
	created.At = at(10)
	if err := db.SaveClub(t.Context(), club.Club{Code: "org_new", Name: "Rowing Club"}, userID(1), created); err != nil {
		t.Fatal(err)
	}
	renamed := event("org_new", club.ActionClubRenamed)
	renamed.At = at(50)
	if err := db.RenameClub(t.Context(), club.Club{Code: "org_new", Name: "Rowing & Sculling"}, renamed); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if got, _ := db.Club(t.Context(), "org_new"); got.Name != "Rowing & Sculling" {
		t.Errorf("name after rename = %q", got.Name)
	}
	if got, err := db.RecentClubByCreator(t.Context(), userID(1), "Rowing & Sculling", at(5)); err != nil || got.Code != "org_new" {
		t.Errorf("creator lookup after rename = %+v, %v; want org_new created at minute 10", got, err)
	}
	if _, err := db.RecentClubByCreator(t.Context(), userID(1), "Rowing & Sculling", at(11)); !errors.Is(err, club.ErrNotFound) {
		t.Errorf("the rename moved the creation time: %v", err)
	}
	if evs := actions(allEvents(t, db)); !slices.Equal(evs, []string{club.ActionClubRenamed, club.ActionClubCreated}) {
		t.Errorf("events = %v", evs)
	}
	// A club the portal only knew from a sync gets a name, and no creation.
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_synced"}, nil, readVersion(t, db), at(1), always(event("org_synced", club.ActionClubSynced))); err != nil {
		t.Fatal(err)
	}
	if err := db.RenameClub(t.Context(), club.Club{Code: "org_synced", Name: "Synced Club"}, renamed); err != nil {
		t.Fatal(err)
	}
	var createdAt sql.NullString
	var creator string
	if err := db.read.QueryRowContext(t.Context(), `SELECT CAST(created_at AS TEXT), created_by FROM clubs WHERE code = 'org_synced'`).Scan(&createdAt, &creator); err != nil {
		t.Fatal(err)
	}
	if createdAt.Valid || creator != "" {
		t.Errorf("a renamed synced club has creation %q by %q, want none", createdAt.String, creator)
	}
	if got, _ := db.Club(t.Context(), "org_synced"); got.Name != "Synced Club" {
		t.Errorf("synced club's name = %q", got.Name)
	}
}
