package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/clubhouse/clubhouse/internal/club"
)

// outboxColumnsAs is outboxColumns, each qualified with the table alias o.
var outboxColumnsAs = "o." + strings.ReplaceAll(outboxColumns, ", ", ", o.")

// QueueInvitation queues another invitation, and its job, for a listed
// member of the club when allow, given the latest invitation to the same
// address, agrees; see club.Directory. On PostgreSQL the membership row is
// locked, so two instances resending at once queue one invitation.
func (db *DB) QueueInvitation(ctx context.Context, userID string, inv club.Invitation, ev club.AuditEvent, allow func(last club.OutboxItem) error) error {
	var refused error
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		refused = nil
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM memberships WHERE club_code = $1 AND user_id = $2 AND pending = FALSE`+db.forUpdate(),
			inv.ClubCode, userID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("queue invitation: member")
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE club_code = $1 AND email = $2 ORDER BY id DESC LIMIT 1`,
			inv.ClubCode, normalizeEmail(inv.Email))
		if err != nil {
			return err
		}
		last, err := scanOutbox(rows)
		if err != nil {
			return err
		}
		var latest club.OutboxItem
		if len(last) > 0 {
			latest = last[0]
		}
		if refused = allow(latest); refused != nil {
			return refused
		}
		if err := db.appendEvent(ctx, tx, ev); err != nil {
			return err
		}
		at := ev.At
		if at.IsZero() {
			at = db.now()
		}
		return db.enqueue(ctx, tx, inv, at)
	})
	if refused != nil {
		return refused
	}
	if err != nil {
		return fmt.Errorf("store: queue invitation: %w", err)
	}
	return nil
}

// ClubInvitations lists a page of the club's invitations, newest first;
// see club.Invitations.
func (db *DB) ClubInvitations(ctx context.Context, clubCode string, offset, limit int) (club.InvitationPage, error) {
	if limit <= 0 || limit > maxRecent {
		limit = maxRecent
	}
	offset = max(offset, 0)
	page := club.InvitationPage{Items: []club.ClubInvitation{}}
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE club_code = $1`, clubCode).Scan(&page.Total); err != nil {
		return club.InvitationPage{}, fmt.Errorf("store: club invitations: count: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT `+outboxColumnsAs+`, COALESCE(m.user_id, ''),
			EXISTS (SELECT 1 FROM outbox n WHERE n.club_code = o.club_code AND n.email = o.email AND n.id > o.id)
		FROM outbox o
		LEFT JOIN people p ON p.email = o.email
		LEFT JOIN memberships m ON m.club_code = o.club_code AND m.user_id = p.id AND m.pending = FALSE
		WHERE o.club_code = $1
		ORDER BY o.id DESC LIMIT $2 OFFSET $3`, clubCode, limit, offset)
	if err != nil {
		return club.InvitationPage{}, fmt.Errorf("store: club invitations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it club.ClubInvitation
		if err := scanOutboxRow(rows, &it.OutboxItem, &it.MemberID, &it.Superseded); err != nil {
			return club.InvitationPage{}, fmt.Errorf("store: club invitations: %w", err)
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return club.InvitationPage{}, fmt.Errorf("store: club invitations: %w", err)
	}
	return page, nil
}

// failedInvitationsQuery counts the given-up invitations of a club ($1)
// that are the latest to a current member's address.
const failedInvitationsQuery = `
	SELECT COUNT(*) FROM outbox o
	JOIN people p ON p.email = o.email
	JOIN memberships m ON m.club_code = o.club_code AND m.user_id = p.id AND m.pending = FALSE
	WHERE o.club_code = $1 AND o.status = 'failed'
		AND NOT EXISTS (SELECT 1 FROM outbox n WHERE n.club_code = o.club_code AND n.email = o.email AND n.id > o.id)`

// FailedInvitations counts the club's members whose latest invitation was
// given up on; see club.Invitations.
func (db *DB) FailedInvitations(ctx context.Context, clubCode string) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, failedInvitationsQuery,
		clubCode).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: failed invitations: %w", err)
	}
	return n, nil
}
