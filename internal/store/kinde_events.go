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

var _ club.KindeChanges = (*DB)(nil)

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

// ApplyKindeEvent applies a change Kinde reported to the directory, in one
// transaction, unless an event for the same person (or club) with a later
// timestamp was applied already; then it changes nothing and applied is
// false. An event with the same timestamp as the last one applied is
// applied again, which changes nothing when it is the same event.
//
// For a person: their email is recorded; in every club the portal knows
// and Kinde lists, their membership and roles are made Kinde's (the club's
// own names and a pending add without roles are kept, as a sync keeps
// them); memberships of clubs Kinde no longer lists are removed. A deleted
// person loses every membership and their email. Each membership change is
// appended to the audit log with Kinde as the actor, and a person whose
// roles changed gets their claims marked stale.
//
// For a club: organization.created and organization.updated record it
// (and its name); organization.deleted removes it and its memberships.
func (db *DB) ApplyKindeEvent(ctx context.Context, ev club.KindeEvent) (applied bool, err error) {
	var subject string
	switch {
	case ev.Person != nil && ev.Person.Person.ID != "":
		subject = "user:" + ev.Person.Person.ID
	case ev.Club != nil && ev.Club.Club.Code != "":
		subject = "org:" + ev.Club.Club.Code
	default:
		return false, errors.New("store: apply kinde event: the event names no person or club")
	}
	if ev.At.IsZero() {
		return false, errors.New("store: apply kinde event: the event has no timestamp")
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		applied = false
		newest, err := db.claimMark(ctx, tx, subject, ev.At)
		if err != nil {
			return err
		}
		if !newest {
			return nil
		}
		applied = true
		if ev.Person != nil {
			return db.applyPerson(ctx, tx, ev)
		}
		return db.applyClub(ctx, tx, ev)
	})
	if err != nil {
		return false, fmt.Errorf("store: apply kinde event: %w", err)
	}
	return applied, nil
}

// claimMark locks subject's mark and moves it to at. It reports false when
// the mark is already later than at: the event is older than one applied.
func (db *DB) claimMark(ctx context.Context, tx *sql.Tx, subject string, at time.Time) (bool, error) {
	// Insert first, so that on PostgreSQL a concurrent transaction for the
	// same subject waits here, then lock the row: events for one person are
	// applied one at a time, in whatever order they come.
	if _, err := tx.ExecContext(ctx, `INSERT INTO kinde_event_marks (subject, at) VALUES ($1, $2) ON CONFLICT (subject) DO NOTHING`,
		subject, db.ts(at)); err != nil {
		return false, fmt.Errorf("event mark: %w", err)
	}
	var cur time.Time
	if err := tx.QueryRowContext(ctx, `SELECT at FROM kinde_event_marks WHERE subject = $1`+db.forUpdate(), subject).Scan(timeCol{&cur}); err != nil {
		return false, fmt.Errorf("event mark: %w", err)
	}
	at = at.UTC().Truncate(time.Microsecond)
	if cur.After(at) {
		return false, nil
	}
	if cur.Before(at) {
		if _, err := tx.ExecContext(ctx, `UPDATE kinde_event_marks SET at = $1 WHERE subject = $2`, db.ts(at), subject); err != nil {
			return false, fmt.Errorf("event mark: %w", err)
		}
	}
	return true, nil
}

