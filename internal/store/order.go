package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// The directory never goes backwards. Every write of a membership, from
// the portal, an import, a webhook's re-read or a reconciliation, goes
// through applyFacts, which compares the version of what the writer knows
// with the versions of what the directory has and keeps the newer
// (docs/RELIABILITY.md):
//
//   - a membership row has the version its facts were written at, and the
//     version they were true as of (factAge);
//   - a removal leaves a tombstone with its version, so an older "still a
//     member" cannot bring the membership back;
//   - a club's last full snapshot confirms, at its version, every row it
//     listed and the absence of every other;
//   - a pending add (one the portal has not finished) is never removed or
//     listed by what Kinde says: only the add that made it finishes it.

// factSource says who learned a fact.
type factSource int

const (
	// fromPortal: the portal's own change, written once Kinde did it.
	fromPortal factSource = iota
	// fromKinde: read from Kinde (a webhook's re-read, a reconciliation).
	fromKinde
)

// fact is what a writer knows of one membership: its state, or that the
// person is not a member (gone).
type fact struct {
	m    club.Member
	gone bool
}

// factWrite is one writer's facts about memberships of one club, all known
// as of version.
type factWrite struct {
	clubCode string
	// version is when the facts were learned: for a read of Kinde, the
	// version taken before it started; for the portal's own change, one
	// taken once Kinde had done it.
	version club.Version
	// stamp, for a read of Kinde, is the version its writes carry, taken
	// after the read ended; zero takes one in the write.
	stamp  club.Version
	source factSource
	facts  []fact
	at     time.Time // when, for tombstones and new memberships' join time
	// snapshot marks the facts as the whole club as Kinde lists it: rows
	// it confirms are confirmed by the club's snapshot version, not one
	// by one.
	snapshot bool
	// cur, when set, is the club's current memberships of at least the
	// facts' users (a snapshot has read them all already).
	cur map[string]club.Member
}

// factChange is one membership a write changed.
type factChange struct {
	before  club.Member
	existed bool // before is a row that was there (pending or listed)
	after   club.Member
	gone    bool // the membership was removed
	// quiet marks the portal's own change, seen in Kinde before the
	// portal saved it: the portal writes its activity row itself.
	quiet bool
}

// membershipChanged reports whether the change is one the club sees in
// its members list: someone listed joined or left, or their roles changed.
func (c factChange) membershipChanged() bool {
	if c.quiet {
		return false
	}
	was, is := c.existed && !c.before.Pending, !c.gone && !c.after.Pending
	return was != is || (was && is && !slices.Equal(c.before.Roles, c.after.Roles))
}

// applyFacts writes the facts that are newer than what the directory has,
// and returns what changed, and whether it passed over older facts that
// differ from the directory's (the caller may read again). It is the one
// way memberships are written.
//
// A fact read from Kinde is newer only when its read started after the
// directory's facts were last written; what it writes is stamped with a
// version taken now, after the read ended. Two reads that overlap in time
// may have seen Kinde in either order, so the later one to arrive is
// passed over rather than trusted: a page never shows an older view after
// a newer one.
func (db *DB) applyFacts(ctx context.Context, tx *sql.Tx, w factWrite) ([]factChange, bool, error) {
	st, err := db.factState(ctx, tx, w)
	if err != nil {
		return nil, false, err
	}
	p := planFacts(w, st)
	age := factAge{written: st.stamp, known: w.version}
	if err := db.removeMembers(ctx, tx, w.clubCode, p.gone, age, w.at); err != nil {
		return nil, false, err
	}
	written, err := db.writeMembers(ctx, tx, w.clubCode, p.keep, st.cur, memberWrite{
		age: age, bump: !w.snapshot, fromKinde: w.source == fromKinde, at: w.at})
	if err != nil {
		return nil, false, err
	}
	if w.snapshot {
		if _, err := tx.ExecContext(ctx, `UPDATE clubs SET snapshot_version = $1, snapshot_known = $2 WHERE code = $3 AND snapshot_version < $1`,
			int64(age.written), int64(age.known), w.clubCode); err != nil {
			return nil, false, fmt.Errorf("snapshot version: %w", err)
		}
	}
	for _, m := range written {
		old, existed := st.cur[m.UserID]
		p.changes = append(p.changes, factChange{before: old, existed: existed, after: m, quiet: st.open[userSubject(m.UserID)]})
	}
	return p.changes, p.stale, nil
}

