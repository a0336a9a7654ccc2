package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clubhouse/clubhouse/internal/club"
)

// Audit page sizes.
const (
	defaultAuditPage = 50
	maxAuditPage     = 500
)

// Append adds ev to the audit log. A zero At is stamped now. Audit rows are
// never changed or removed: this package has no statement that would, and
// the database refuses them (migration 2).
func (db *DB) Append(ctx context.Context, ev club.AuditEvent) error {
	if err := db.appendEvent(ctx, db.write, ev); err != nil {
		return fmt.Errorf("store: append audit event: %w", err)
	}
	return nil
}

func (db *DB) appendEvent(ctx context.Context, q querier, ev club.AuditEvent) error {
	if ev.Action == "" {
		return errors.New("audit event: action is required")
	}
	if ev.At.IsZero() {
		ev.At = db.now()
	}
	_, err := q.ExecContext(ctx, `
		INSERT INTO audit_events (club_code, actor_id, actor_name, action, target_id, target_email, detail, at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		ev.ClubCode, ev.ActorID, ev.ActorName, ev.Action, ev.TargetID, ev.TargetEmail, ev.Detail, db.ts(ev.At), ev.IP, ev.UserAgent)
	if err != nil {
		return fmt.Errorf("audit event: %w", err)
	}
	return nil
}

// Events returns a page of the audit log, newest first, and how many events
// match. An empty ClubCode means every club; Person matches the actor or
// the target. Limit 0 means 50; it is capped at 500.
func (db *DB) Events(ctx context.Context, q club.AuditQuery) (club.AuditPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultAuditPage
	}
	limit = min(limit, maxAuditPage)
	var (
		conds []string
		args  []any
	)
	if q.ClubCode != "" {
		args = append(args, q.ClubCode)
		conds = append(conds, fmt.Sprintf("club_code = $%d", len(args)))
	}
	if q.Person != "" {
		args = append(args, q.Person)
		conds = append(conds, fmt.Sprintf("(actor_id = $%d OR target_id = $%d)", len(args), len(args)))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	page := club.AuditPage{Events: []club.AuditEvent{}}
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events`+where, args...).Scan(&page.Total); err != nil {
		return club.AuditPage{}, fmt.Errorf("store: audit events: count: %w", err)
	}
	n := len(args)
	rows, err := db.read.QueryContext(ctx, fmt.Sprintf(`
		SELECT id, club_code, actor_id, actor_name, action, target_id, target_email, detail, at, ip, user_agent
		FROM audit_events%s ORDER BY id DESC LIMIT $%d OFFSET $%d`, where, n+1, n+2), append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return club.AuditPage{}, fmt.Errorf("store: audit events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev club.AuditEvent
		if err := rows.Scan(&ev.ID, &ev.ClubCode, &ev.ActorID, &ev.ActorName, &ev.Action, &ev.TargetID, &ev.TargetEmail, &ev.Detail, timeCol{&ev.At}, &ev.IP, &ev.UserAgent); err != nil {
			return club.AuditPage{}, fmt.Errorf("store: audit events: %w", err)
		}
		page.Events = append(page.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return club.AuditPage{}, fmt.Errorf("store: audit events: %w", err)
	}
	return page, nil
}
