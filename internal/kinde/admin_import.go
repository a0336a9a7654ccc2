package kinde

import (
	"context"
	"fmt"

	"github.com/clubhouse/clubhouse/internal/club"
)

var _ club.ImportIdentities = (*Admin)(nil)

// BulkAddMembers adds people Kinde knows to the club with their roles, at
// most 100 per AddOrganizationUsers call, and returns the ids Kinde added.
// People already in the club are left as they are (Kinde does not list
// them as added).
func (a *Admin) BulkAddMembers(ctx context.Context, clubCode string, ms []club.BulkMember) ([]string, error) {
	added, err := a.changeMembers(ctx, opAddOrganizationUsers, clubCode, newMembers(ms))
	if err != nil {
		return added, fmt.Errorf("kinde: bulk add members: %w", err)
	}
	return added, nil
}

// BulkUpdateMembers adds people to the club with their roles, or gives the
// roles to those already in it (Kinde keeps the roles they hold), at most
// 100 per UpdateOrganizationUsers call. It returns the ids that were not
// members before (Kinde's users_added).
func (a *Admin) BulkUpdateMembers(ctx context.Context, clubCode string, ms []club.BulkMember) ([]string, error) {
	added, err := a.changeMembers(ctx, opUpdateOrganizationUsers, clubCode, newMembers(ms))
	if err != nil {
		return added, fmt.Errorf("kinde: bulk update members: %w", err)
	}
	return added, nil
}

func newMembers(ms []club.BulkMember) []NewMember {
	out := make([]NewMember, len(ms))
	for i, m := range ms {
		out[i] = NewMember{ID: m.UserID, Roles: m.Roles}
	}
	return out
}