// factState is what the directory has of the memberships a write is about.
type factState struct {
	cur    map[string]club.Member // the memberships, pending ones included
	newest map[string]factAge     // the age of the newest fact about each
	stamp  club.Version           // the version the write is stamped with
	open   map[string]bool        // the portal's changes under way (reads only)
}

func (db *DB) factState(ctx context.Context, tx *sql.Tx, w factWrite) (factState, error) {
	ids := make([]string, 0, len(w.facts))
	for _, f := range w.facts {
		if f.m.UserID == "" {
			return factState{}, errors.New("apply facts: a fact has no user id")
		}
		ids = append(ids, f.m.UserID)
	}
	st := factState{cur: w.cur, stamp: w.version}
	var err error
	if st.cur == nil {
		if st.cur, err = db.loadMembers(ctx, tx, w.clubCode, ids); err != nil {
			return factState{}, err
		}
	}
	if st.newest, err = db.factVersions(ctx, tx, w.clubCode, ids); err != nil {
		return factState{}, err
	}
	if w.source == fromKinde {
		// The read has ended: what it writes is stamped after it.
		st.stamp = w.stamp
		if st.stamp == 0 {
			if st.stamp, err = db.nextVersion(ctx, tx); err != nil {
				return factState{}, err
			}
		}
		if st.open, err = db.openChanges(ctx, tx, w.clubCode); err != nil {
			return factState{}, err
		}
	}
	return st, nil
}

// factPlan is what a write does: the memberships to write and to remove,
// the removals as changes, and whether older facts that differ from the
// directory's were passed over.
type factPlan struct {
	keep    []club.Member
	gone    []string
	changes []factChange
	stale   bool
}

func planFacts(w factWrite, st factState) factPlan {
	var p factPlan
	for _, f := range w.facts {
		id := f.m.UserID
		old, existed := st.cur[id]
		switch {
		case !st.newest[id].olderThan(w):
			// The directory knows something newer, or something read at
			// the same time.
			p.stale = p.stale || differs(f, old, existed)
		case f.gone && existed && old.Pending && w.source == fromKinde:
			// An add under way: only the add finishes or drops it.
		case f.gone:
			p.gone = append(p.gone, id)
			if existed {
				p.changes = append(p.changes, factChange{before: old, existed: true, gone: true, quiet: st.open[userSubject(id)]})
			}
		default:
			m := f.m
			if w.source == fromKinde && !existed {
				m.Pending = st.open[addSubject(m.Email)] // the membership an add under way is making
			}
			p.keep = append(p.keep, m)
		}
	}
	return p
}

// differs reports whether a fact says something else than the directory
// has: another membership state, or other roles.
func differs(f fact, cur club.Member, existed bool) bool {
	if f.gone || !existed {
		return f.gone == (existed && !cur.Pending)
	}
	return !slices.Equal(normalizeMember(f.m).Roles, cur.Roles)
}

// factAge is what the directory knows of one membership, for ordering: the
// version its facts were written at, and the version they were true as of.
type factAge struct {
	written club.Version
	known   club.Version
}

// newer reports whether facts of w are newer than what the directory has:
// a read of Kinde only when it began after the last write (two reads that
// overlapped may have seen Kinde in either order), the portal's own change
// when Kinde made it after what the directory knows.
func (a factAge) olderThan(w factWrite) bool {
	if w.source == fromPortal {
		return a.known < w.version
	}
	return a.written < w.version
}

