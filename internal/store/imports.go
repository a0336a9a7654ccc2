package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

var _ club.ImportStore = (*DB)(nil)

const importColumns = `id, club_code, club_name, actor_id, actor_name, file_name, digest, status, created_at, started_at, finished_at`

const importRowColumns = `id, line, email, first_name, last_name, roles, status, step, user_id, reason, attempted`

// importRowParams is the number of parameters of one inserted import row.
const importRowParams = 10

// CreateImport stores a queued import with its rows and appends ev, in one
// transaction, and returns the import's id. When the club has an unfinished
// import of the same file (digest), from this instance or another, it
// writes nothing and returns that import's id.
func (db *DB) CreateImport(ctx context.Context, imp club.Import, rows []club.ImportRow, ev club.AuditEvent) (int64, error) {
	if imp.ClubCode == "" || imp.Digest == "" {
		return 0, errors.New("store: create import: club code and digest are required")
	}
	if imp.CreatedAt.IsZero() {
		imp.CreatedAt = db.now()
	}
	var id int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// The unique index on unfinished imports settles a race between
		// instances: the second insert waits for the first and does nothing.
		err := tx.QueryRowContext(ctx, `
			INSERT INTO imports (club_code, club_name, actor_id, actor_name, file_name, digest, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (club_code, digest) WHERE status <> 'done' DO NOTHING
			RETURNING id`,
			imp.ClubCode, imp.ClubName, imp.ActorID, imp.ActorName, imp.FileName, imp.Digest, string(club.ImportQueued), db.ts(imp.CreatedAt),
		).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return tx.QueryRowContext(ctx, `SELECT id FROM imports WHERE club_code = $1 AND digest = $2 AND status <> 'done'`,
				imp.ClubCode, imp.Digest).Scan(&id)
		}
		if err != nil {
			return fmt.Errorf("insert import: %w", err)
		}
		per := maxParams / importRowParams
		if err := chunks(len(rows), per, func(lo, hi int) error {
			args := make([]any, 0, (hi-lo)*importRowParams)
			for _, r := range rows[lo:hi] {
				status := r.Status
				if status == "" {
					status = club.ImportPending
				}
				args = append(args, id, r.Line, r.Email, r.FirstName, r.LastName, strings.Join(r.Roles, " "),
					string(status), string(r.Step), r.UserID, truncate(r.Reason, maxReason))
			}
			_, err := tx.ExecContext(ctx, `
				INSERT INTO import_rows (import_id, line, email, first_name, last_name, roles, status, step, user_id, reason)
				VALUES `+db.rowParams(1, hi-lo, importRowParams), args...)
			if err != nil {
				return fmt.Errorf("insert import rows: %w", err)
			}
			return nil
		}); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return 0, fmt.Errorf("store: create import: %w", err)
	}
	return id, nil
}

// Import returns the club's import id with its counts. An import of another
// club is not found.
func (db *DB) Import(ctx context.Context, clubCode string, id int64) (club.Import, error) {
	imp, err := db.loadImport(ctx, `id = $1 AND club_code = $2`, id, clubCode)
	if err != nil {
		return club.Import{}, fmt.Errorf("store: import: %w", err)
	}
	return imp, nil
}

// ImportByID returns any club's import id with its counts.
func (db *DB) ImportByID(ctx context.Context, id int64) (club.Import, error) {
	imp, err := db.loadImport(ctx, `id = $1`, id)
	if err != nil {
		return club.Import{}, fmt.Errorf("store: import by id: %w", err)
	}
	return imp, nil
}

