package reliability

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The schedules, on SQLite with one instance and on PostgreSQL with two.

func TestSchedulesSQLite(t *testing.T) {
	t.Parallel()
	runSchedules(t, "sqlite:"+filepath.Join(t.TempDir(), "clubhouse.db"), 1, 150)
}

func TestSchedulesPostgresTwoInstances(t *testing.T) {
	t.Parallel()
	runSchedules(t, postgresSchema(t), 2, 150)
}

// postgresSchema returns the URL of a new schema on the test server,
// dropped when the test ends. Without a server the test is skipped, except
// under CI, where it fails.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CLUBHOUSE_TEST_POSTGRES_URL")
	if base == "" {
		msg := "CLUBHOUSE_TEST_POSTGRES_URL is not set: the PostgreSQL schedules need a server"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("parse CLUBHOUSE_TEST_POSTGRES_URL: %v", err)
	}
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 8)
	rand.Read(b)
	schema := "sched_" + hex.EncodeToString(b)
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
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}
