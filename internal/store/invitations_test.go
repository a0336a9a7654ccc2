package store

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

// resendEvent is the audit row of a resend by the suite's owner.
func resendEvent(m club.Member) club.AuditEvent {
	ev := event(m.ClubCode, club.ActionInvitationResent)
	ev.TargetID, ev.TargetEmail = m.UserID, m.Email
	return ev
}

func inviteOf(m club.Member) club.Invitation {
	return club.Invitation{ClubCode: m.ClubCode, ClubName: "Club " + m.ClubCode, Email: m.Email, Name: m.Name(), InvitedBy: "Olga Owner"}
}

func testQueueInvitation(t *testing.T, db *DB) {
	q := newTxQueue(t, db)
	queueInvitations(t, db, "org_a", 1) // user 1, with a queued invitation
	m := mustMember(t, db, "org_a", userID(1))
	first, _ := db.Recent(t.Context(), "org_a", 1)
	wantJobs := func(what string, want ...int64) {
		t.Helper()
		if got := q.jobs(t); !slices.Equal(got, want) {
			t.Errorf("%s: jobs = %v, want %v", what, got, want)
		}
	}
	wantJobs("the first invitation", first[0].ID)

	// allow sees the latest invitation; its refusal comes back as is and
	// nothing is written.
	refusal := club.Errorf(club.ECONFLICT, "already on its way")
	var seen club.OutboxItem
	err := db.QueueInvitation(t.Context(), m.UserID, inviteOf(m), resendEvent(m), func(last club.OutboxItem) error {
		seen = last
		return refusal
	})
	if err != refusal {
		t.Fatalf("refused queue: err = %v, want allow's error as is", err)
	}
	if seen.ID != first[0].ID || seen.Status != club.InvitationQueued || seen.Invitation.Email != m.Email {
		t.Errorf("allow saw %+v, want %+v", seen, first[0])
	}
	if items, _ := db.Recent(t.Context(), "org_a", 10); len(items) != 1 || len(allEvents(t, db)) != 1 {
		t.Errorf("a refused queue wrote: %d invitations, %d events", len(items), len(allEvents(t, db)))
	}
	wantJobs("a refused Send again", first[0].ID)

	// Allowed: a new invitation and its audit row, in one go.
	if err := db.QueueInvitation(t.Context(), m.UserID, inviteOf(m), resendEvent(m), func(club.OutboxItem) error { return nil }); err != nil {
		t.Fatalf("queue invitation: %v", err)
	}
	items, _ := db.Recent(t.Context(), "org_a", 10)
	if len(items) != 2 || items[0].Status != club.InvitationQueued || items[0].Invitation != inviteOf(m) {
		t.Fatalf("outbox = %+v, want the new invitation queued on top", items)
	}
	// Send again queues exactly one job, for the new invitation.
	wantJobs("Send again", first[0].ID, items[0].ID)
	if evs := allEvents(t, db); evs[0].Action != club.ActionInvitationResent || evs[0].TargetID != m.UserID {
		t.Errorf("latest event = %+v, want invitation.resent for %s", evs[0], m.UserID)
	}

	// Only a listed member of the club gets one; allow is not even asked.
	pending := newMember("org_a", 2, "Pat", "Pending")
	pending.Pending = true
	other := newMember("org_b", 3, "Otto", "Other")
	save(t, db, pending, other)
	for _, tc := range []struct {
		name   string
		userID string
		inv    club.Invitation
	}{
		{"stranger", userID(99), inviteOf(newMember("org_a", 99, "No", "Body"))},
		{"pending", pending.UserID, inviteOf(pending)},
		{"member of another club", other.UserID, inviteOf(newMember("org_a", 3, "Otto", "Other"))},
	} {
		err := db.QueueInvitation(t.Context(), tc.userID, tc.inv, resendEvent(m), func(club.OutboxItem) error {
			t.Errorf("%s: allow was asked", tc.name)
			return nil
		})
		if !errors.Is(err, club.ErrNotFound) {
			t.Errorf("%s: err = %v, want not found", tc.name, err)
		}
	}
	if items, _ := db.Recent(t.Context(), "org_a", 10); len(items) != 2 {
		t.Errorf("refused queues left %d invitations, want 2", len(items))
	}
	wantJobs("refused queues", first[0].ID, items[0].ID)
}

