package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// kindeActor is the audit actor of changes Kinde reported.
const kindeActor = "Kinde"

// WebhookDelivery is one webhook Kinde delivered, as the deduplication
// table records it.
type WebhookDelivery struct {
	ID         string // the webhook-id header: the same for every retry
	EventID    string
	EventType  string
	ReceivedAt time.Time
}

// RecordWebhook records delivery d and, in the same transaction, calls
// enqueue (which queues the job that applies the event) with it. A
// delivery whose id was recorded before is a duplicate: nothing is written,
// enqueue is not called, and duplicate is true. When enqueue fails nothing
// is recorded, so Kinde's retry is not taken for a duplicate.
func (db *DB) RecordWebhook(ctx context.Context, d WebhookDelivery, enqueue func(ctx context.Context, tx *sql.Tx) error) (duplicate bool, err error) {
	if d.ID == "" {
		return false, errors.New("store: record webhook: delivery id is required")
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = db.now()
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		duplicate = false
		res, err := tx.ExecContext(ctx, `
			INSERT INTO webhook_deliveries (id, event_id, event_type, received_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING`, d.ID, d.EventID, d.EventType, db.ts(d.ReceivedAt))
		if err != nil {
			return fmt.Errorf("insert delivery: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert delivery: %w", err)
		}
		if n == 0 {
			duplicate = true
			return nil
		}
		if enqueue == nil {
			return nil
		}
		return enqueue(ctx, tx)
	})
	if err != nil {
		return false, fmt.Errorf("store: record webhook: %w", err)
	}
	return duplicate, nil
}

// PruneWebhookDeliveries forgets deliveries received before before and
// returns how many. Kinde stops retrying a delivery 36 hours after the
// first attempt, so rows older than that guard against nothing.
func (db *DB) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE received_at < $1`, db.ts(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune webhook deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune webhook deliveries: %w", err)
	}
	return n, nil
}

// KnownClubs lists the clubs the portal keeps members of (created through
// it, synced from Kinde, reported by a webhook, or holding memberships), by
// code, least recently synced first.
func (db *DB) KnownClubs(ctx context.Context) ([]club.Club, error) {
	type row struct {
		c      club.Club
		synced time.Time
	}
	var list []row
	rows, err := db.read.QueryContext(ctx, `SELECT code, name, last_synced_at FROM clubs`)
	if err != nil {
		return nil, fmt.Errorf("store: known clubs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.c.Code, &r.c.Name, timeCol{&r.synced}); err != nil {
			return nil, fmt.Errorf("store: known clubs: %w", err)
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: known clubs: %w", err)
	}
	rows.Close()
	var others []string
	if err := db.column(ctx, db.read, &others, `
		SELECT DISTINCT club_code FROM memberships WHERE club_code NOT IN (SELECT code FROM clubs)`); err != nil {
		return nil, fmt.Errorf("store: known clubs: %w", err)
	}
	for _, code := range others {
		list = append(list, row{c: club.Club{Code: code}})
	}
	slices.SortFunc(list, func(a, b row) int {
		if c := a.synced.Compare(b.synced); c != 0 {
			return c
		}
		return strings.Compare(a.c.Code, b.c.Code)
	})
	out := make([]club.Club, len(list))
	for i, r := range list {
		out[i] = r.c
	}
	return out, nil
}

// markStale records that userID's token claims are out of date, when their
// memberships or roles changed.
func (db *DB) markStale(ctx context.Context, tx *sql.Tx, userID string, changed bool, at time.Time) error {
	if !changed {
		return nil
	}
	// The portal's clock, not Kinde's: tokens checked before this moment
	// must be refreshed.
	now := db.now()
	if at.After(now) {
		now = at
	}
	return markClaimsStale(ctx, tx, userID, db.ts(now))
}

// ApplyClub writes what a re-read of a club in Kinde found, under the
// version v taken before the read: its name, or that Kinde no longer has
// it, when that is newer than what the directory has. A club gone from
// Kinde loses its memberships (each with a tombstone), and the removal is
// appended to its activity.
func (db *DB) ApplyClub(ctx context.Context, v club.Version, c club.Club, deleted bool) error {
	if c.Code == "" {
		return errors.New("store: apply club: the facts name no club")
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if deleted {
			return db.removeClub(ctx, tx, v, c.Code)
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO clubs (code, name, name_version) VALUES ($1, $2, $3)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_version = excluded.name_version
			WHERE excluded.name_version > clubs.name_version AND excluded.name <> ''`,
			c.Code, c.Name, int64(v)); err != nil {
			return fmt.Errorf("save club: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: apply club: %w", err)
	}
	return nil
}

// removeClub removes a club Kinde no longer has, with its memberships.
func (db *DB) removeClub(ctx context.Context, tx *sql.Tx, v club.Version, code string) error {
	var ids []string
	if err := db.column(ctx, tx, &ids, `SELECT user_id FROM memberships WHERE club_code = $1`, code); err != nil {
		return fmt.Errorf("club members: %w", err)
	}
	stamp, err := db.nextVersion(ctx, tx)
	if err != nil {
		return err
	}
	if err := db.removeMembers(ctx, tx, code, ids, factAge{written: stamp, known: v}, db.now()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM clubs WHERE code = $1`, code); err != nil {
		return fmt.Errorf("remove club: %w", err)
	}
	return db.appendEvent(ctx, tx, club.AuditEvent{ClubCode: code, ActorName: kindeActor, Action: club.ActionSyncedFromProvider,
		Detail: fmt.Sprintf("club deleted in Kinde; %d memberships removed", len(ids)), At: db.now().UTC()})
}

// column reads a one-column query into dst.
func (db *DB) column(ctx context.Context, q querier, dst *[]string, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		*dst = append(*dst, s)
	}
	return rows.Err()
}

func kindeEvent(code string, m club.Member, detail string, at time.Time) club.AuditEvent {
	return club.AuditEvent{ClubCode: code, ActorName: kindeActor, Action: club.ActionSyncedFromProvider,
		TargetID: m.UserID, TargetEmail: m.Email, Detail: detail, At: at}
}

func joinRoles(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}