// factVersions returns, by user id, the age of the newest fact the
// directory has about each membership of ids in the club: the row's own,
// its tombstone's, or the club's snapshot's (which confirms every listed
// row and every absence, but says nothing of a pending add).
func (db *DB) factVersions(ctx context.Context, tx *sql.Tx, clubCode string, ids []string) (map[string]factAge, error) {
	var snap factAge
	err := tx.QueryRowContext(ctx, `SELECT snapshot_version, snapshot_known FROM clubs WHERE code = $1`, clubCode).Scan(&snap.written, &snap.known)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("fact versions: %w", err)
	}
	out := make(map[string]factAge, len(ids))
	for _, id := range ids {
		out[id] = snap
	}
	read := func(query string) error {
		return chunks(len(ids), maxParams, func(lo, hi int) error {
			rows, err := tx.QueryContext(ctx, fmt.Sprintf(query, db.params(2, hi-lo)), append([]any{clubCode}, anys(ids[lo:hi])...)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var (
					id      string
					a       factAge
					pending bool
				)
				if err := rows.Scan(&id, &a.written, &a.known, &pending); err != nil {
					return err
				}
				cur := out[id]
				if pending {
					cur = factAge{} // the snapshot does not confirm an add under way
				}
				out[id] = factAge{written: max(cur.written, a.written), known: max(cur.known, a.known)}
			}
			return rows.Err()
		})
	}
	if err := read(`SELECT user_id, version, known, pending FROM memberships WHERE club_code = $1 AND user_id IN (%s)`); err != nil {
		return nil, fmt.Errorf("fact versions: %w", err)
	}
	if err := read(`SELECT user_id, version, known, FALSE FROM membership_tombstones WHERE club_code = $1 AND user_id IN (%s)`); err != nil {
		return nil, fmt.Errorf("fact versions: %w", err)
	}
	return out, nil
}

// removeMembers deletes the club's memberships of ids and leaves a
// tombstone for each, dated at and aged age.
func (db *DB) removeMembers(ctx context.Context, tx *sql.Tx, clubCode string, ids []string, age factAge, at time.Time) error {
	ids = slices.Clone(ids)
	slices.Sort(ids) // the same lock order in every writer
	return chunks(len(ids), maxParams/5, func(lo, hi int) error {
		// membership_roles rows go with it (ON DELETE CASCADE).
		if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE club_code = $1 AND user_id IN (`+db.params(2, hi-lo)+`)`,
			append([]any{clubCode}, anys(ids[lo:hi])...)...); err != nil {
			return fmt.Errorf("remove members: %w", err)
		}
		args := make([]any, 0, (hi-lo)*5)
		for _, id := range ids[lo:hi] {
			args = append(args, clubCode, id, int64(age.written), int64(age.known), db.ts(at))
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO membership_tombstones (club_code, user_id, version, known, removed_at) VALUES `+db.rowParams(1, hi-lo, 5)+`
			ON CONFLICT (club_code, user_id) DO UPDATE SET version = excluded.version, known = excluded.known, removed_at = excluded.removed_at
			WHERE excluded.version > membership_tombstones.version`, args...); err != nil {
			return fmt.Errorf("tombstones: %w", err)
		}
		return nil
	})
}

// bumpVersions moves the age of the club's memberships of ids forward to
// age: their facts were confirmed, unchanged.
func (db *DB) bumpVersions(ctx context.Context, tx *sql.Tx, clubCode string, ids []string, age factAge) error {
	slices.Sort(ids)
	return chunks(len(ids), maxParams-3, func(lo, hi int) error {
		_, err := tx.ExecContext(ctx, `
			UPDATE memberships SET version = $1, known = CASE WHEN known < $2 THEN $2 ELSE known END
			WHERE club_code = $3 AND version < $1 AND user_id IN (`+db.params(4, hi-lo)+`)`,
			append([]any{int64(age.written), int64(age.known), clubCode}, anys(ids[lo:hi])...)...)
		if err != nil {
			return fmt.Errorf("bump versions: %w", err)
		}
		return nil
	})
}

