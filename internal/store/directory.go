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

// PersonByEmail returns the person the directory knows under email. Names
// are per club, so the person comes back without them: no club learns what
// another club typed.
func (db *DB) PersonByEmail(ctx context.Context, email string) (club.Person, error) {
	email = normalizeEmail(email)
	if email == "" {
		return club.Person{}, notFound("person by email")
	}
	var p club.Person
	err := db.read.QueryRowContext(ctx, `SELECT id, email FROM people WHERE email = $1`, email).Scan(&p.ID, &p.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return club.Person{}, notFound("person by email")
	}
	if err != nil {
		return club.Person{}, fmt.Errorf("store: person by email: %w", err)
	}
	return p, nil
}

// Member returns userID's membership of the club, pending or not.
func (db *DB) Member(ctx context.Context, clubCode, userID string) (club.Member, error) {
	ms, err := db.loadMembers(ctx, db.read, clubCode, []string{userID})
	if err != nil {
		return club.Member{}, fmt.Errorf("store: member: %w", err)
	}
	m, ok := ms[userID]
	if !ok {
		return club.Member{}, notFound("member")
	}
	return m, nil
}

// memberOrder returns the ORDER BY of a listing order, for the table alias
// t ("" for none). Every order ends with user_id, so pages never overlap or
// skip members whose keys are equal.
func memberOrder(s club.MemberSort, t string) string {
	if t != "" {
		t += "."
	}
	switch s {
	case club.SortNameDesc:
		return t + "sort_name DESC, " + t + "user_id DESC"
	case club.SortJoinedAsc:
		return t + "joined_at ASC, " + t + "user_id ASC"
	case club.SortJoinedDesc:
		return t + "joined_at DESC, " + t + "user_id DESC"
	default:
		return t + "sort_name ASC, " + t + "user_id ASC"
	}
}

// Members lists a page of the club's members (pending ones excluded) and
// how many match. Search matches a substring of the name or the email,
// ignoring case and accents. Limit is clamped to 1..club.MaxPageSize (0
// means club.MaxPageSize); a negative offset counts as 0.
func (db *DB) Members(ctx context.Context, clubCode string, q club.MemberQuery) (club.MemberPage, error) {
	limit := q.Limit
	if limit <= 0 || limit > club.MaxPageSize {
		limit = club.MaxPageSize
	}
	offset := max(q.Offset, 0)
	inClub, match, args := db.memberFilter(clubCode, q.Search)
	where := inClub
	if match != "" {
		where += " AND " + match
	}
	// Cut the page from the index first, then join the few rows it keeps:
	// rows skipped by OFFSET are never looked up.
	query := fmt.Sprintf(`
		SELECT m.user_id, COALESCE(p.email, ''), m.first_name, m.last_name, m.joined_at, m.pending
		FROM (%s) AS pg
		JOIN memberships m ON m.club_code = $1 AND m.user_id = pg.user_id
		JOIN people p ON p.id = m.user_id
		ORDER BY %s`, memberPageIDs(where, q.Sort, len(args)), memberOrder(q.Sort, "m"))
	rows, err := db.read.QueryContext(ctx, query, append(slices.Clone(args), limit, offset)...)
	if err != nil {
		return club.MemberPage{}, fmt.Errorf("store: members: %w", err)
	}
	defer rows.Close()
	page := club.MemberPage{Members: make([]club.Member, 0, limit)}
	ids := make([]string, 0, limit)
	for rows.Next() {
		m := club.Member{ClubCode: clubCode, Roles: []string{}}
		if err := rows.Scan(&m.UserID, &m.Email, &m.FirstName, &m.LastName, timeCol{&m.JoinedAt}, &m.Pending); err != nil {
			return club.MemberPage{}, fmt.Errorf("store: members: %w", err)
		}
		page.Members = append(page.Members, m)
		ids = append(ids, m.UserID)
	}
	if err := rows.Err(); err != nil {
		return club.MemberPage{}, fmt.Errorf("store: members: %w", err)
	}
	rows.Close()

	// A short page is the last one and tells the total by itself: a search
	// that matches few members scans the club only to count it. Otherwise
	// one scan of the club counts both the matches and the whole club.
	short := len(page.Members) < limit && (len(page.Members) > 0 || offset == 0)
	switch {
	case short:
		page.Total = offset + len(page.Members)
		page.ClubTotal = page.Total
		if match != "" {
			if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships WHERE `+inClub, args[0]).Scan(&page.ClubTotal); err != nil {
				return club.MemberPage{}, fmt.Errorf("store: members: count: %w", err)
			}
		}
	case match == "":
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships WHERE `+inClub, args...).Scan(&page.Total); err != nil {
			return club.MemberPage{}, fmt.Errorf("store: members: count: %w", err)
		}
		page.ClubTotal = page.Total
	default:
		q := `SELECT COUNT(*), COALESCE(SUM(CASE WHEN ` + match + ` THEN 1 ELSE 0 END), 0) FROM memberships WHERE ` + inClub
		if err := db.read.QueryRowContext(ctx, q, args...).Scan(&page.ClubTotal, &page.Total); err != nil {
			return club.MemberPage{}, fmt.Errorf("store: members: count: %w", err)
		}
	}
	if len(ids) == 0 {
		return page, nil
	}
	roles, err := db.loadRoles(ctx, db.read, clubCode, ids)
	if err != nil {
		return club.MemberPage{}, fmt.Errorf("store: members: %w", err)
	}
	for i := range page.Members {
		if r := roles[page.Members[i].UserID]; r != nil {
			page.Members[i].Roles = r
		}
	}
	return page, nil
}