func (db *DB) applyPerson(ctx context.Context, tx *sql.Tx, ev club.KindeEvent) error {
	pc := ev.Person
	id := pc.Person.ID
	at := ev.At.UTC()

	var member []string // clubs the person is a member of now
	if err := db.column(ctx, tx, &member, `SELECT club_code FROM memberships WHERE user_id = $1 ORDER BY club_code`, id); err != nil {
		return fmt.Errorf("person's clubs: %w", err)
	}
	want := map[string][]string{}
	if !pc.Deleted {
		for _, cr := range pc.Clubs {
			if cr.Code != "" {
				want[cr.Code] = append(want[cr.Code], cr.Roles...)
			}
		}
	}

	changedRoles := false
	for _, code := range member {
		if _, ok := want[code]; ok {
			continue
		}
		cur, err := db.loadMembers(ctx, tx, code, []string{id})
		if err != nil {
			return err
		}
		old := cur[id]
		if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE club_code = $1 AND user_id = $2`, code, id); err != nil {
			return fmt.Errorf("remove membership: %w", err)
		}
		detail := "removed in Kinde"
		if pc.Deleted {
			detail = "person deleted in Kinde"
		}
		if err := db.appendEvent(ctx, tx, kindeEvent(code, old, detail, at)); err != nil {
			return err
		}
		changedRoles = true
	}

	if pc.Deleted {
		if _, err := tx.ExecContext(ctx, `UPDATE people SET email = NULL WHERE id = $1`, id); err != nil {
			return fmt.Errorf("forget email: %w", err)
		}
		return db.markStale(ctx, tx, id, changedRoles, at)
	}

	changed, _, err := db.upsertPeople(ctx, tx, []club.Person{{ID: id, Email: normalizeEmail(pc.Person.Email)}})
	if err != nil {
		return err
	}
	if err := refreshKeys(ctx, tx, changed); err != nil {
		return err
	}

	codes := make([]string, 0, len(want))
	for code := range want {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		known, err := db.clubKnown(ctx, tx, code)
		if err != nil {
			return err
		}
		if !known {
			// The portal keeps no members of this club yet; the first
			// time its members are shown, they are read from Kinde.
			continue
		}
		cur, err := db.loadMembers(ctx, tx, code, []string{id})
		if err != nil {
			return err
		}
		m := normalizeMember(club.Member{ClubCode: code, UserID: id, Email: pc.Person.Email,
			FirstName: pc.Person.FirstName, LastName: pc.Person.LastName, Roles: want[code]})
		old, existed := cur[id]
		written, err := db.writeMembers(ctx, tx, code, []club.Member{m}, cur, true, at)
		if err != nil {
			return err
		}
		if len(written) == 0 {
			continue // Kinde says what the directory has
		}
		w := written[0] // as stored: a pending add without roles in Kinde stays pending
		switch {
		case !existed:
			if err := db.appendEvent(ctx, tx, kindeEvent(code, w, "added in Kinde, roles "+joinRoles(w.Roles), at)); err != nil {
				return err
			}
			changedRoles = true
		case !slices.Equal(old.Roles, w.Roles):
			if err := db.appendEvent(ctx, tx, kindeEvent(code, w, "roles "+joinRoles(old.Roles)+" → "+joinRoles(w.Roles)+" in Kinde", at)); err != nil {
				return err
			}
			changedRoles = true
		}
	}
	return db.markStale(ctx, tx, id, changedRoles, at)
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

// clubKnown reports whether the portal keeps members of the club.
func (db *DB) clubKnown(ctx context.Context, tx *sql.Tx, code string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `
		SELECT (SELECT COUNT(*) FROM clubs WHERE code = $1) + (SELECT COUNT(*) FROM (SELECT 1 FROM memberships WHERE club_code = $1 LIMIT 1) AS m)`,
		code).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("club known: %w", err)
	}
	return n > 0, nil
}

func (db *DB) applyClub(ctx context.Context, tx *sql.Tx, ev club.KindeEvent) error {
	c := ev.Club.Club
	if ev.Club.Deleted {
		res, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE club_code = $1`, c.Code)
		if err != nil {
			return fmt.Errorf("remove club members: %w", err)
		}
		n, _ := res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM clubs WHERE code = $1`, c.Code); err != nil {
			return fmt.Errorf("remove club: %w", err)
		}
		return db.appendEvent(ctx, tx, club.AuditEvent{ClubCode: c.Code, ActorName: kindeActor, Action: club.ActionKindeSynced,
			Detail: fmt.Sprintf("club deleted in Kinde; %d memberships removed", n), At: ev.At.UTC()})
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO clubs (code, name) VALUES ($1, $2)
		ON CONFLICT (code) DO UPDATE SET name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE clubs.name END`,
		c.Code, c.Name); err != nil {
		return fmt.Errorf("save club: %w", err)
	}
	return nil
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
	return club.AuditEvent{ClubCode: code, ActorName: kindeActor, Action: club.ActionKindeSynced,
		TargetID: m.UserID, TargetEmail: m.Email, Detail: detail, At: at}
}

func joinRoles(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}
