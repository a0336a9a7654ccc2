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

// loadMembers returns the club's memberships of ids (every membership of
// the club when ids is nil), pending ones included, by user id.
func (db *DB) loadMembers(ctx context.Context, q querier, clubCode string, ids []string) (map[string]club.Member, error) {
	out := map[string]club.Member{}
	load := func(filter string, args []any) error {
		rows, err := q.QueryContext(ctx, `
			SELECT m.user_id, COALESCE(p.email, ''), m.first_name, m.last_name, m.joined_at, m.pending, m.names_by_club
			FROM memberships m JOIN people p ON p.id = m.user_id
			WHERE m.club_code = $1`+filter, args...)
		if err != nil {
			return fmt.Errorf("load members: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			m := club.Member{ClubCode: clubCode, Roles: []string{}}
			if err := rows.Scan(&m.UserID, &m.Email, &m.FirstName, &m.LastName, timeCol{&m.JoinedAt}, &m.Pending, &m.NamesByClub); err != nil {
				return fmt.Errorf("load members: %w", err)
			}
			out[m.UserID] = m
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("load members: %w", err)
		}
		return nil
	}
	if ids == nil {
		if err := load("", []any{clubCode}); err != nil {
			return nil, err
		}
	} else if err := chunks(len(ids), maxParams, func(lo, hi int) error {
		return load(` AND m.user_id IN (`+db.params(2, hi-lo)+`)`, append([]any{clubCode}, anys(ids[lo:hi])...))
	}); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	roles, err := db.loadRoles(ctx, q, clubCode, ids)
	if err != nil {
		return nil, err
	}
	for id, r := range roles {
		if m, ok := out[id]; ok {
			m.Roles = r
			out[id] = m
		}
	}
	return out, nil
}

// loadRoles returns the sorted role keys of the club's members ids (of every
// member when ids is nil), by user id. Members without roles are absent.
func (db *DB) loadRoles(ctx context.Context, q querier, clubCode string, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	load := func(filter string, args []any) error {
		rows, err := q.QueryContext(ctx, `SELECT user_id, role_key FROM membership_roles WHERE club_code = $1`+filter+` ORDER BY user_id, role_key`, args...)
		if err != nil {
			return fmt.Errorf("load roles: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, key string
			if err := rows.Scan(&id, &key); err != nil {
				return fmt.Errorf("load roles: %w", err)
			}
			out[id] = append(out[id], key)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("load roles: %w", err)
		}
		return nil
	}
	if ids == nil {
		return out, load("", []any{clubCode})
	}
	return out, chunks(len(ids), maxParams, func(lo, hi int) error {
		return load(` AND user_id IN (`+db.params(2, hi-lo)+`)`, append([]any{clubCode}, anys(ids[lo:hi])...))
	})
}

// memberWrite says how writeMembers writes.
type memberWrite struct {
	// age is the directory versions of the facts written.
	age factAge
	// bump moves the version of rows that do not change forward too, so
	// that an older fact can no longer replace them. A club snapshot needs
	// none: the club's snapshot version confirms every row it listed.
	bump bool
	// fromKinde marks rows read from Kinde, which knows less than the
	// portal: the club's own names and a pending state are kept.
	fromKinde bool
	// at is the join time of a new membership given none.
	at time.Time
}

// writeMembers upserts ms (people, memberships and roles) into the club,
// given the club's current memberships cur of at least those users. Rows
// that would not change are not written, so a sync that finds nothing new
// writes nothing. A zero JoinedAt keeps the stored time, or is w.at for a
// new membership. Callers check first that the facts are newer than the
// directory's (applyFacts): writeMembers only writes.
func (db *DB) writeMembers(ctx context.Context, tx *sql.Tx, clubCode string, ms []club.Member, cur map[string]club.Member, w memberWrite) ([]club.Member, error) {
	list, err := oneRowPerUser(clubCode, ms)
	if err != nil {
		return nil, err
	}
	people := make([]club.Person, len(list))
	for i, m := range list {
		people[i] = club.Person{ID: m.UserID, Email: m.Email}
	}
	changed, final, err := db.upsertPeople(ctx, tx, people)
	if err != nil {
		return nil, err
	}
	write, touch := memberChanges(list, cur, final, w)
	if err := db.upsertMemberships(ctx, tx, clubCode, write, w.age); err != nil {
		return nil, err
	}
	if err := db.replaceRoles(ctx, tx, clubCode, write); err != nil {
		return nil, err
	}
	if w.bump {
		if err := db.bumpVersions(ctx, tx, clubCode, touch, w.age); err != nil {
			return nil, err
		}
	}
	// People whose email changed are also members elsewhere: their other
	// memberships sort and search by the old address until refreshed.
	if err := refreshKeys(ctx, tx, changed); err != nil {
		return nil, err
	}
	return write, nil
}

// oneRowPerUser normalizes ms into one membership per user of the club (a
// later entry wins), sorted by user id: rows are written in key order, so
// that concurrent writers lock them in the same order and do not deadlock.
func oneRowPerUser(clubCode string, ms []club.Member) ([]club.Member, error) {
	index := map[string]int{}
	list := make([]club.Member, 0, len(ms))
	for _, m := range ms {
		if m.UserID == "" {
			return nil, errors.New("write members: a member has no user id")
		}
		m = normalizeMember(m)
		m.ClubCode = clubCode
		if i, ok := index[m.UserID]; ok {
			list[i] = m
			continue
		}
		index[m.UserID] = len(list)
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b club.Member) int { return strings.Compare(a.UserID, b.UserID) })
	return list, nil
}

// memberChanges returns the memberships of list to write, as they will be
// stored, and the users whose stored row would not change (touch). final
// is every user's email after the people were written.
func memberChanges(list []club.Member, cur map[string]club.Member, final map[string]string, w memberWrite) (write []club.Member, touch []string) {
	for _, m := range list {
		// The email the person ends up with (another member of this batch
		// may have taken it).
		m.Email = final[m.UserID]
		old, ok := cur[m.UserID]
		if m.JoinedAt.IsZero() {
			m.JoinedAt = w.at.UTC().Truncate(time.Microsecond)
			if ok {
				m.JoinedAt = old.JoinedAt
			}
		}
		// Names the club typed stay the club's, once typed.
		m.NamesByClub = m.NamesByClub || (ok && old.NamesByClub)
		if w.fromKinde && ok {
			if old.NamesByClub || old.FirstName != "" || old.LastName != "" {
				m.FirstName, m.LastName = old.FirstName, old.LastName
			}
			m.Pending = old.Pending
		}
		if ok && sameMember(old, m) {
			touch = append(touch, m.UserID)
			continue
		}
		write = append(write, m)
	}
	return write, touch
}

// upsertMemberships writes the membership rows of ms, aged age unless a
// row already has a newer version.
func (db *DB) upsertMemberships(ctx context.Context, tx *sql.Tx, clubCode string, ms []club.Member, age factAge) error {
	const memberCols = 11
	err := chunks(len(ms), maxParams/memberCols, func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*memberCols)
		for _, m := range ms[lo:hi] {
			sortName, search := memberKeys(m.FirstName, m.LastName, m.Email)
			args = append(args, clubCode, m.UserID, m.FirstName, m.LastName, db.ts(m.JoinedAt), m.Pending, sortName, search, m.NamesByClub,
				int64(age.written), int64(age.known))
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO memberships (club_code, user_id, first_name, last_name, joined_at, pending, sort_name, search, names_by_club, version, known)
			VALUES `+db.rowParams(1, hi-lo, memberCols)+`
			ON CONFLICT (club_code, user_id) DO UPDATE SET
				first_name = excluded.first_name,
				last_name = excluded.last_name,
				joined_at = excluded.joined_at,
				pending = excluded.pending,
				sort_name = excluded.sort_name,
				search = excluded.search,
				names_by_club = memberships.names_by_club OR excluded.names_by_club,
				version = CASE WHEN excluded.version > memberships.version THEN excluded.version ELSE memberships.version END,
				known = CASE WHEN excluded.known > memberships.known THEN excluded.known ELSE memberships.known END`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("write memberships: %w", err)
	}
	return nil
}

// replaceRoles makes the role rows of each of ms exactly its roles.
func (db *DB) replaceRoles(ctx context.Context, tx *sql.Tx, clubCode string, write []club.Member) error {
	if err := chunks(len(write), maxParams, func(lo, hi int) error {
		args := []any{clubCode}
		for _, m := range write[lo:hi] {
			args = append(args, m.UserID)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM membership_roles WHERE club_code = $1 AND user_id IN (`+db.params(2, hi-lo)+`)`, args...)
		return err
	}); err != nil {
		return fmt.Errorf("clear roles: %w", err)
	}
	type roleRow struct{ userID, key string }
	var roles []roleRow
	for _, m := range write {
		for _, k := range m.Roles {
			roles = append(roles, roleRow{m.UserID, k})
		}
	}
	if err := chunks(len(roles), maxParams/3, func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*3)
		for _, r := range roles[lo:hi] {
			args = append(args, clubCode, r.userID, r.key)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO membership_roles (club_code, user_id, role_key) VALUES `+db.rowParams(1, hi-lo, 3), args...)
		return err
	}); err != nil {
		return fmt.Errorf("write roles: %w", err)
	}
	return nil
}

func sameMember(a, b club.Member) bool {
	return a.Email == b.Email && a.FirstName == b.FirstName && a.LastName == b.LastName &&
		a.JoinedAt.Equal(b.JoinedAt) && a.Pending == b.Pending && slices.Equal(a.Roles, b.Roles) && a.NamesByClub == b.NamesByClub
}

// upsertPeople records each person's id and email. An email belongs to one
// id: when another id holds it, the new id wins and the old one loses its
// address (Kinde gave it to a new user). It returns the existing ids whose
// email changed, and every id's email afterwards.
func (db *DB) upsertPeople(ctx context.Context, tx *sql.Tx, ps []club.Person) (changed []string, final map[string]string, err error) {
	want := make(map[string]string, len(ps))  // id -> email ("" for none)
	owner := make(map[string]string, len(ps)) // email -> id
	ids := make([]string, 0, len(ps))
	var (
		emails  []string
		unknown []string // ids given without an email: keep the one we know
	)
	for _, p := range ps {
		if _, dup := want[p.ID]; !dup {
			ids = append(ids, p.ID)
		}
		if p.Email == "" {
			unknown = append(unknown, p.ID)
		} else {
			if prev, ok := owner[p.Email]; ok && prev != p.ID {
				want[prev] = ""
			} else if !ok {
				emails = append(emails, p.Email)
			}
			owner[p.Email] = p.ID
		}
		want[p.ID] = p.Email
	}

	cur := map[string]string{} // id -> email, for ids and emails involved
	read := func(column string, keys []string) error {
		return chunks(len(keys), maxParams, func(lo, hi int) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, COALESCE(email, '') FROM people WHERE `+column+` IN (`+db.params(1, hi-lo)+`)`, anys(keys[lo:hi])...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, email string
				if err := rows.Scan(&id, &email); err != nil {
					return err
				}
				cur[id] = email
			}
			return rows.Err()
		})
	}
	if err := read("id", ids); err != nil {
		return nil, nil, fmt.Errorf("read people: %w", err)
	}
	if err := read("email", emails); err != nil {
		return nil, nil, fmt.Errorf("read people: %w", err)
	}

	for _, id := range unknown {
		if email := cur[id]; email != "" && want[id] == "" && owner[email] == "" {
			want[id], owner[email] = email, id
		}
	}

	final = make(map[string]string, len(cur)+len(want))
	var release []string
	for id, email := range cur {
		final[id] = email
		if email == "" {
			continue
		}
		w, wanted := want[id]
		if (wanted && w != email) || (owner[email] != "" && owner[email] != id) {
			release = append(release, id)
			final[id] = ""
		}
	}
	var upsert []club.Person
	for _, id := range ids {
		if email, ok := cur[id]; !ok || email != want[id] {
			upsert = append(upsert, club.Person{ID: id, Email: want[id]})
		}
		final[id] = want[id]
	}
	for id, email := range cur {
		if final[id] != email {
			changed = append(changed, id)
		}
	}
	// A stable order keeps concurrent writers from locking rows in opposite
	// orders.
	slices.Sort(release)
	slices.Sort(changed)
	slices.SortFunc(upsert, func(a, b club.Person) int { return strings.Compare(a.ID, b.ID) })

	// Free every address that is moving first, so that the upsert never
	// meets an address still held by its previous owner (even a swap).
	if err := chunks(len(release), maxParams, func(lo, hi int) error {
		_, err := tx.ExecContext(ctx, `UPDATE people SET email = NULL WHERE id IN (`+db.params(1, hi-lo)+`)`, anys(release[lo:hi])...)
		return err
	}); err != nil {
		return nil, nil, fmt.Errorf("release emails: %w", err)
	}
	if err := chunks(len(upsert), maxParams/2, func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*2)
		for _, p := range upsert[lo:hi] {
			args = append(args, p.ID, nullString(p.Email))
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO people (id, email) VALUES `+db.rowParams(1, hi-lo, 2)+`
			ON CONFLICT (id) DO UPDATE SET email = excluded.email`, args...)
		return err
	}); err != nil {
		return nil, nil, fmt.Errorf("write people: %w", err)
	}
	return changed, final, nil
}

// refreshKeys recomputes the sort and search keys of every membership of
// ids, after their email changed.
func refreshKeys(ctx context.Context, tx *sql.Tx, ids []string) error {
	type row struct{ club, user, first, last, email string }
	for _, id := range ids {
		var rs []row
		err := func() error {
			rows, err := tx.QueryContext(ctx, `
				SELECT m.club_code, m.first_name, m.last_name, COALESCE(p.email, '')
				FROM memberships m JOIN people p ON p.id = m.user_id WHERE m.user_id = $1`, id)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				r := row{user: id}
				if err := rows.Scan(&r.club, &r.first, &r.last, &r.email); err != nil {
					return err
				}
				rs = append(rs, r)
			}
			return rows.Err()
		}()
		if err != nil {
			return fmt.Errorf("refresh member keys: %w", err)
		}
		for _, r := range rs {
			sortName, search := memberKeys(r.first, r.last, r.email)
			if _, err := tx.ExecContext(ctx, `UPDATE memberships SET sort_name = $1, search = $2 WHERE club_code = $3 AND user_id = $4`,
				sortName, search, r.club, r.user); err != nil {
				return fmt.Errorf("refresh member keys: %w", err)
			}
		}
	}
	return nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// nullString binds "" as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
