package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
)

// The shared suite runs against both databases. TestPostgres needs a server:
// CI sets CLUBHOUSE_TEST_POSTGRES_URL (for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). Each test gets a
// schema of its own, dropped afterwards.

func TestSQLite(t *testing.T) {
	t.Parallel()
	runSuite(t, openSQLiteTest)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	postgresURL(t)
	runSuite(t, openPostgresTest)
}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openSQLiteTest opens a fresh SQLite file in the test's temp dir.
func openSQLiteTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "clubhouse.db"), testLogger(t))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// postgresURL returns the test server's URL. Without one the test is
// skipped, except under CI, where it fails.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("CLUBHOUSE_TEST_POSTGRES_URL")
	if u == "" {
		msg := "CLUBHOUSE_TEST_POSTGRES_URL is not set; set it to a PostgreSQL URL such as " +
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the PostgreSQL suite"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return u
}

// openPostgresTest opens the test server in a new schema of its own, which
// is dropped when the test ends.
func openPostgresTest(t *testing.T) *DB {
	t.Helper()
	base := postgresURL(t)
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("parse CLUBHOUSE_TEST_POSTGRES_URL: %v", err)
	}
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { admin.Close() })
	schema := "t_" + randomHex(t, 8)
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.WithoutCancel(t.Context()), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse CLUBHOUSE_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Test data need not survive a crash; commits need not wait for the disk.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	db, err := Open(t.Context(), u.String(), testLogger(t))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	// Registered after the schema's cleanup, so it runs before it.
	t.Cleanup(func() { db.Close() })
	return db
}

// reopen opens a second instance on db's database, as another portal
// process would.
func reopen(t *testing.T, db *DB) *DB {
	t.Helper()
	other, err := Open(t.Context(), db.source, testLogger(t))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { other.Close() })
	return other
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == 5
}

func TestOpenRejectsUnknownURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "mysql://user:secret@host/db", "sqlite:", "sqlite:/tmp/x.db?mode=ro"} {
		t.Run(u, func(t *testing.T) {
			db, err := Open(t.Context(), u, nil)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) = nil error, want one", u)
			}
			if got := err.Error(); strings.Contains(got, "secret") {
				t.Errorf("error %q quotes the password", got)
			}
		})
	}
}

func TestOpenSQLiteMemory(t *testing.T) {
	t.Parallel()
	db, err := Open(t.Context(), "sqlite::memory:", nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	if got, want := db.Dialect(), DialectSQLite; got != want {
		t.Errorf("Dialect() = %q, want %q", got, want)
	}
	// One connection serves everything: no method may hold it while asking
	// for another.
	ev := event("org_a", club.ActionClubSynced)
	ms := []club.Member{newMember("org_a", 1, "Ana", "Alves", club.RoleOwner), newMember("org_a", 2, "Bruno", "Brito", club.RoleMember)}
	if _, err := db.ReplaceMembers(t.Context(), club.Club{Code: "org_a"}, ms, readVersion(t, db), at(1), always(ev)); err != nil {
		t.Fatalf("replace: %v", err)
	}
	inv := &club.Invitation{ClubCode: "org_a", Email: "c@example.org"}
	if err := db.SaveMember(t.Context(), 0, newMember("org_a", 3, "Carla", "Costa", club.RoleMember), &ev, inv); err != nil {
		t.Fatalf("save: %v", err)
	}
	if p, err := db.Members(t.Context(), "org_a", club.MemberQuery{Limit: 2}); err != nil || p.Total != 3 {
		t.Errorf("members = %+v, %v", p, err)
	}
	if items, err := db.DueInvitations(t.Context(), at(100), 0, 5); err != nil || len(items) != 1 {
		t.Errorf("due invitations = %+v, %v", items, err)
	}
	if err := db.SaveSession(t.Context(), "s", []byte("x"), db.now().Add(time.Hour), 0); err != nil {
		t.Fatalf("save session: %v", err)
	}
	if _, _, _, err := db.LoadSession(t.Context(), "s"); err != nil {
		t.Errorf("load session from memory db: %v", err)
	}
}

// TestSQLitePragmas checks the settings that keep SQLite fast and safe under
// concurrent use.
func TestSQLitePragmas(t *testing.T) {
	t.Parallel()
	db := openSQLiteTest(t)
	tests := []struct {
		pool *sql.DB
		name string
		want string
	}{
		{db.write, "journal_mode", "wal"},
		{db.write, "foreign_keys", "1"},
		{db.write, "busy_timeout", "5000"},
		{db.read, "foreign_keys", "1"},
		{db.read, "busy_timeout", "5000"},
		{db.read, "query_only", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := tt.pool.QueryRowContext(t.Context(), "PRAGMA "+tt.name).Scan(&got); err != nil {
				t.Fatalf("pragma %s: %v", tt.name, err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
	if got, want := db.write.Stats().MaxOpenConnections, 1; got != want {
		t.Errorf("write pool MaxOpenConnections = %d, want %d", got, want)
	}
}

// readVersion takes a directory version, as a read of Kinde starting now
// would.
func readVersion(tb testing.TB, db *DB) club.Version {
	tb.Helper()
	v, err := db.BeginRead(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}