// memberFilter returns the condition selecting the club's listed members,
// the condition a search adds ("" for none) and their arguments: the club
// code ($1), then the folded search term ($2).
func (db *DB) memberFilter(clubCode, search string) (inClub, match string, args []any) {
	inClub, args = `club_code = $1 AND pending = FALSE`, []any{clubCode}
	if term := fold(strings.TrimSpace(search)); term != "" {
		match = db.contains("search", "$2")
		args = append(args, term)
	}
	return inClub, match, args
}

// memberPageIDs returns the query for the user ids of one page, read in
// order from the listing indexes; its LIMIT and OFFSET are the parameters
// after the filter's n.
func memberPageIDs(where string, sort club.MemberSort, n int) string {
	return fmt.Sprintf(`SELECT user_id FROM memberships WHERE %s ORDER BY %s LIMIT $%d OFFSET $%d`, where, memberOrder(sort, ""), n+1, n+2)
}

// CountWithRole counts the club's members (pending ones excluded) holding
// roleKey.
func (db *DB) CountWithRole(ctx context.Context, clubCode, roleKey string) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `
		SELECT COUNT(*) FROM membership_roles r
		JOIN memberships m ON m.club_code = r.club_code AND m.user_id = r.user_id
		WHERE r.club_code = $1 AND r.role_key = $2 AND m.pending = FALSE`, clubCode, roleKey).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count with role: %w", err)
	}
	return n, nil
}

// SaveMember writes the membership as m has it, as the portal's own change
// that Kinde has just made, appends ev (when non-nil) and queues inv (when
// non-nil), in one transaction. Its version is taken last, so it is newer
// than every read of Kinde started before. A zero JoinedAt keeps the stored
// one (now, for a new membership); an empty Email keeps the address the
// directory knows. When another user id holds m's email, m's id takes it
// over.
func (db *DB) SaveMember(ctx context.Context, v club.Version, m club.Member, ev *club.AuditEvent, inv *club.Invitation) error {
	if m.ClubCode == "" || m.UserID == "" {
		return errors.New("store: save member: club code and user id are required")
	}
	now := db.now().UTC()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		v, err := db.portalVersion(ctx, tx, v)
		if err != nil {
			return err
		}
		if _, _, err := db.applyFacts(ctx, tx, factWrite{clubCode: m.ClubCode, version: v, source: fromPortal,
			facts: []fact{{m: m}}, at: now}); err != nil {
			return err
		}
		if err := db.endChange(ctx, tx, m.ClubCode, userSubject(m.UserID)); err != nil {
			return err
		}
		queuedAt := now
		if ev != nil {
			if err := db.appendEvent(ctx, tx, *ev); err != nil {
				return err
			}
			if !ev.At.IsZero() {
				queuedAt = ev.At
			}
		}
		if inv != nil {
			if err := db.enqueue(ctx, tx, *inv, queuedAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save member: %w", err)
	}
	return nil
}

// DeleteMember removes the membership (and its roles), as the portal's own
// change that Kinde has just made, and appends ev, in one transaction. It
// leaves a tombstone, so a read of Kinde started before cannot bring the
// membership back. A membership that does not exist is not an error. The
// person stays known: they may be in other clubs, or come back.
func (db *DB) DeleteMember(ctx context.Context, v club.Version, clubCode, userID string, ev club.AuditEvent) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		v, err := db.portalVersion(ctx, tx, v)
		if err != nil {
			return err
		}
		if _, _, err := db.applyFacts(ctx, tx, factWrite{clubCode: clubCode, version: v, source: fromPortal,
			facts: []fact{{m: club.Member{ClubCode: clubCode, UserID: userID}, gone: true}}, at: db.now()}); err != nil {
			return err
		}
		if err := db.endChange(ctx, tx, clubCode, userSubject(userID)); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("store: delete member: %w", err)
	}
	return nil
}

