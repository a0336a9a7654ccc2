package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

// txQueue is an InvitationQueue that queues each job as a row of a table
// of its own, in the transaction it is given, as River does: jobs lists
// the ones that committed. A non-nil fail is returned after the row is
// written.
type txQueue struct {
	db   *DB
	fail error
}

// newTxQueue sets a txQueue on db and on the other instances given.
func newTxQueue(t *testing.T, db *DB, others ...*DB) *txQueue {
	t.Helper()
	if _, err := db.write.ExecContext(t.Context(), `CREATE TABLE test_invitation_jobs (outbox_id BIGINT NOT NULL)`); err != nil {
		t.Fatalf("create job table: %v", err)
	}
	q := &txQueue{db: db}
	for _, inst := range append([]*DB{db}, others...) {
		inst.SetInvitationQueue(q)
	}
	return q
}

func (q *txQueue) EnqueueInvitationTx(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO test_invitation_jobs (outbox_id) VALUES ($1)`, id); err != nil {
		return err
	}
	return q.fail
}

// jobs lists the outbox ids of the committed jobs, in order.
func (q *txQueue) jobs(t *testing.T) []int64 {
	t.Helper()
	rows, err := q.db.read.QueryContext(t.Context(), `SELECT outbox_id FROM test_invitation_jobs ORDER BY outbox_id`)
	if err != nil {
		t.Fatalf("jobs: %v", err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatalf("jobs: %v", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("jobs: %v", err)
	}
	return ids
}

// outboxIDs lists the club's outbox ids, oldest first.
func outboxIDs(t *testing.T, db *DB, clubCode string) []int64 {
	t.Helper()
	items, err := db.Recent(t.Context(), clubCode, maxRecent)
	if err != nil {
		t.Fatalf("recent: %v", err)
	}
	ids := []int64{}
	for _, it := range slices.Backward(items) {
		ids = append(ids, it.ID)
	}
	return ids
}

// testOutboxJobCommitsWithRow: each invitation written queues one job, for
// its own row, in the transaction that writes it.
func testOutboxJobCommitsWithRow(t *testing.T, db *DB) {
	q := newTxQueue(t, db)
	queueInvitations(t, db, "org_a", 2)
	if got, want := q.jobs(t), outboxIDs(t, db, "org_a"); len(want) != 2 || !slices.Equal(got, want) {
		t.Errorf("jobs = %v, want one per invitation %v", got, want)
	}

	// Without a queue an invitation is a row alone, which the sweep finds.
	db.SetInvitationQueue(nil)
	queueInvitations(t, db, "org_b", 1)
	if got := q.jobs(t); len(got) != 2 {
		t.Errorf("jobs = %v, want none for org_b's invitation", got)
	}
	due, err := db.DueInvitations(t.Context(), at(100), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if ids := outboxIDs(t, db, "org_b"); len(due) != 3 || due[2].ID != ids[0] {
		t.Errorf("due = %+v, want org_b's %v among them", due, ids)
	}
}

// testOutboxJobRollsBack: a membership save that fails writes no member,
// no invitation and no job, even when the job was queued before it failed.
func testOutboxJobRollsBack(t *testing.T, db *DB) {
	q := newTxQueue(t, db)
	m := newMember("org_a", 1, "Ana", "Alves", club.RoleMember)
	ev := event("org_a", club.ActionMemberAdded)
	inv := &club.Invitation{ClubCode: "org_a", Email: m.Email}
	boom := errors.New("queue unavailable")

	q.fail = boom
	if err := db.SaveMember(t.Context(), 0, m, &ev, inv); !errors.Is(err, boom) {
		t.Fatalf("SaveMember with a failing queue = %v, want %v", err, boom)
	}
	bad := club.AuditEvent{ClubCode: "org_a"} // no action: the audit insert fails
	q.fail = nil
	if err := db.SaveMember(t.Context(), 0, m, &bad, inv); err == nil {
		t.Fatal("SaveMember with a bad event succeeded, want an error")
	}
	_, err := db.Member(t.Context(), "org_a", m.UserID)
	wantNotFound(t, "member after failed saves", err)
	if ids := outboxIDs(t, db, "org_a"); len(ids) != 0 {
		t.Errorf("outbox after failed saves = %v, want empty", ids)
	}
	if got := q.jobs(t); len(got) != 0 {
		t.Errorf("jobs after failed saves = %v, want none", got)
	}
	if evs := allEvents(t, db); len(evs) != 0 {
		t.Errorf("audit after failed saves = %+v, want none", evs)
	}
}

func testDueInvitations(t *testing.T, db *DB) {
	queueInvitations(t, db, "org_a", 4) // due at minutes 0, 1, 2, 0
	ids := outboxIDs(t, db, "org_a")
	if _, err := db.MarkRetry(t.Context(), ids[1], 1, at(30), "later"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MarkSent(t.Context(), ids[2], 1, at(3)); err != nil {
		t.Fatal(err)
	}
	dueIDs := func(now int, after int64, limit int) []int64 {
		t.Helper()
		items, err := db.DueInvitations(t.Context(), at(now), after, limit)
		if err != nil {
			t.Fatalf("due invitations: %v", err)
		}
		got := []int64{}
		for _, it := range items {
			if it.Status != club.InvitationQueued {
				t.Errorf("due item %+v is not queued", it)
			}
			got = append(got, it.ID)
		}
		return got
	}
	for _, tt := range []struct {
		name  string
		now   int
		after int64
		limit int
		want  []int64
	}{
		{"before any is due", -1, 0, 10, []int64{}},
		{"the retry not yet due", 10, 0, 10, []int64{ids[0], ids[3]}},
		{"the retry due", 30, 0, 10, []int64{ids[0], ids[1], ids[3]}},
		{"a page", 30, 0, 2, []int64{ids[0], ids[1]}},
		{"the next page", 30, ids[1], 2, []int64{ids[3]}},
		{"no limit", 30, 0, 0, []int64{}},
	} {
		if got := dueIDs(tt.now, tt.after, tt.limit); !slices.Equal(got, tt.want) {
			t.Errorf("%s: due = %v, want %v", tt.name, got, tt.want)
		}
	}
}