func (db *DB) loadImport(ctx context.Context, where string, args ...any) (club.Import, error) {
	var imp club.Import
	var status string
	err := db.read.QueryRowContext(ctx, `SELECT `+importColumns+` FROM imports WHERE `+where, args...).Scan(
		&imp.ID, &imp.ClubCode, &imp.ClubName, &imp.ActorID, &imp.ActorName, &imp.FileName, &imp.Digest, &status,
		timeCol{&imp.CreatedAt}, timeCol{&imp.StartedAt}, timeCol{&imp.FinishedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return club.Import{}, club.ErrNotFound
	}
	if err != nil {
		return club.Import{}, err
	}
	imp.Status = club.ImportStatus(status)
	if imp.Counts, err = db.importCounts(ctx, imp.ID); err != nil {
		return club.Import{}, err
	}
	return imp, nil
}

// importCounts counts an import's rows by status: the progress query.
func (db *DB) importCounts(ctx context.Context, id int64) (club.ImportCounts, error) {
	var c club.ImportCounts
	rows, err := db.read.QueryContext(ctx, `SELECT status, COUNT(*) FROM import_rows WHERE import_id = $1 GROUP BY status`, id)
	if err != nil {
		return c, fmt.Errorf("count import rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return c, fmt.Errorf("count import rows: %w", err)
		}
		c.Add(club.ImportRowStatus(s), n)
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("count import rows: %w", err)
	}
	return c, nil
}

// ImportRows lists the club's import's rows in file order.
func (db *DB) ImportRows(ctx context.Context, clubCode string, id int64) ([]club.ImportRow, error) {
	rows, err := db.loadImportRows(ctx, `r.import_id = $1 AND i.club_code = $2`, id, clubCode)
	if err != nil {
		return nil, fmt.Errorf("store: import rows: %w", err)
	}
	return rows, nil
}

// PendingImportRows lists the import's pending rows in file order.
func (db *DB) PendingImportRows(ctx context.Context, id int64) ([]club.ImportRow, error) {
	rows, err := db.loadImportRows(ctx, `r.import_id = $1 AND r.status = $2`, id, string(club.ImportPending))
	if err != nil {
		return nil, fmt.Errorf("store: pending import rows: %w", err)
	}
	return rows, nil
}

func (db *DB) loadImportRows(ctx context.Context, where string, args ...any) ([]club.ImportRow, error) {
	cols := "r." + strings.ReplaceAll(importRowColumns, ", ", ", r.")
	rows, err := db.read.QueryContext(ctx, `SELECT `+cols+` FROM import_rows r JOIN imports i ON i.id = r.import_id
		WHERE `+where+` ORDER BY r.line, r.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []club.ImportRow{}
	for rows.Next() {
		var r club.ImportRow
		var roles, status, step string
		if err := rows.Scan(&r.ID, &r.Line, &r.Email, &r.FirstName, &r.LastName, &roles, &status, &step, &r.UserID, &r.Reason, &r.Attempted); err != nil {
			return nil, err
		}
		r.Roles = strings.Fields(roles)
		r.Status, r.Step = club.ImportRowStatus(status), club.ImportStep(step)
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkImportRunning records that a run started; the first start time is
// kept, and a finished import stays finished.
func (db *DB) MarkImportRunning(ctx context.Context, id int64, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `
		UPDATE imports SET status = $1, started_at = COALESCE(started_at, $2)
		WHERE id = $3 AND status <> $4`, string(club.ImportRunning), db.ts(at), id, string(club.ImportDone))
	if err != nil {
		return fmt.Errorf("store: mark import running: %w", err)
	}
	return nil
}

// SaveImportRows records the rows' status, step, user id and reason,
// upserts ms into the directory and queues invs, in one transaction. Only
// rows of importID that are still pending change: a row recorded final is
// never written again.
func (db *DB) SaveImportRows(ctx context.Context, importID int64, v club.Version, rows []club.ImportRow, ms []club.Member, invs []club.Invitation) error {
	now := db.now().UTC()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `
				UPDATE import_rows SET status = $1, step = $2, user_id = $3, reason = $4, attempted = $8
				WHERE id = $5 AND import_id = $6 AND status = $7`,
				string(r.Status), string(r.Step), r.UserID, truncate(r.Reason, maxReason), r.ID, importID, string(club.ImportPending), r.Attempted); err != nil {
				return fmt.Errorf("update import row: %w", err)
			}
		}
		byClub := map[string][]club.Member{}
		for _, m := range ms {
			byClub[m.ClubCode] = append(byClub[m.ClubCode], m)
		}
		for code, list := range byClub {
			v, err := db.portalVersion(ctx, tx, v)
			if err != nil {
				return err
			}
			facts := make([]fact, len(list))
			for i, m := range list {
				facts[i] = fact{m: m}
			}
			if _, _, err := db.applyFacts(ctx, tx, factWrite{clubCode: code, version: v, source: fromPortal, facts: facts, at: now}); err != nil {
				return err
			}
		}
		for _, inv := range invs {
			if err := db.enqueue(ctx, tx, inv, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save import rows: %w", err)
	}
	return nil
}

// FinishImport marks the import done and appends ev, in one transaction.
// Finishing a finished import changes nothing and appends nothing.
func (db *DB) FinishImport(ctx context.Context, id int64, at time.Time, ev club.AuditEvent) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE imports SET status = $1, finished_at = $2 WHERE id = $3 AND status <> $1`,
			string(club.ImportDone), db.ts(at), id)
		if err != nil {
			return fmt.Errorf("finish import: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("finish import: %w", err)
		}
		if n == 0 {
			return nil
		}
		return db.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("store: finish import: %w", err)
	}
	return nil
}