// ReplaceMembers writes a snapshot of the club's members as Kinde listed
// them in a read that started at version v, records syncedAt as the
// club's last sync and appends the event event returns for what changed,
// in one transaction. It records the club too (its name, when c has one).
//
// The snapshot speaks only for what is older than it: a membership
// written after the read started (an add, a role change, a webhook's
// re-read) is kept as it is, and a pending add is never removed. Kinde
// knows less than the portal about a few things, so a sync keeps them: the
// names the club typed, even empty ones (Kinde's names fill in only a
// membership the club did not add itself, so a club never sees names
// another club typed into Kinde), the join time and the email when ms has
// none.
func (db *DB) ReplaceMembers(ctx context.Context, c club.Club, ms []club.Member, v club.Version, syncedAt time.Time, event func(club.SyncChanges) *club.AuditEvent) (club.SyncChanges, error) {
	if c.Code == "" {
		return club.SyncChanges{}, errors.New("store: replace members: club code is required")
	}
	var changes club.SyncChanges
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		changes = club.SyncChanges{}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO clubs (code, name, last_synced_at) VALUES ($1, $2, $3)
			ON CONFLICT (code) DO UPDATE SET
				name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE clubs.name END,
				last_synced_at = excluded.last_synced_at`, c.Code, c.Name, db.ts(syncedAt)); err != nil {
			return fmt.Errorf("club: %w", err)
		}
		cur, err := db.loadMembers(ctx, tx, c.Code, nil)
		if err != nil {
			return err
		}
		written, _, err := db.applyFacts(ctx, tx, snapshotWrite(c.Code, ms, cur, v, syncedAt))
		if err != nil {
			return err
		}
		for _, ch := range written {
			if ch.quiet {
				continue // the portal's own change: it writes its own row
			}
			if ch.gone {
				if !ch.before.Pending {
					changes.Left++
				}
				continue
			}
			changes.Count(ch.before, ch.existed, ch.after)
		}
		if ev := event(changes); ev != nil {
			return db.appendEvent(ctx, tx, *ev)
		}
		return nil
	})
	if err != nil {
		return club.SyncChanges{}, fmt.Errorf("store: replace members: %w", err)
	}
	return changes, nil
}

// snapshotWrite is the write of a club's members as Kinde listed them: a
// fact for each, and a "gone" fact for each current membership not listed.
func snapshotWrite(code string, ms []club.Member, cur map[string]club.Member, v club.Version, at time.Time) factWrite {
	w := factWrite{clubCode: code, version: v, source: fromKinde, at: at, snapshot: true, cur: cur}
	listed := make(map[string]bool, len(ms))
	for _, m := range ms {
		if m.UserID == "" || listed[m.UserID] {
			continue
		}
		listed[m.UserID] = true
		w.facts = append(w.facts, fact{m: m})
	}
	gone := make([]string, 0)
	for id := range cur {
		if !listed[id] {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		w.facts = append(w.facts, fact{m: club.Member{ClubCode: code, UserID: id}, gone: true})
	}
	return w
}

// SaveClub records a club created through the portal by creatorID and
// appends ev, in one transaction. The club's creation time is ev.At. Saving
// a club the portal already knows updates its name and keeps the first
// creator.
func (db *DB) SaveClub(ctx context.Context, c club.Club, creatorID string, ev club.AuditEvent) error {
	if c.Code == "" {
		return errors.New("store: save club: club code is required")
	}
	at := ev.At
	if at.IsZero() {
		at = db.now()
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO clubs (code, name, created_by, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (code) DO UPDATE SET
				name = excluded.name,
				created_by = CASE WHEN clubs.created_by = '' THEN excluded.created_by ELSE clubs.created_by END,
				created_at = COALESCE(clubs.created_at, excluded.created_at)`,
			c.Code, c.Name, creatorID, db.ts(at)); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("store: save club: %w", err)
	}
	return nil
}