// nextVersion hands out the next directory version. On PostgreSQL a
// sequence does it without a row lock; on SQLite the single writer makes a
// counter row just as safe.
func (db *DB) nextVersion(ctx context.Context, q querier) (club.Version, error) {
	query := `UPDATE directory_version SET n = n + 1 WHERE id = 1 RETURNING n`
	if db.dialect == DialectPostgres {
		query = `SELECT nextval('directory_version')`
	}
	var v int64
	if err := q.QueryRowContext(ctx, query).Scan(&v); err != nil {
		return 0, fmt.Errorf("next version: %w", err)
	}
	return club.Version(v), nil
}

// portalVersion is the version of the portal's own change: v, taken once
// Kinde had done it, or (0) one taken now. A change saved late, after a
// newer change to the same membership was saved, is then passed over
// instead of undoing it.
func (db *DB) portalVersion(ctx context.Context, tx *sql.Tx, v club.Version) (club.Version, error) {
	if v != 0 {
		return v, nil
	}
	return db.nextVersion(ctx, tx)
}

// BeginRead returns the version of a read of Kinde that starts now: what
// the read finds is at least as new as every write recorded before.
func (db *DB) BeginRead(ctx context.Context) (club.Version, error) {
	v, err := db.nextVersion(ctx, db.write)
	if err != nil {
		return 0, fmt.Errorf("store: begin read: %w", err)
	}
	return v, nil
}

// changeWindow is how long a change under way stays open when it never
// ended (its instance died).
const changeWindow = 15 * time.Minute

// StartAdd records that an add of email to the club is under way. Until
// it finishes (FinishAdd) or changeWindow passes, a membership Kinde shows
// for that email is the add's own: a re-read records it pending, unlisted,
// and writes nothing to the club's activity.
func (db *DB) StartAdd(ctx context.Context, clubCode, email string) error {
	return db.startChange(ctx, clubCode, addSubject(email))
}

// StartChange records that the portal is changing userID's membership of
// the club (roles, removal). Until the change is saved (SaveMember,
// DeleteMember) or changeWindow passes, what Kinde shows of it is written
// without an activity row: the portal writes its own.
func (db *DB) StartChange(ctx context.Context, clubCode, userID string) error {
	return db.startChange(ctx, clubCode, userSubject(userID))
}

func (db *DB) startChange(ctx context.Context, clubCode, subject string) error {
	_, err := db.write.ExecContext(ctx, `
		INSERT INTO member_changes (club_code, subject, started_at) VALUES ($1, $2, $3)
		ON CONFLICT (club_code, subject) DO UPDATE SET started_at = excluded.started_at`,
		clubCode, subject, db.ts(db.now()))
	if err != nil {
		return fmt.Errorf("store: start change: %w", err)
	}
	return nil
}

func addSubject(email string) string   { return "email:" + normalizeEmail(email) }
func userSubject(userID string) string { return "user:" + userID }

