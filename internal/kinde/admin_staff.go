package kinde

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// What the staff console reads through the M2M application: every club
// (to search them) and what each role grants (to see a club as one of its
// members without their tokens).

// clubsCacheTTL is how long the list of every club is reused: staff search
// it as they type, and a club created a moment ago may wait that long.
const clubsCacheTTL = 30 * time.Second

// staffCache keeps the club list and each role's permission keys.
type staffCache struct {
	mu      sync.Mutex
	clubs   []club.Club
	clubsAt time.Time
	perms   map[string][]string // by role id
	permsAt map[string]time.Time
}

// Clubs lists every club (Kinde organization) by name, following every
// page, from a cache refreshed every 30 seconds.
func (a *Admin) Clubs(ctx context.Context) ([]club.Club, error) {
	c := &a.staff
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clubs != nil && time.Since(c.clubsAt) < clubsCacheTTL {
		return slices.Clone(c.clubs), nil
	}
	out := []club.Club{}
	token := ""
	for range maxPages {
		q := url.Values{"page_size": {fmt.Sprint(membersPageSize)}, "sort": {"name_asc"}}
		if token != "" {
			q.Set("next_token", token)
		}
		var resp organizationsResponse
		if err := a.call(ctx, opGetOrganizations, nil, q, nil, &resp); err != nil {
			return nil, fmt.Errorf("kinde: clubs: %w", err)
		}
		for _, o := range resp.Organizations {
			if o.Code != "" {
				out = append(out, club.Club{Code: o.Code, Name: o.Name})
			}
		}
		if resp.NextToken == "" || resp.NextToken == token {
			c.clubs, c.clubsAt = out, time.Now()
			return slices.Clone(out), nil
		}
		token = resp.NextToken
	}
	return nil, fmt.Errorf("kinde: clubs: more than %d pages", maxPages)
}

// RolePermissions returns the permission keys the roles (keys) grant
// together, sorted. Each role's permissions are cached for 5 minutes, like
// the role list. A role key Kinde does not know grants nothing.
func (a *Admin) RolePermissions(ctx context.Context, roleKeys []string) ([]string, error) {
	out := []string{}
	for _, key := range roleKeys {
		role, err := a.role(ctx, key)
		if club.ErrorCode(err) == club.EINVALID {
			continue // no such role in Kinde (any more)
		}
		if err != nil {
			return nil, fmt.Errorf("kinde: role permissions: %w", err)
		}
		keys, err := a.rolePermissions(ctx, role.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (a *Admin) rolePermissions(ctx context.Context, roleID string) ([]string, error) {
	c := &a.staff
	c.mu.Lock()
	defer c.mu.Unlock()
	if keys, ok := c.perms[roleID]; ok && time.Since(c.permsAt[roleID]) < roleCacheTTL {
		return keys, nil
	}
	keys := []string{}
	token := ""
	for range maxPages {
		q := url.Values{"page_size": {fmt.Sprint(membersPageSize)}}
		if token != "" {
			q.Set("next_token", token)
		}
		var resp rolePermissionsResponse
		if err := a.call(ctx, opGetRolePermissions, []string{roleID}, q, nil, &resp); err != nil {
			return nil, fmt.Errorf("kinde: role permissions: %w", err)
		}
		for _, p := range resp.Permissions {
			if p.Key != "" {
				keys = append(keys, p.Key)
			}
		}
		if resp.NextToken == "" || resp.NextToken == token {
			if c.perms == nil {
				c.perms, c.permsAt = map[string][]string{}, map[string]time.Time{}
			}
			c.perms[roleID], c.permsAt[roleID] = keys, time.Now()
			return keys, nil
		}
		token = resp.NextToken
	}
	return nil, fmt.Errorf("kinde: role permissions: more than %d pages", maxPages)
}
