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

// staffCache keeps the club list and each role's permission keys. Each
// cache has its own lock, and neither is held while Kinde is asked: a slow
// or retried Kinde call would otherwise stall every staff page, even ones
// the other cache could answer. Two callers missing the cache at the same
// moment may both ask Kinde; the reads are idempotent and the later answer
// wins.
type staffCache struct {
	clubsMu sync.Mutex
	clubs   []club.Club
	clubsAt time.Time

	permsMu sync.Mutex
	perms   map[string]rolePerms // by role id
}

// rolePerms is one role's cached permission keys.
type rolePerms struct {
	keys []string
	at   time.Time
}

// Clubs lists every club (Kinde organization) by name, following every
// page, from a cache refreshed every 30 seconds.
func (a *Admin) Clubs(ctx context.Context) ([]club.Club, error) {
	c := &a.staff
	c.clubsMu.Lock()
	cached, at := c.clubs, c.clubsAt
	c.clubsMu.Unlock()
	if cached != nil && time.Since(at) < clubsCacheTTL {
		return slices.Clone(cached), nil
	}
	out := []club.Club{}
	q := url.Values{"sort": {"name_asc"}}
	err := eachPage(ctx, a, opGetOrganizations, nil, q, func(resp organizationsResponse) {
		for _, o := range resp.Organizations {
			if o.Code != "" {
				out = append(out, club.Club{Code: o.Code, Name: o.Name})
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("kinde: clubs: %w", err)
	}
	c.clubsMu.Lock()
	c.clubs, c.clubsAt = out, time.Now()
	c.clubsMu.Unlock()
	return slices.Clone(out), nil
}

// RolePermissions returns the permission keys the roles (keys) grant
// together, sorted. Each role's permissions are cached for 5 minutes, like
// the role list. A role key not in the cached role list grants nothing: the
// list is not refreshed for it, because a key Kinde does not know would
// then cost a GetRoles call on every staff "view as" page.
func (a *Admin) RolePermissions(ctx context.Context, roleKeys []string) ([]string, error) {
	out := []string{}
	if len(roleKeys) == 0 {
		return out, nil // no roles, nothing to ask Kinde
	}
	roles, err := a.cachedRoles(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("kinde: role permissions: %w", err)
	}
	ids := make(map[string]string, len(roles))
	for _, r := range roles {
		ids[r.Key] = r.ID
	}
	for _, key := range roleKeys {
		id, ok := ids[key]
		if !ok {
			continue
		}
		keys, err := a.rolePermissions(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// rolePermissions returns one role's permission keys, from the cache while
// they are younger than roleCacheTTL. The slice is shared with the cache:
// callers must not change it.
func (a *Admin) rolePermissions(ctx context.Context, roleID string) ([]string, error) {
	c := &a.staff
	c.permsMu.Lock()
	p, ok := c.perms[roleID]
	c.permsMu.Unlock()
	if ok && time.Since(p.at) < roleCacheTTL {
		return p.keys, nil
	}
	keys := []string{}
	err := eachPage(ctx, a, opGetRolePermissions, []string{roleID}, nil, func(resp rolePermissionsResponse) {
		for _, p := range resp.Permissions {
			if p.Key != "" {
				keys = append(keys, p.Key)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("kinde: role permissions: %w", err)
	}
	c.permsMu.Lock()
	if c.perms == nil {
		c.perms = map[string]rolePerms{}
	}
	c.perms[roleID] = rolePerms{keys: keys, at: time.Now()}
	c.permsMu.Unlock()
	return keys, nil
}