// endChange closes the portal's change of subject in the club.
func (db *DB) endChange(ctx context.Context, tx *sql.Tx, clubCode, subject string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM member_changes WHERE club_code = $1 AND subject = $2`, clubCode, subject); err != nil {
		return fmt.Errorf("end change: %w", err)
	}
	return nil
}

// openChanges returns the subjects of the portal's changes under way in
// the club.
func (db *DB) openChanges(ctx context.Context, q querier, clubCode string) (map[string]bool, error) {
	var subjects []string
	if err := db.column(ctx, q, &subjects, `SELECT subject FROM member_changes WHERE club_code = $1 AND started_at > $2`,
		clubCode, db.ts(db.now().Add(-changeWindow))); err != nil {
		return nil, fmt.Errorf("open changes: %w", err)
	}
	out := make(map[string]bool, len(subjects))
	for _, s := range subjects {
		out[s] = true
	}
	return out, nil
}

// FinishAdd lists m as a member of the club once Kinde has them there with
// their roles, appends ev and queues inv, in one transaction. Exactly one
// caller finishes an add: finished is false, and nothing is written, when
// m was listed already (another instance finished the same add first).
func (db *DB) FinishAdd(ctx context.Context, v club.Version, m club.Member, ev club.AuditEvent, inv *club.Invitation) (finished bool, err error) {
	if m.ClubCode == "" || m.UserID == "" {
		return false, errors.New("store: finish add: club code and user id are required")
	}
	m = normalizeMember(m)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		finished = false
		v, err := db.portalVersion(ctx, tx, v)
		if err != nil {
			return err
		}
		removed, err := db.removedSince(ctx, tx, m.ClubCode, m.UserID, v)
		if err != nil {
			return err
		}
		listed := !removed // else Kinde removed them since: the add stands, unlisted
		if listed {
			claimed, err := db.claimAdd(ctx, tx, m)
			if err != nil {
				return err
			}
			if !claimed {
				// Listed already: another instance finished this add, or
				// the directory has not yet heard of a removal older
				// than it. Either way Kinde has them as of v.
				_, _, err := db.applyFacts(ctx, tx, factWrite{clubCode: m.ClubCode, version: v, source: fromPortal,
					facts: []fact{{m: m}}, at: db.now()})
				return err
			}
			if err := db.writeAdded(ctx, tx, v, m); err != nil {
				return err
			}
		}
		if err := db.endChange(ctx, tx, m.ClubCode, addSubject(m.Email)); err != nil {
			return err
		}
		if err := db.appendEvent(ctx, tx, ev); err != nil {
			return err
		}
		finished = true
		if inv == nil || !listed {
			return nil
		}
		return db.enqueue(ctx, tx, *inv, ev.At)
	})
	if err != nil {
		return false, fmt.Errorf("store: finish add: %w", err)
	}
	return finished, nil
}

// removedSince reports whether the membership was removed at or after
// version v.
func (db *DB) removedSince(ctx context.Context, tx *sql.Tx, clubCode, userID string, v club.Version) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM membership_tombstones WHERE club_code = $1 AND user_id = $2 AND version >= $3`,
		clubCode, userID, int64(v)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("removed since: %w", err)
	}
	return n > 0, nil
}

// writeAdded writes the claimed membership as the add made it. The names
// are the club's, whatever a re-read during the add wrote: they are the
// club's own, not a fact of Kinde's to order.
func (db *DB) writeAdded(ctx context.Context, tx *sql.Tx, v club.Version, m club.Member) error {
	m.Pending = false
	if _, _, err := db.applyFacts(ctx, tx, factWrite{clubCode: m.ClubCode, version: v, source: fromPortal,
		facts: []fact{{m: m}}, at: db.now()}); err != nil {
		return err
	}
	if !m.NamesByClub {
		return nil
	}
	sortName, search := memberKeys(m.FirstName, m.LastName, m.Email)
	if _, err := tx.ExecContext(ctx, `
		UPDATE memberships SET first_name = $1, last_name = $2, names_by_club = TRUE, sort_name = $3, search = $4
		WHERE club_code = $5 AND user_id = $6`, m.FirstName, m.LastName, sortName, search, m.ClubCode, m.UserID); err != nil {
		return fmt.Errorf("club's names: %w", err)
	}
	return nil
}

// claimAdd turns the add's membership from pending to listed, creating it
// pending first when the directory has none, and reports whether this
// transaction did: a conditional update, so two instances finishing the
// same add cannot both win.
func (db *DB) claimAdd(ctx context.Context, tx *sql.Tx, m club.Member) (bool, error) {
	if _, _, err := db.upsertPeople(ctx, tx, []club.Person{{ID: m.UserID, Email: m.Email}}); err != nil {
		return false, err
	}
	sortName, search := memberKeys(m.FirstName, m.LastName, m.Email)
	joined := m.JoinedAt
	if joined.IsZero() {
		joined = db.now()
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO memberships (club_code, user_id, first_name, last_name, joined_at, pending, sort_name, search, names_by_club)
		VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $8) ON CONFLICT (club_code, user_id) DO NOTHING`,
		m.ClubCode, m.UserID, m.FirstName, m.LastName, db.ts(joined), sortName, search, m.NamesByClub); err != nil {
		return false, fmt.Errorf("claim add: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE memberships SET pending = FALSE WHERE club_code = $1 AND user_id = $2 AND pending = TRUE`,
		m.ClubCode, m.UserID)
	if err != nil {
		return false, fmt.Errorf("claim add: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim add: %w", err)
	}
	return n == 1, nil
}

