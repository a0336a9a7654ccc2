package store

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

// The import tests run on both databases, like the shared suite.

func TestImportsSQLite(t *testing.T) {
	t.Parallel()
	runImportSuite(t, openSQLiteTest)
}

func TestImportsPostgres(t *testing.T) {
	t.Parallel()
	postgresURL(t)
	runImportSuite(t, openPostgresTest)
}

func runImportSuite(t *testing.T, open func(t *testing.T) *DB) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, db *DB)
	}{
		{"CreateAndCount", testImportCreate},
		{"ScopedToClub", testImportScoped},
		{"OneActiveImportPerFile", testImportOneActivePerFile},
		{"MigrationKeepsDuplicatesRunning", testImportMigrationKeepsDuplicatesRunning},
		{"SaveRowsWritesMembersAndInvitations", testImportSaveRows},
		{"FinalRowsAreNeverRewritten", testImportFinalRows},
		{"FinishOnce", testImportFinish},
		{"FiveThousandRows", testImportLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

func importRows(n int) []club.ImportRow {
	rows := make([]club.ImportRow, n)
	for i := range rows {
		rows[i] = club.ImportRow{Line: i + 2, Email: fmt.Sprintf("person%d@example.org", i), FirstName: "Ana", LastName: fmt.Sprint(i),
			Roles: []string{"coach", "member"}, Status: club.ImportPending}
	}
	return rows
}

func createImport(t *testing.T, db *DB, clubCode, digest string, rows []club.ImportRow) int64 {
	t.Helper()
	imp := club.Import{ClubCode: clubCode, ClubName: "Riverside", ActorID: userID(999), ActorName: "Olga Owner",
		FileName: "members.csv", Digest: digest, CreatedAt: base()}
	id, err := db.CreateImport(t.Context(), imp, rows, event(clubCode, club.ActionImportStarted))
	if err != nil {
		t.Fatalf("create import: %v", err)
	}
	return id
}

func testImportCreate(t *testing.T, db *DB) {
	rows := importRows(3)
	rows = append(rows, club.ImportRow{Line: 9, Email: "bad", Status: club.ImportSkipped, Reason: "Enter a valid email address."})
	id := createImport(t, db, "org_a", "d1", rows)
	imp, err := db.Import(t.Context(), "org_a", id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := imp.Counts, (club.ImportCounts{Pending: 3, Skipped: 1}); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	if imp.Status != club.ImportQueued || imp.FileName != "members.csv" || imp.ActorName != "Olga Owner" || !imp.CreatedAt.Equal(base()) {
		t.Errorf("import = %+v", imp)
	}
	got, err := db.ImportRows(t.Context(), "org_a", id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Email != "person0@example.org" || !slices.Equal(got[0].Roles, []string{"coach", "member"}) ||
		got[3].Reason != "Enter a valid email address." || got[3].Status != club.ImportSkipped {
		t.Errorf("rows = %+v", got)
	}
	pending, err := db.PendingImportRows(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 3 {
		t.Errorf("pending = %d, want 3", len(pending))
	}
	if got := actions(allEvents(t, db)); !slices.Equal(got, []string{club.ActionImportStarted}) {
		t.Errorf("audit = %v", got)
	}
}

func testImportScoped(t *testing.T, db *DB) {
	id := createImport(t, db, "org_a", "d1", importRows(1))
	_, err := db.Import(t.Context(), "org_b", id)
	wantNotFound(t, "other club's import", err)
	rows, err := db.ImportRows(t.Context(), "org_b", id)
	if err != nil || len(rows) != 0 {
		t.Errorf("other club's rows = %v, %v; want none", rows, err)
	}
	_, err = db.ImportByID(t.Context(), id+100)
	wantNotFound(t, "unknown import", err)
}

func testImportSaveRows(t *testing.T, db *DB) {
	id := createImport(t, db, "org_a", "d1", importRows(2))
	if err := db.MarkImportRunning(t.Context(), id, at(1)); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkImportRunning(t.Context(), id, at(2)); err != nil {
		t.Fatal(err)
	}
	rows, err := db.PendingImportRows(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	rows[0].Status, rows[0].UserID = club.ImportAdded, userID(1)
	rows[1].Step, rows[1].UserID, rows[1].Attempted = club.StepGrant, userID(2), true
	m := newMember("org_a", 1, "Ana", "0", "coach", "member")
	inv := club.Invitation{ClubCode: "org_a", ClubName: "Riverside", Email: m.Email, Name: "Ana 0", InvitedBy: "Olga Owner"}
	if err := db.SaveImportRows(t.Context(), id, 0, rows, []club.Member{m}, []club.Invitation{inv}); err != nil {
		t.Fatal(err)
	}
	imp, err := db.ImportByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != club.ImportRunning || !imp.StartedAt.Equal(at(1)) {
		t.Errorf("import = %s started %v, want running since %v", imp.Status, imp.StartedAt, at(1))
	}
	if got, want := imp.Counts, (club.ImportCounts{Pending: 1, Added: 1}); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	pending, err := db.PendingImportRows(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].Step != club.StepGrant || pending[0].UserID != userID(2) || !pending[0].Attempted {
		t.Errorf("pending = %+v, want row 2 waiting for its roles, its Kinde work attempted", pending)
	}
	if got := mustMember(t, db, "org_a", userID(1)); !slices.Equal(got.Roles, []string{"coach", "member"}) {
		t.Errorf("member roles = %v", got.Roles)
	}
	items, err := db.Recent(t.Context(), "org_a", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Invitation.Email != m.Email {
		t.Errorf("invitations = %+v, want one for %s", items, m.Email)
	}
}

func testImportFinalRows(t *testing.T, db *DB) {
	id := createImport(t, db, "org_a", "d1", importRows(1))
	rows, err := db.PendingImportRows(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	// A row id saved under another import is not touched, even while the
	// row is pending.
	other := createImport(t, db, "org_a", "d2", importRows(1))
	stray := rows[0]
	stray.Status, stray.Reason = club.ImportFailed, "wrong import"
	if err := db.SaveImportRows(t.Context(), other, 0, []club.ImportRow{stray}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.PendingImportRows(t.Context(), id); len(got) != 1 {
		t.Fatalf("a save under another import changed this one's row: pending %+v", got)
	}
	done := rows[0]
	done.Status = club.ImportCreated
	if err := db.SaveImportRows(t.Context(), id, 0, []club.ImportRow{done}, nil, nil); err != nil {
		t.Fatal(err)
	}
	again := rows[0]
	again.Status, again.Reason = club.ImportFailed, "late"
	if err := db.SaveImportRows(t.Context(), id, 0, []club.ImportRow{again}, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := db.ImportRows(t.Context(), "org_a", id)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Status != club.ImportCreated || got[0].Reason != "" {
		t.Errorf("row = %+v, want it created as first recorded", got[0])
	}
}

func testImportFinish(t *testing.T, db *DB) {
	id := createImport(t, db, "org_a", "d1", importRows(1))
	for range 2 {
		if err := db.FinishImport(t.Context(), id, at(3), event("org_a", club.ActionImportFinished)); err != nil {
			t.Fatal(err)
		}
	}
	imp, err := db.ImportByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !imp.Done() || !imp.FinishedAt.Equal(at(3)) {
		t.Errorf("import = %+v, want done at %v", imp, at(3))
	}
	if err := db.MarkImportRunning(t.Context(), id, at(4)); err != nil {
		t.Fatal(err)
	}
	if imp, _ := db.ImportByID(t.Context(), id); !imp.Done() {
		t.Errorf("a finished import went back to %s", imp.Status)
	}
	if got := actions(allEvents(t, db)); !slices.Equal(got, []string{club.ActionImportFinished, club.ActionImportStarted}) {
		t.Errorf("audit = %v, want one start and one finish", got)
	}
}

func testImportLarge(t *testing.T, db *DB) {
	id := createImport(t, db, "org_a", "d1", importRows(club.MaxImportRows))
	imp, err := db.Import(t.Context(), "org_a", id)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Counts.Pending != club.MaxImportRows {
		t.Errorf("pending = %d, want %d", imp.Counts.Pending, club.MaxImportRows)
	}
}

// testImportOneActivePerFile: two instances starting the same file at once
// store one import; once it is done, the file can be imported again.
func testImportOneActivePerFile(t *testing.T, db *DB) {
	instances := []*DB{db, reopen(t, db)}
	ids := make([]int64, 6)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			imp := club.Import{ClubCode: "org_a", ActorID: userID(999), Digest: "same-file", CreatedAt: base()}
			id, err := instances[i%2].CreateImport(t.Context(), imp, importRows(3), event("org_a", club.ActionImportStarted))
			if err != nil {
				t.Errorf("create import: %v", err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("six starts of one file gave imports %v, want one", ids)
		}
	}
	rows, err := db.ImportRows(t.Context(), "org_a", ids[0])
	if err != nil || len(rows) != 3 {
		t.Errorf("the import has %d rows (%v), want 3 (stored once)", len(rows), err)
	}
	if evs := allEvents(t, db); len(evs) != 1 {
		t.Errorf("%d import.started events, want 1", len(evs))
	}
	// Another club, another file, or the same file after the first import
	// is done, is a new import.
	if other := createImport(t, db, "org_b", "same-file", importRows(1)); other == ids[0] {
		t.Error("another club's import of the same file was merged")
	}
	if other := createImport(t, db, "org_a", "other-file", importRows(1)); other == ids[0] {
		t.Error("an import of another file was merged")
	}
	if err := db.FinishImport(t.Context(), ids[0], at(5), event("org_a", club.ActionImportFinished)); err != nil {
		t.Fatal(err)
	}
	if again := createImport(t, db, "org_a", "same-file", importRows(1)); again == ids[0] {
		t.Error("importing the file again after it finished returned the finished import")
	}
}

// testImportMigrationKeepsDuplicatesRunning: unfinished imports of one file
// from before migration 00050 all keep running; the newest keeps the digest.
func testImportMigrationKeepsDuplicatesRunning(t *testing.T, db *DB) {
	p, err := migrations(t.Context(), db.dialect, db.write, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(t.Context(), 40); err != nil {
		t.Fatalf("down to 40: %v", err)
	}
	for _, status := range []string{"running", "queued", "done"} {
		if _, err := db.write.ExecContext(t.Context(), `
			INSERT INTO imports (club_code, actor_id, digest, status, created_at) VALUES ('org_a', 'kp_x', 'same', $1, $2)`,
			status, db.ts(base())); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatalf("up: %v", err)
	}
	rows, err := db.read.QueryContext(t.Context(), `SELECT id, digest, status FROM imports ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var (
			id             int64
			digest, status string
		)
		if err := rows.Scan(&id, &digest, &status); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s", digest, status))
	}
	if want := []string{"same#1 running", "same queued", "same done"}; !slices.Equal(got, want) {
		t.Errorf("imports after the migration = %q, want %q", got, want)
	}
}
