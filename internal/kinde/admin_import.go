package kinde

import (
	"context"
	"fmt"
	"slices"

	"github.com/clubhouse/clubhouse/internal/club"
)

var _ club.ImportKinde = (*Admin)(nil)

// BulkAddMembers adds people Kinde knows to the club with their roles, at
// most 100 per AddOrganizationUsers call, and returns the ids Kinde added.
// People already in the club are left as they are (Kinde does not list
// them as added).
func (a *Admin) BulkAddMembers(ctx context.Context, clubCode string, ms []club.BulkMember) ([]string, error) {
	added, err := a.addMembers(ctx, clubCode, newMembers(ms))
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
	added := []string{}
	for chunk := range slices.Chunk(ms, maxBulkUsers) {
		req := organizationUsersRequest{Users: make([]organizationUserChange, 0, len(chunk))}
		for _, m := range chunk {
			req.Users = append(req.Users, organizationUserChange{ID: m.UserID, Roles: slices.Clone(m.Roles)})
		}
		var resp updateOrganizationUsersResponse
		if err := a.call(ctx, opUpdateOrganizationUsers, []string{clubCode}, nil, req, &resp); err != nil {
			return added, fmt.Errorf("kinde: bulk update members: %w", err)
		}
		added = append(added, resp.UsersAdded...)
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