// ApplyPerson writes what a re-read of one person in Kinde found, under
// the version v taken before the read, in one transaction: their email,
// and in every club the portal keeps members of, their membership and
// roles, or that they are not a member. Facts older than the directory's
// change nothing. Each listed membership that changed is appended to the
// club's activity with Kinde as the actor, and a person whose memberships
// changed gets their claims marked stale.
func (db *DB) ApplyPerson(ctx context.Context, v club.Version, f club.PersonFacts) (stale bool, err error) {
	id := f.Person.ID
	if id == "" {
		return false, errors.New("store: apply person: the facts name no person")
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		stale = false
		stamp, newer, err := db.claimPerson(ctx, tx, id, v)
		if err != nil {
			return err
		}
		codes, err := db.personClubs(ctx, tx, id, f)
		if err != nil {
			return err
		}
		if !newer {
			// Another re-read overlapped this one: it is passed over, and
			// its caller reads again only if it saw something else.
			stale, err = db.personDiffers(ctx, tx, f, codes)
			return err
		}
		if err := db.applyPersonEmail(ctx, tx, f); err != nil {
			return err
		}
		changed := false
		at := db.now().UTC()
		for _, code := range codes {
			roles, in := f.Clubs[code]
			m := normalizeMember(club.Member{ClubCode: code, UserID: id, Email: f.Person.Email,
				FirstName: f.Person.FirstName, LastName: f.Person.LastName, Roles: roles})
			changes, older, err := db.applyFacts(ctx, tx, factWrite{clubCode: code, version: v, stamp: stamp, source: fromKinde,
				facts: []fact{{m: m, gone: f.Gone || !in}}, at: at})
			if err != nil {
				return err
			}
			stale = stale || older
			for _, c := range changes {
				if !c.membershipChanged() {
					continue
				}
				changed = true
				if err := db.appendEvent(ctx, tx, personChangeEvent(code, c, f.Gone, at)); err != nil {
					return err
				}
			}
		}
		return db.markStale(ctx, tx, id, changed, at)
	})
	if err != nil {
		return false, fmt.Errorf("store: apply person: %w", err)
	}
	return stale, nil
}

// claimPerson locks the person's last re-read version and moves it to the
// stamp of this one, and reports false (writing nothing) when a re-read
// that started at or after v was written already: the two overlapped.
func (db *DB) claimPerson(ctx context.Context, tx *sql.Tx, id string, v club.Version) (stamp club.Version, newer bool, err error) {
	// Insert first, so that on PostgreSQL a concurrent re-read of the same
	// person waits here, then lock the row.
	if _, err := tx.ExecContext(ctx, `INSERT INTO person_versions (user_id, version) VALUES ($1, 0) ON CONFLICT (user_id) DO NOTHING`, id); err != nil {
		return 0, false, fmt.Errorf("person version: %w", err)
	}
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM person_versions WHERE user_id = $1`+db.forUpdate(), id).Scan(&last); err != nil {
		return 0, false, fmt.Errorf("person version: %w", err)
	}
	if club.Version(last) >= v {
		return 0, false, nil
	}
	if stamp, err = db.nextVersion(ctx, tx); err != nil {
		return 0, false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE person_versions SET version = $1 WHERE user_id = $2`, int64(stamp), id); err != nil {
		return 0, false, fmt.Errorf("person version: %w", err)
	}
	return stamp, true, nil
}

// personDiffers reports whether a re-read's facts say something else than
// the directory has, in any of the clubs it speaks for.
func (db *DB) personDiffers(ctx context.Context, tx *sql.Tx, f club.PersonFacts, codes []string) (bool, error) {
	for _, code := range codes {
		cur, err := db.loadMembers(ctx, tx, code, []string{f.Person.ID})
		if err != nil {
			return false, err
		}
		roles, in := f.Clubs[code]
		old, existed := cur[f.Person.ID]
		if differs(fact{m: club.Member{Roles: roles}, gone: f.Gone || !in}, old, existed) {
			return true, nil
		}
	}
	return false, nil
}

