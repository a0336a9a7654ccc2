package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// InvitationQueue queues the background job that sends an invitation.
// internal/jobs implements it; neither package imports the other, and
// cmd/clubhouse hands the store the queue.
type InvitationQueue interface {
	// EnqueueInvitationTx queues the job for the outbox item id in tx, so
	// that the job exists if and only if tx commits.
	EnqueueInvitationTx(ctx context.Context, tx *sql.Tx, id int64) error
}

// SetInvitationQueue makes every invitation written from now on queue its
// job through q, in the transaction that writes it. The portal sets it once
// its job queue exists, before it serves. An invitation written while none
// is set (store tests, tools) is only a row: the job queue's sweep
// (DueInvitations) queues its job later.
func (db *DB) SetInvitationQueue(q InvitationQueue) {
	if q == nil {
		db.invitations.Store(nil)
		return
	}
	db.invitations.Store(&q)
}

// enqueue writes inv to the outbox, due at once, and queues its job in the
// same transaction: q must be the caller's *sql.Tx.
func (db *DB) enqueue(ctx context.Context, q querier, inv club.Invitation, at time.Time) error {
	var id int64
	err := q.QueryRowContext(ctx, `
		INSERT INTO outbox (club_code, club_name, email, name, invited_by, status, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6)
		RETURNING id`,
		inv.ClubCode, inv.ClubName, normalizeEmail(inv.Email), inv.Name, inv.InvitedBy, db.ts(at)).Scan(&id)
	if err != nil {
		return fmt.Errorf("queue invitation: %w", err)
	}
	queue := db.invitations.Load()
	if queue == nil {
		return nil
	}
	tx, ok := q.(*sql.Tx)
	if !ok {
		return errors.New("queue invitation: the job must be queued in the invitation's transaction")
	}
	if err := (*queue).EnqueueInvitationTx(ctx, tx, id); err != nil {
		return fmt.Errorf("queue invitation job: %w", err)
	}
	return nil
}

// OutboxItem returns the outbox item id; see club.Outbox.
func (db *DB) OutboxItem(ctx context.Context, id int64) (club.OutboxItem, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE id = $1`, id)
	if err != nil {
		return club.OutboxItem{}, fmt.Errorf("store: outbox item: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return club.OutboxItem{}, fmt.Errorf("store: outbox item: %w", err)
	}
	if len(items) == 0 {
		return club.OutboxItem{}, notFound("outbox item")
	}
	return items[0], nil
}

// The marks below record the outcome of attempt number attempt at an item,
// fenced: they change the item only while it is queued and no attempt
// numbered attempt or later has recorded an outcome, and then record
// attempt as its latest. A stale attempt (one that ran on after its job
// was handed to a newer attempt, or another instance) changes nothing and
// gets recorded == false, so it can never turn a newer "sent" into
// "failed", or a newer retry time into an older one.

// MarkSent records that attempt sent the item at at.
func (db *DB) MarkSent(ctx context.Context, id int64, attempt int, at time.Time) (recorded bool, err error) {
	recorded, err = db.markOutcome(ctx, db.write, id, `
		UPDATE outbox SET status = 'sent', sent_at = $3, attempts = $2, last_error = ''
		WHERE id = $1 AND status = 'queued' AND attempts < $2`, id, attempt, db.ts(at))
	if err != nil {
		return false, fmt.Errorf("store: mark invitation sent: %w", err)
	}
	return recorded, nil
}

// MarkRetry records that attempt failed for reason, and when the next one
// is due.
func (db *DB) MarkRetry(ctx context.Context, id int64, attempt int, next time.Time, reason string) (recorded bool, err error) {
	recorded, err = db.markOutcome(ctx, db.write, id, `
		UPDATE outbox SET attempts = $2, last_error = $3, next_attempt_at = $4
		WHERE id = $1 AND status = 'queued' AND attempts < $2`, id, attempt, truncate(reason, maxReason), db.ts(next))
	if err != nil {
		return false, fmt.Errorf("store: mark invitation for retry: %w", err)
	}
	return recorded, nil
}

// MarkFailed records that attempt, the last, failed for reason: the item is
// given up on, and ev is appended in the same transaction. When the mark
// is not recorded, ev is not appended either.
func (db *DB) MarkFailed(ctx context.Context, id int64, attempt int, reason string, ev club.AuditEvent) (recorded bool, err error) {
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		recorded, err = db.markOutcome(ctx, tx, id, `
			UPDATE outbox SET status = 'failed', attempts = $2, last_error = $3
			WHERE id = $1 AND status = 'queued' AND attempts < $2`, id, attempt, truncate(reason, maxReason))
		if err != nil || !recorded {
			return err
		}
		return db.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return false, fmt.Errorf("store: mark invitation failed: %w", err)
	}
	return recorded, nil
}

// markOutcome runs a fenced UPDATE of the outbox item id and reports
// whether it changed the item. An item that does not exist is an error.
func (db *DB) markOutcome(ctx context.Context, q querier, id int64, query string, args ...any) (bool, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n > 0 {
		return true, nil
	}
	var one int
	err = q.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("no such invitation: %w", club.ErrNotFound)
	}
	return false, err
}

// DueInvitations lists up to limit queued items whose next attempt is due
// at now, with ids above afterID, in id order. The job queue's sweep reads
// it to queue the job of any that has none (written before a queue was
// set, or whose job River gave up on without recording an outcome).
func (db *DB) DueInvitations(ctx context.Context, now time.Time, afterID int64, limit int) ([]club.OutboxItem, error) {
	if limit <= 0 {
		return []club.OutboxItem{}, nil
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT `+outboxColumns+` FROM outbox
		WHERE status = 'queued' AND next_attempt_at <= $1 AND id > $2
		ORDER BY id LIMIT $3`, db.ts(now), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: due invitations: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("store: due invitations: %w", err)
	}
	return items, nil
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