// testQueueInvitationRace has two instances resend to one member at once,
// each allowing only when nothing is queued: exactly one invitation goes.
func testQueueInvitationRace(t *testing.T, db *DB) {
	instances := []*DB{db, reopen(t, db)}
	q := newTxQueue(t, db, instances[1])
	queueInvitations(t, db, "org_a", 1)
	first, _ := db.Recent(t.Context(), "org_a", 1)
	if _, err := db.MarkSent(t.Context(), first[0].ID, 1, at(1)); err != nil {
		t.Fatal(err)
	}
	m := mustMember(t, db, "org_a", userID(1))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		queued  int
		refused int
	)
	for i := range 8 {
		wg.Go(func() {
			err := instances[i%2].QueueInvitation(t.Context(), m.UserID, inviteOf(m), resendEvent(m), func(last club.OutboxItem) error {
				if last.Status == club.InvitationQueued {
					return club.Errorf(club.ECONFLICT, "already on its way")
				}
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			switch club.ErrorCode(err) {
			case "":
				queued++
			case club.ECONFLICT:
				refused++
			default:
				t.Errorf("queue invitation: %v", err)
			}
		})
	}
	wg.Wait()
	if queued != 1 || refused != 7 {
		t.Errorf("8 resends at once: %d queued, %d refused; want 1 and 7", queued, refused)
	}
	if items, _ := db.Recent(t.Context(), "org_a", 10); len(items) != 2 {
		t.Errorf("outbox has %d invitations, want 2", len(items))
	}
	if got, want := q.jobs(t), outboxIDs(t, db, "org_a"); !slices.Equal(got, want) {
		t.Errorf("jobs = %v, want one per invitation %v", got, want)
	}
}

func testClubInvitations(t *testing.T, db *DB) {
	queueInvitations(t, db, "org_a", 3) // users 1–3
	queueInvitations(t, db, "org_b", 1)
	items, _ := db.Recent(t.Context(), "org_a", 10) // newest first: users 3, 2, 1
	// User 1's invitation is given up on, then resent; user 2's is given
	// up on; user 3 leaves the club.
	fail := func(id int64) {
		t.Helper()
		if ok, err := db.MarkFailed(t.Context(), id, 1, "mailbox unavailable", event("org_a", club.ActionInvitationFailed)); err != nil || !ok {
			t.Fatalf("mark failed = %v, %v", ok, err)
		}
	}
	fail(items[2].ID)
	fail(items[1].ID)
	u1 := mustMember(t, db, "org_a", userID(1))
	if err := db.QueueInvitation(t.Context(), u1.UserID, inviteOf(u1), resendEvent(u1), func(club.OutboxItem) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteMember(t.Context(), 0, "org_a", userID(3), event("org_a", club.ActionMemberRemoved)); err != nil {
		t.Fatal(err)
	}

	page, err := db.ClubInvitations(t.Context(), "org_a", 0, 10)
	if err != nil {
		t.Fatalf("club invitations: %v", err)
	}
	type row struct {
		email      string
		status     club.InvitationStatus
		memberID   string
		superseded bool
	}
	var got []row
	for _, it := range page.Items {
		got = append(got, row{it.Invitation.Email, it.Status, it.MemberID, it.Superseded})
	}
	want := []row{
		{u1.Email, club.InvitationQueued, userID(1), false},            // the resend
		{"user3@example.org", club.InvitationQueued, "", false},        // no longer a member
		{"user2@example.org", club.InvitationFailed, userID(2), false}, // needs a look
		{u1.Email, club.InvitationFailed, userID(1), true},             // resent since
	}
	if page.Total != 4 || !slices.Equal(got, want) {
		t.Errorf("club invitations (total %d) = %+v, want %+v", page.Total, got, want)
	}
	if page.Items[2].LastError != "mailbox unavailable" || page.Items[2].Attempts != 1 {
		t.Errorf("failed row = %+v, want its attempts and reason", page.Items[2])
	}
	if p2, _ := db.ClubInvitations(t.Context(), "org_a", 3, 10); len(p2.Items) != 1 || p2.Items[0].Invitation.Email != u1.Email || p2.Total != 4 {
		t.Errorf("offset 3 = %+v, want the oldest alone", p2)
	}

	// Only user 2 needs a look: user 1 was resent, user 3 left.
	if n, err := db.FailedInvitations(t.Context(), "org_a"); err != nil || n != 1 {
		t.Errorf("failed invitations = %d, %v; want 1", n, err)
	}
	if n, _ := db.FailedInvitations(t.Context(), "org_b"); n != 0 {
		t.Errorf("failed invitations of org_b = %d, want 0", n)
	}
	if p, _ := db.ClubInvitations(t.Context(), "org_x", 0, 10); p.Total != 0 || p.Items == nil || len(p.Items) != 0 {
		t.Errorf("unknown club = %#v, want an empty page", p)
	}
}
