package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// The session version tests run on both databases, like the shared suite.

func TestSessionVersionsSQLite(t *testing.T) {
	t.Parallel()
	runSessionVersionSuite(t, openSQLiteTest)
}

func TestSessionVersionsPostgres(t *testing.T) {
	t.Parallel()
	postgresURL(t)
	runSessionVersionSuite(t, openPostgresTest)
}

func runSessionVersionSuite(t *testing.T, open func(t *testing.T) *DB) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, db *DB)
	}{
		{"StaleSaveAfterDeleteDoesNotRevive", testSessionStaleSaveAfterDelete},
		{"OneOfTwoSavesFromOneVersionWins", testSessionConcurrentSaves},
		{"StaleSaveAfterRotationDoesNotRevive", testSessionStaleSaveAfterRotation},
		{"ExpiredTombstonesArePruned", testSessionTombstonesPruned},
		{"RowsFromBeforeVersionsStayWritable", testSessionRowsFromBeforeVersions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			db.now = func() time.Time { return at(0) }
			tt.run(t, db)
		})
	}
}

// newSession saves a new session and returns the version a request loading
// it would see.
func newSession(t *testing.T, db *DB, id, data string, expires time.Time) int64 {
	t.Helper()
	if err := db.SaveSession(t.Context(), id, []byte(data), expires, 0); err != nil {
		t.Fatalf("create session %s: %v", id, err)
	}
	_, _, v, err := db.LoadSession(t.Context(), id)
	if err != nil {
		t.Fatalf("load session %s: %v", id, err)
	}
	return v
}

func wantStale(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrStaleSession) || club.ErrorCode(err) != club.ECONFLICT {
		t.Errorf("%s: err = %v, want ErrStaleSession (ECONFLICT)", what, err)
	}
}

// sessionRow reads a session's row as stored, tombstones included.
func sessionRow(t *testing.T, db *DB, id string) (data []byte, ended, found bool) {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), `SELECT data, ended FROM sessions WHERE id = $1`, id)
	if err != nil {
		t.Fatalf("read session row: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&data, &ended); err != nil {
			t.Fatalf("scan session row: %v", err)
		}
		found = true
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read session row: %v", err)
	}
	return data, ended, found
}

func testSessionStaleSaveAfterDelete(t *testing.T, db *DB) {
	v := newSession(t, db, "s1", `{"user":"olivia"}`, at(60))
	if err := db.DeleteSession(t.Context(), "s1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	// The request that loaded s1 before the sign-out saves; so does one
	// that starts the id afresh.
	wantStale(t, "save at the loaded version", db.SaveSession(t.Context(), "s1", []byte(`{"user":"olivia","flash":1}`), at(90), v))
	wantStale(t, "save as a new id", db.SaveSession(t.Context(), "s1", []byte(`{"user":"olivia"}`), at(90), 0))
	_, _, _, err := db.LoadSession(t.Context(), "s1")
	wantNotFound(t, "session after stale saves", err)
	if data, ended, found := sessionRow(t, db, "s1"); !found || !ended || len(data) != 0 {
		t.Errorf("row = %q, ended %v, found %v; want an empty tombstone", data, ended, found)
	}
}

func testSessionConcurrentSaves(t *testing.T, db *DB) {
	v := newSession(t, db, "s1", "start", at(60))
	instances := []*DB{db, reopen(t, db)}
	const writers = 6
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			errs[w] = instances[w%len(instances)].SaveSession(t.Context(), "s1", []byte(fmt.Sprint("writer ", w)), at(90), v)
		})
	}
	wg.Wait()
	winner := -1
	for w, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both won", winner, w)
		case err == nil:
			winner = w
		default:
			wantStale(t, fmt.Sprint("losing writer ", w), err)
		}
	}
	data, _, got, err := db.LoadSession(t.Context(), "s1")
	if winner < 0 || err != nil || string(data) != fmt.Sprint("writer ", winner) || got != v+1 {
		t.Errorf("after the race: %q, version %d, %v; want writer %d's data at version %d", data, got, err, winner, v+1)
	}
}

func testSessionStaleSaveAfterRotation(t *testing.T, db *DB) {
	v := newSession(t, db, "old", "signed in", at(60))
	// Another request rotates the id: the new record first, then the old
	// one ended, as the session package does.
	if err := db.DeleteSession(t.Context(), "old"); err != nil {
		t.Fatalf("end old id: %v", err)
	}
	newSession(t, db, "new", "signed in again", at(60))
	wantStale(t, "stale save of the old id", db.SaveSession(t.Context(), "old", []byte("signed in"), at(90), v))
	_, _, _, err := db.LoadSession(t.Context(), "old")
	wantNotFound(t, "old id after a stale save", err)
	if data, _, _, err := db.LoadSession(t.Context(), "new"); err != nil || string(data) != "signed in again" {
		t.Errorf("new id = %q, %v; want the rotated session", data, err)
	}
}

func testSessionTombstonesPruned(t *testing.T, db *DB) {
	newSession(t, db, "ended", "x", at(10))
	newSession(t, db, "live", "y", at(30))
	if err := db.DeleteSession(t.Context(), "ended"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if n, err := db.DeleteExpiredSessions(t.Context(), at(5)); err != nil || n != 0 {
		t.Errorf("sweep before expiry = %d, %v; want 0", n, err)
	}
	if _, _, found := sessionRow(t, db, "ended"); !found {
		t.Error("tombstone swept before its expiry")
	}
	if n, err := db.DeleteExpiredSessions(t.Context(), at(10)); err != nil || n != 1 {
		t.Errorf("sweep at the tombstone's expiry = %d, %v; want 1", n, err)
	}
	if _, _, found := sessionRow(t, db, "ended"); found {
		t.Error("expired tombstone not swept")
	}
	if _, _, _, err := db.LoadSession(t.Context(), "live"); err != nil {
		t.Errorf("live session swept with the tombstone: %v", err)
	}
}

// testSessionRowsFromBeforeVersions checks the rows the migration found, or
// that an instance still running the old code writes: they are at version
// 0, the first save takes them over, and the old unconditional upsert
// cannot bring an ended one back.
func testSessionRowsFromBeforeVersions(t *testing.T, db *DB) {
	oldUpsert := func(id, data string) {
		t.Helper()
		_, err := db.write.ExecContext(t.Context(), `
			INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`, id, []byte(data), db.ts(at(60)))
		if err != nil {
			t.Fatalf("old upsert: %v", err)
		}
	}
	oldUpsert("s1", "before")
	if _, _, v, err := db.LoadSession(t.Context(), "s1"); err != nil || v != 0 {
		t.Fatalf("load = version %d, %v; want version 0", v, err)
	}
	if err := db.SaveSession(t.Context(), "s1", []byte("after"), at(60), 0); err != nil {
		t.Fatalf("save over a row from before versions: %v", err)
	}
	wantStale(t, "second save from version 0", db.SaveSession(t.Context(), "s1", []byte("again"), at(60), 0))
	if err := db.DeleteSession(t.Context(), "s1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	oldUpsert("s1", "revived?")
	_, _, _, err := db.LoadSession(t.Context(), "s1")
	wantNotFound(t, "ended session after the old upsert", err)
}
