package store

import (
	"context"
	"fmt"

	"github.com/clubhouse/clubhouse/internal/club"
)

// maxRoleHolders bounds MembersWithRole.
const maxRoleHolders = 100

// MembersWithRole lists up to limit of the club's members (pending ones
// excluded) who hold roleKey, by name. The staff console uses it to show a
// club's owners. Limit is clamped to 1..100.
func (db *DB) MembersWithRole(ctx context.Context, clubCode, roleKey string, limit int) ([]club.Member, error) {
	if limit <= 0 || limit > maxRoleHolders {
		limit = maxRoleHolders
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT m.user_id, COALESCE(p.email, ''), m.first_name, m.last_name, m.joined_at
		FROM membership_roles r
		JOIN memberships m ON m.club_code = r.club_code AND m.user_id = r.user_id
		JOIN people p ON p.id = m.user_id
		WHERE r.club_code = $1 AND r.role_key = $2 AND m.pending = FALSE
		ORDER BY m.sort_name, m.user_id
		LIMIT $3`, clubCode, roleKey, limit)
	if err != nil {
		return nil, fmt.Errorf("store: members with role: %w", err)
	}
	defer rows.Close()
	out := []club.Member{}
	var ids []string
	for rows.Next() {
		m := club.Member{ClubCode: clubCode, Roles: []string{}}
		if err := rows.Scan(&m.UserID, &m.Email, &m.FirstName, &m.LastName, timeCol{&m.JoinedAt}); err != nil {
			return nil, fmt.Errorf("store: members with role: %w", err)
		}
		out = append(out, m)
		ids = append(ids, m.UserID)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: members with role: %w", err)
	}
	rows.Close()
	if len(ids) == 0 {
		return out, nil
	}
	roles, err := db.loadRoles(ctx, db.read, clubCode, ids)
	if err != nil {
		return nil, fmt.Errorf("store: members with role: %w", err)
	}
	for i := range out {
		if r := roles[out[i].UserID]; r != nil {
			out[i].Roles = r
		}
	}
	return out, nil
}
