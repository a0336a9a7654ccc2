package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// maxReason bounds a stored failure reason; reasons are short by contract.
const maxReason = 500

// Recent page sizes.
const (
	defaultRecent = 20
	maxRecent     = 100
)

const outboxColumns = `id, club_code, club_name, email, name, invited_by, status, attempts, last_error, next_attempt_at, created_at, sent_at`

// enqueue queues inv, due at once.
func (db *DB) enqueue(ctx context.Context, q querier, inv club.Invitation, at time.Time) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO outbox (club_code, club_name, email, name, invited_by, status, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6)`,
		inv.ClubCode, inv.ClubName, normalizeEmail(inv.Email), inv.Name, inv.InvitedBy, db.ts(at))
	if err != nil {
		return fmt.Errorf("queue invitation: %w", err)
	}
	return nil
}

// ClaimDue returns up to limit queued items due at now, oldest due first,
// and leases them until now+lease: until then no other claim (from this
// instance or another) returns them. Attempts is the number of outcomes
// recorded so far; a claim does not count as one, so an item whose worker
// died comes back with the same count when its lease runs out.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]club.OutboxItem, error) {
	if limit <= 0 {
		return []club.OutboxItem{}, nil
	}
	// PostgreSQL: rows another instance is claiming right now are skipped,
	// not waited for. SQLite has one writer at a time, which is enough.
	lock := ""
	if db.dialect == DialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var items []club.OutboxItem
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			UPDATE outbox SET lease_until = $1
			WHERE id IN (
				SELECT id FROM outbox
				WHERE status = 'queued' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
				ORDER BY next_attempt_at, id LIMIT $3`+lock+`)
			RETURNING `+outboxColumns, db.ts(now.Add(lease)), db.ts(now), limit)
		if err != nil {
			return err
		}
		items, err = scanOutbox(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim due invitations: %w", err)
	}
	// RETURNING promises no order.
	slices.SortFunc(items, func(a, b club.OutboxItem) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return items, nil
}

// MarkSent records that the item went out at at.
func (db *DB) MarkSent(ctx context.Context, id int64, at time.Time) error {
	err := markOutcome(ctx, db.write, `
		UPDATE outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = '', lease_until = NULL
		WHERE id = $1`, id, db.ts(at))
	if err != nil {
		return fmt.Errorf("store: mark invitation sent: %w", err)
	}
	return nil
}

// MarkRetry records a failed attempt and when to try again.
func (db *DB) MarkRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	err := markOutcome(ctx, db.write, `
		UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, lease_until = NULL
		WHERE id = $1`, id, truncate(reason, maxReason), db.ts(next))
	if err != nil {
		return fmt.Errorf("store: mark invitation for retry: %w", err)
	}
	return nil
}

// MarkFailed records a last failed attempt, gives up on the item and
// appends ev, in one transaction.
func (db *DB) MarkFailed(ctx context.Context, id int64, reason string, ev club.AuditEvent) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := markOutcome(ctx, tx, `
			UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $2, lease_until = NULL
			WHERE id = $1`, id, truncate(reason, maxReason)); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("store: mark invitation failed: %w", err)
	}
	return nil
}

// markOutcome runs an UPDATE of one outbox item, which must exist.
func markOutcome(ctx context.Context, q querier, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no such invitation: %w", club.ErrNotFound)
	}
	return nil
}

// Recent lists the club's latest invitations, newest first. Limit 0 means
// 20; it is capped at 100.
func (db *DB) Recent(ctx context.Context, clubCode string, limit int) ([]club.OutboxItem, error) {
	if limit <= 0 {
		limit = defaultRecent
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE club_code = $1 ORDER BY id DESC LIMIT $2`,
		clubCode, min(limit, maxRecent))
	if err != nil {
		return nil, fmt.Errorf("store: recent invitations: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("store: recent invitations: %w", err)
	}
	return items, nil
}

func scanOutbox(rows *sql.Rows) ([]club.OutboxItem, error) {
	defer rows.Close()
	items := []club.OutboxItem{}
	for rows.Next() {
		var it club.OutboxItem
		if err := scanOutboxRow(rows, &it); err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

// scanOutboxRow reads the outboxColumns of the current row into it, and
// the columns after them into more.
func scanOutboxRow(rows *sql.Rows, it *club.OutboxItem, more ...any) error {
	var status string
	err := rows.Scan(append([]any{&it.ID, &it.Invitation.ClubCode, &it.Invitation.ClubName, &it.Invitation.Email, &it.Invitation.Name,
		&it.Invitation.InvitedBy, &status, &it.Attempts, &it.LastError,
		timeCol{&it.NextAttemptAt}, timeCol{&it.CreatedAt}, timeCol{&it.SentAt}}, more...)...)
	it.Status = club.InvitationStatus(status)
	return err
}