// RenameClub records the club's new name and appends ev, in one
// transaction. What is known of the club's creation stays as it was.
func (db *DB) RenameClub(ctx context.Context, c club.Club, ev club.AuditEvent) error {
	if c.Code == "" {
		return errors.New("store: rename club: club code is required")
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO clubs (code, name) VALUES ($1, $2)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name`, c.Code, c.Name); err != nil {
			return err
		}
		return db.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("store: rename club: %w", err)
	}
	return nil
}

// RecentClubByCreator returns the latest club named name that creatorID
// created at or after since.
func (db *DB) RecentClubByCreator(ctx context.Context, creatorID, name string, since time.Time) (club.Club, error) {
	if creatorID == "" {
		return club.Club{}, notFound("recent club by creator")
	}
	var c club.Club
	err := db.read.QueryRowContext(ctx, `
		SELECT code, name FROM clubs
		WHERE created_by = $1 AND name = $2 AND created_at >= $3
		ORDER BY created_at DESC LIMIT 1`, creatorID, name, db.ts(since)).Scan(&c.Code, &c.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return club.Club{}, notFound("recent club by creator")
	}
	if err != nil {
		return club.Club{}, fmt.Errorf("store: recent club by creator: %w", err)
	}
	return c, nil
}

// Club returns a club the portal has seen, created through it (SaveClub) or
// synced from Kinde (ReplaceMembers).
func (db *DB) Club(ctx context.Context, code string) (club.Club, error) {
	var c club.Club
	err := db.read.QueryRowContext(ctx, `SELECT code, name FROM clubs WHERE code = $1`, code).Scan(&c.Code, &c.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return club.Club{}, notFound("club")
	}
	if err != nil {
		return club.Club{}, fmt.Errorf("store: club: %w", err)
	}
	return c, nil
}

// LastSynced returns when the club's members were last replaced from Kinde,
// or the zero time when they never were (or the club is unknown).
func (db *DB) LastSynced(ctx context.Context, clubCode string) (time.Time, error) {
	var t time.Time
	err := db.read.QueryRowContext(ctx, `SELECT last_synced_at FROM clubs WHERE code = $1`, clubCode).Scan(timeCol{&t})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("store: last synced: %w", err)
	}
	return t, nil
}

// MarkClaimsStale records that userID's token claims are out of date since
// at. A later mark moves the time forward; an earlier one is ignored.
func (db *DB) MarkClaimsStale(ctx context.Context, userID string, at time.Time) error {
	if at.IsZero() {
		at = db.now()
	}
	if err := markClaimsStale(ctx, db.write, userID, db.ts(at)); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// markClaimsStale records at (a stored time) as when userID's claims went
// stale, unless a later time is recorded already.
func markClaimsStale(ctx context.Context, q querier, userID string, at any) error {
	if _, err := q.ExecContext(ctx, `
		INSERT INTO claims_stale (user_id, at) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET at = excluded.at WHERE excluded.at > claims_stale.at`, userID, at); err != nil {
		return fmt.Errorf("mark claims stale: %w", err)
	}
	return nil
}

// ClaimsStaleSince returns when userID's claims were last marked stale, or
// the zero time when they never were.
func (db *DB) ClaimsStaleSince(ctx context.Context, userID string) (time.Time, error) {
	var t time.Time
	err := db.read.QueryRowContext(ctx, `SELECT at FROM claims_stale WHERE user_id = $1`, userID).Scan(timeCol{&t})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("store: claims stale since: %w", err)
	}
	return t, nil
}