// personClubs returns, sorted, the clubs a re-read of the person speaks
// for: every club the directory has them in, and every club Kinde has them
// in that the portal keeps members of.
func (db *DB) personClubs(ctx context.Context, tx *sql.Tx, id string, f club.PersonFacts) ([]string, error) {
	var codes []string
	if err := db.column(ctx, tx, &codes, `SELECT club_code FROM memberships WHERE user_id = $1`, id); err != nil {
		return nil, fmt.Errorf("person's clubs: %w", err)
	}
	if !f.Gone {
		inKinde := make([]string, 0, len(f.Clubs))
		for code := range f.Clubs {
			inKinde = append(inKinde, code)
		}
		kept, err := db.keptClubs(ctx, tx, inKinde)
		if err != nil {
			return nil, err
		}
		codes = append(codes, kept...)
	}
	slices.Sort(codes)
	return slices.Compact(codes), nil
}

// applyPersonEmail records the person's email, or forgets it when Kinde
// no longer has them.
func (db *DB) applyPersonEmail(ctx context.Context, tx *sql.Tx, f club.PersonFacts) error {
	if f.Gone {
		if _, err := tx.ExecContext(ctx, `UPDATE people SET email = NULL WHERE id = $1`, f.Person.ID); err != nil {
			return fmt.Errorf("forget email: %w", err)
		}
		return nil
	}
	changed, _, err := db.upsertPeople(ctx, tx, []club.Person{{ID: f.Person.ID, Email: normalizeEmail(f.Person.Email)}})
	if err != nil {
		return err
	}
	return refreshKeys(ctx, tx, changed)
}

// personChangeEvent is the activity row of a listed membership that Kinde
// changed.
func personChangeEvent(code string, c factChange, deleted bool, at time.Time) club.AuditEvent {
	switch {
	case c.gone && deleted:
		return kindeEvent(code, c.before, "person deleted in Kinde", at)
	case c.gone:
		return kindeEvent(code, c.before, "removed in Kinde", at)
	case !c.existed || c.before.Pending:
		return kindeEvent(code, c.after, "added in Kinde, roles "+joinRoles(c.after.Roles), at)
	default:
		return kindeEvent(code, c.after, "roles "+joinRoles(c.before.Roles)+" → "+joinRoles(c.after.Roles)+" in Kinde", at)
	}
}

// KeptClubs returns, sorted, those of codes whose members the portal
// keeps.
func (db *DB) KeptClubs(ctx context.Context, codes []string) ([]string, error) {
	out, err := db.keptClubs(ctx, db.read, codes)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// keptClubs returns, sorted, those of codes the portal keeps members of:
// clubs it has seen, or holds memberships of.
func (db *DB) keptClubs(ctx context.Context, q querier, codes []string) ([]string, error) {
	var out []string
	err := chunks(len(codes), maxParams/2, func(lo, hi int) error {
		n := hi - lo
		args := anys(codes[lo:hi])
		return db.column(ctx, q, &out, `
			SELECT code FROM clubs WHERE code IN (`+db.params(1, n)+`)
			UNION SELECT DISTINCT club_code FROM memberships WHERE club_code IN (`+db.params(n+1, n)+`)`, append(args, args...)...)
	})
	if err != nil {
		return nil, fmt.Errorf("kept clubs: %w", err)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// PruneOrder forgets tombstones and unfinished adds older than before:
// every read of Kinde that started before them has long been applied.
func (db *DB) PruneOrder(ctx context.Context, before time.Time) error {
	for _, q := range []string{
		`DELETE FROM membership_tombstones WHERE removed_at < $1`,
		`DELETE FROM member_changes WHERE started_at < $1`,
		`DELETE FROM directory_locks WHERE until < $1`,
	} {
		if _, err := db.write.ExecContext(ctx, q, db.ts(before)); err != nil {
			return fmt.Errorf("store: prune order: %w", err)
		}
	}
	return nil
}
