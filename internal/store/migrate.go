package store

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// appendOnlyVersion is the Go migration that makes the database itself
// refuse to change or remove audit rows. SQL files must not use its number.
const appendOnlyVersion = 2

// migrate brings the schema up to date. On PostgreSQL it holds an advisory
// lock for the current schema meanwhile, so portal instances starting
// together migrate one at a time.
func migrate(ctx context.Context, dialect string, db *sql.DB, logger *slog.Logger) error {
	p, err := migrations(ctx, dialect, db, logger)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range results {
		logger.InfoContext(ctx, "migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// migrations returns the goose provider of the dialect's migration set.
func migrations(ctx context.Context, dialect string, db *sql.DB, logger *slog.Logger) (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(appendOnlyMigration(dialect)),
		goose.WithSlog(logger.With("component", "migrations")),
	}
	gooseDialect := goose.DialectSQLite3
	if dialect == DialectPostgres {
		gooseDialect = goose.DialectPostgres
		var schema string
		if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("store: migrate: current schema: %w", err)
		}
		// One lock per schema: instances sharing a schema wait for each
		// other; databases in different schemas (tests) do not.
		h := fnv.New64a()
		h.Write([]byte("clubhouse migrations " + schema))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64() >> 1)))
		if err != nil {
			return nil, fmt.Errorf("store: migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gooseDialect, db, dialectFS{fsys: sub, tokens: typeTokens(dialect)}, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	return p, nil
}

// appendOnlyMigration installs triggers that make UPDATE and DELETE on
// audit_events fail, in the dialect's own trigger syntax.
func appendOnlyMigration(dialect string) *goose.Migration {
	up := []string{
		`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
		BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`,
		`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
		BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`,
	}
	down := []string{
		`DROP TRIGGER audit_events_no_delete`,
		`DROP TRIGGER audit_events_no_update`,
	}
	if dialect == DialectPostgres {
		up = []string{
			`CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$`,
			`CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
			FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`,
		}
		down = []string{
			`DROP TRIGGER audit_events_append_only ON audit_events`,
			`DROP FUNCTION audit_events_append_only()`,
		}
	}
	run := func(stmts []string) *goose.GoFunc {
		return &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			for _, s := range stmts {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return fmt.Errorf("store: append-only trigger: %w", err)
				}
			}
			return nil
		}}
	}
	return goose.NewGoMigration(appendOnlyVersion, run(up), run(down))
}

// dialectFS serves the embedded migrations with their {{tokens}} replaced by
// the dialect's column types.
type dialectFS struct {
	fsys   fs.FS
	tokens *strings.Replacer
}

func (d dialectFS) Open(name string) (fs.File, error) {
	f, err := d.fsys.Open(name)
	if err != nil || !strings.HasSuffix(name, ".sql") {
		return f, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	text := []byte(d.tokens.Replace(string(raw)))
	return &memFile{Reader: bytes.NewReader(text), info: sizedInfo{FileInfo: info, size: int64(len(text))}}, nil
}

// memFile is a migration file rewritten in memory.
type memFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

// sizedInfo is a file's info with the size of its rewritten text.
type sizedInfo struct {
	fs.FileInfo
	size int64
}

func (i sizedInfo) Size() int64 { return i.size }
