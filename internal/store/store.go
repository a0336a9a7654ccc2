package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	// The pure-Go SQLite driver registers itself as "sqlite".
	_ "modernc.org/sqlite"
)

// DB is the portal's storage: one SQLite file or one PostgreSQL database
// (schema). It is safe for concurrent use.
type DB struct {
	dialect string
	// write runs every write and every transaction. For SQLite it is a
	// single connection that begins transactions IMMEDIATE, so writers
	// queue in Go instead of failing with SQLITE_BUSY; for PostgreSQL it is
	// the same pool as read.
	write *sql.DB
	// read runs lone reads. For a SQLite file it is a pool of read-only
	// connections that WAL lets run beside the writer.
	read   *sql.DB
	logger *slog.Logger
	// now is the clock for the few stamps the callers do not pass (a queued
	// invitation without an event, session expiry).
	now func() time.Time
	// source is the URL Open was given, kept so that tests can open a second
	// instance on the same database. It is never logged.
	source string
	// invitations queues the job that sends each invitation written, in the
	// writing transaction; unset until SetInvitationQueue (outbox.go).
	invitations atomic.Pointer[InvitationQueue]
}

var (
	_ club.Directory   = (*DB)(nil)
	_ club.AuditLog    = (*DB)(nil)
	_ club.Outbox      = (*DB)(nil)
	_ club.Invitations = (*DB)(nil)
	_ club.DevMailbox  = (*DB)(nil)
)

// busyTimeout is how long a SQLite connection waits for another process's
// write lock before giving up.
const busyTimeout = 5 * time.Second

// Open connects to the database at url and brings its schema up to date.
//
//   - "sqlite:/path/to/file.db" (also "sqlite:relative.db" and
//     "sqlite:///abs/path.db") opens or creates a SQLite file in WAL mode;
//   - "sqlite::memory:" opens a private in-memory database (tests);
//   - "postgres://..." or "postgresql://..." connects to PostgreSQL. The
//     search_path parameter picks the schema.
//
// logger may be nil.
func Open(ctx context.Context, url string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "store")
	var (
		db  *DB
		err error
	)
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		db, err = openSQLite(strings.TrimPrefix(url, "sqlite:"))
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err = openPostgres(url)
	default:
		// The URL may hold a password: name only its scheme.
		scheme, _, _ := strings.Cut(url, ":")
		return nil, fmt.Errorf("store: open: unsupported database url scheme %q (want sqlite: or postgres://)", scheme)
	}
	if err != nil {
		return nil, err
	}
	db.logger, db.now, db.source = logger, time.Now, url
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := migrate(ctx, db.dialect, db.write, logger); err != nil {
		db.Close()
		return nil, err
	}
	logger.InfoContext(ctx, "database ready", "dialect", db.dialect)
	return db, nil
}

func openSQLite(path string) (*DB, error) {
	path = strings.TrimPrefix(path, "//")
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, errors.New("store: open: want sqlite:/path/to/file.db or sqlite::memory: as the url")
	}
	pragmas := url.Values{}
	pragmas.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	pragmas.Add("_pragma", "foreign_keys(1)")
	if path == ":memory:" {
		// Each connection to ":memory:" is its own database, so a memory
		// database is one connection for reads and writes alike, kept open
		// for the life of the DB.
		pragmas.Set("_txlock", "immediate")
		conn, err := sql.Open("sqlite", ":memory:?"+pragmas.Encode())
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		conn.SetMaxOpenConns(1)
		conn.SetMaxIdleConns(1)
		conn.SetConnMaxLifetime(0)
		conn.SetConnMaxIdleTime(0)
		return &DB{dialect: DialectSQLite, write: conn, read: conn}, nil
	}

	pragmas.Add("_pragma", "journal_mode(WAL)")
	// NORMAL is durable across application crashes in WAL mode and only
	// risks the last commits on power loss, for far fewer fsyncs.
	pragmas.Add("_pragma", "synchronous(NORMAL)")
	w := url.Values{"_txlock": {"immediate"}}
	for k, v := range pragmas {
		w[k] = v
	}
	write, err := sql.Open("sqlite", path+"?"+w.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	r := url.Values{"_pragma": {
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"foreign_keys(1)",
		// A read connection that tried to write would take the write lock
		// behind the writer pool's back: refuse instead.
		"query_only(1)",
	}}
	read, err := sql.Open("sqlite", path+"?"+r.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{dialect: DialectSQLite, write: write, read: read}, nil
}

func openPostgres(dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can quote the URL; keep the password out.
		return nil, errors.New("store: open postgres: invalid connection url")
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(10)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pool.SetConnMaxLifetime(time.Hour)
	return &DB{dialect: DialectPostgres, write: pool, read: pool}, nil
}

// Close closes the database's connections.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers, for the readiness probe.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if db.read != db.write {
		if err := db.read.PingContext(ctx); err != nil {
			return fmt.Errorf("store: ping: %w", err)
		}
	}
	return nil
}

// Dialect returns DialectSQLite ("sqlite") or DialectPostgres ("postgres").
func (db *DB) Dialect() string { return db.dialect }

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txAttempts bounds how often a transaction that lost a race on
// PostgreSQL is run again.
const txAttempts = 3

// inTx runs fn in one write transaction and commits it. On PostgreSQL, where
// instances write concurrently, a transaction that lost a race (a
// serialization failure, a deadlock, or a unique key another instance took
// between our read and our write) is run again from the start.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.tryTx(ctx, fn)
		if err == nil || attempt == txAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		db.logger.DebugContext(ctx, "transaction retried", "attempt", attempt, "err", err)
	}
}

func (db *DB) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
				err = errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
			}
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01", "23505": // serialization_failure, deadlock_detected, unique_violation
			return true
		}
	}
	return false
}

// notFound wraps club.ErrNotFound for op.
func notFound(op string) error {
	return fmt.Errorf("store: %s: %w", op, club.ErrNotFound)
}
