package kinde

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// Kinde limits.
const (
	// membersPageSize is the page size of a club's member listing (Kinde's
	// maximum).
	membersPageSize = 500
	// maxBulkUsers is the most users one AddOrganizationUsers call takes:
	// the domain's bulk limit is Kinde's.
	maxBulkUsers = club.MaxBulkMembers
	// maxPages stops a listing whose next_token never ends.
	maxPages = 10_000
)

// eachPage calls the listing operation id for every page (page_size 500,
// plus query), following next_token to the last page, and hands each
// answer to use. Kinde handing back the token it was just given is an
// error rather than the end: stopping there would return, and the callers
// would cache, a list missing its later pages. Callers wrap the error with
// what they were listing.
func eachPage[R interface{ nextToken() string }](ctx context.Context, a *Admin, id opID, args []string, query url.Values, use func(R)) error {
	token := ""
	for range maxPages {
		q := url.Values{"page_size": {strconv.Itoa(membersPageSize)}}
		for k, v := range query {
			q[k] = slices.Clone(v)
		}
		if token != "" {
			q.Set("next_token", token)
		}
		var resp R
		if err := a.call(ctx, id, args, q, nil, &resp); err != nil {
			return err
		}
		use(resp)
		next := resp.nextToken()
		if next == "" {
			return nil
		}
		if next == token {
			return errors.New("next_token repeated: Kinde sent the token it was given")
		}
		token = next
	}
	return fmt.Errorf("more than %d pages", maxPages)
}

// CreateClub creates a club (a Kinde organization) named name.
func (a *Admin) CreateClub(ctx context.Context, name string) (club.Club, error) {
	var resp createOrganizationResponse
	if err := a.call(ctx, opCreateOrganization, nil, nil, createOrganizationRequest{Name: name}, &resp); err != nil {
		return club.Club{}, fmt.Errorf("kinde: create club: %w", err)
	}
	if resp.Organization.Code == "" {
		return club.Club{}, errors.New("kinde: create club: Kinde returned no org_code")
	}
	return club.Club{Code: resp.Organization.Code, Name: name}, nil
}

// RenameClub changes the club's name in Kinde. Unknown → an error for which
// errors.Is(err, club.ErrNotFound).
func (a *Admin) RenameClub(ctx context.Context, code, name string) error {
	if err := a.call(ctx, opUpdateOrganization, []string{code}, nil, updateOrganizationRequest{Name: name}, &successResponse{}); err != nil {
		return fmt.Errorf("kinde: rename club: %w", err)
	}
	return nil
}

// Club returns the club with the code (for its name). Unknown → an error
// for which errors.Is(err, club.ErrNotFound).
func (a *Admin) Club(ctx context.Context, code string) (club.Club, error) {
	var resp getOrganizationResponse
	if err := a.call(ctx, opGetOrganization, nil, url.Values{"code": {code}}, nil, &resp); err != nil {
		return club.Club{}, fmt.Errorf("kinde: club: %w", err)
	}
	if resp.Code == "" {
		return club.Club{}, fmt.Errorf("kinde: club: %w", club.ErrNotFound)
	}
	return club.Club{Code: resp.Code, Name: resp.Name}, nil
}

// AddMember adds an existing person to the club with roles (keys), in one
// call. added is false when they already were a member: Kinde then lists
// them not in users_added and changes nothing.
func (a *Admin) AddMember(ctx context.Context, clubCode, userID string, roles []string) (bool, error) {
	added, err := a.changeMembers(ctx, opAddOrganizationUsers, clubCode, []NewMember{{ID: userID, Roles: roles}})
	if err != nil {
		return false, fmt.Errorf("kinde: add member: %w", err)
	}
	return slices.Contains(added, userID), nil
}

// NewMember is one person to add to a club with AddMembers.
type NewMember struct {
	ID    string   // Kinde user id
	Roles []string // role keys
}

// AddMembers adds people Kinde already knows to the club, at most 100 per
// Kinde call (Kinde's bulk limit), and returns the ids Kinde added (not the
// ones that already were members).
func (a *Admin) AddMembers(ctx context.Context, clubCode string, ms []NewMember) ([]string, error) {
	added, err := a.changeMembers(ctx, opAddOrganizationUsers, clubCode, ms)
	if err != nil {
		return added, fmt.Errorf("kinde: add members: %w", err)
	}
	return added, nil
}

// changeMembers sends people with their roles to the club through id
// (AddOrganizationUsers or UpdateOrganizationUsers, which take the same
// body), at most maxBulkUsers a call, and returns the ids Kinde lists as
// users_added. On an error it returns the ids added by the calls before.
func (a *Admin) changeMembers(ctx context.Context, id opID, clubCode string, ms []NewMember) ([]string, error) {
	added := []string{}
	for chunk := range slices.Chunk(ms, maxBulkUsers) {
		req := organizationUsersRequest{Users: make([]organizationUserChange, 0, len(chunk))}
		for _, m := range chunk {
			req.Users = append(req.Users, organizationUserChange{ID: m.ID, Roles: slices.Clone(m.Roles)})
		}
		// Both operations' answers carry users_added, and that is all the
		// callers need.
		var resp struct {
			UsersAdded []string `json:"users_added"`
		}
		if err := a.call(ctx, id, []string{clubCode}, nil, req, &resp); err != nil {
			return added, err
		}
		added = append(added, resp.UsersAdded...)
	}
	return added, nil
}

// GrantRoles adds roles (keys) to a member; roles they hold already are
// kept. No roles → no call.
func (a *Admin) GrantRoles(ctx context.Context, clubCode, userID string, roles []string) error {
	if len(roles) == 0 {
		return nil
	}
	req := organizationUsersRequest{Users: []organizationUserChange{{ID: userID, Roles: slices.Clone(roles)}}}
	var resp updateOrganizationUsersResponse
	if err := a.call(ctx, opUpdateOrganizationUsers, []string{clubCode}, nil, req, &resp); err != nil {
		return fmt.Errorf("kinde: grant roles: %w", err)
	}
	return nil
}

// RevokeRole takes one role (by key) away from a member. Kinde wants the
// role's id, read from the cached role list.
func (a *Admin) RevokeRole(ctx context.Context, clubCode, userID, roleKey string) error {
	role, err := a.role(ctx, roleKey)
	if err != nil {
		return fmt.Errorf("kinde: revoke role: %w", err)
	}
	var resp successResponse
	if err := a.call(ctx, opDeleteOrganizationUserRole, []string{clubCode, userID, role.ID}, nil, nil, &resp); err != nil {
		return fmt.Errorf("kinde: revoke role: %w", err)
	}
	return nil
}

// MemberRoles lists a member's role keys in the club, sorted. (Kinde's
// answer has a next_token, but the operation takes none: one call.)
func (a *Admin) MemberRoles(ctx context.Context, clubCode, userID string) ([]string, error) {
	var resp organizationUserRolesResponse
	if err := a.call(ctx, opGetOrganizationUserRoles, []string{clubCode, userID}, nil, nil, &resp); err != nil {
		return nil, fmt.Errorf("kinde: member roles: %w", err)
	}
	keys := []string{}
	for _, r := range resp.Roles {
		keys = append(keys, r.Key)
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// RemoveMember removes a person from the club. A person who is not a
// member gives an error for which errors.Is(err, club.ErrNotFound).
func (a *Admin) RemoveMember(ctx context.Context, clubCode, userID string) error {
	var resp successResponse
	if err := a.call(ctx, opRemoveOrganizationUser, []string{clubCode, userID}, nil, nil, &resp); err != nil {
		return fmt.Errorf("kinde: remove member: %w", err)
	}
	return nil
}

// ClubMembers lists all of a club's members, following next_token to the
// last page (Kinde silently returns only the first page otherwise).
func (a *Admin) ClubMembers(ctx context.Context, clubCode string) ([]club.Member, error) {
	out := []club.Member{}
	seen := map[string]bool{}
	err := eachPage(ctx, a, opGetOrganizationUsers, []string{clubCode}, nil, func(resp organizationUsersResponse) {
		for _, u := range resp.OrganizationUsers {
			if u.ID == "" || seen[u.ID] {
				continue
			}
			seen[u.ID] = true
			roles := slices.Clone(u.Roles)
			if roles == nil {
				roles = []string{}
			}
			slices.Sort(roles)
			out = append(out, club.Member{
				ClubCode:  clubCode,
				UserID:    u.ID,
				Email:     strings.ToLower(strings.TrimSpace(u.Email)),
				FirstName: u.FirstName,
				LastName:  u.LastName,
				Roles:     slices.Compact(roles),
				JoinedAt:  parseKindeTime(u.JoinedOn),
			})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("kinde: club members: %w", err)
	}
	return out, nil
}

// Roles lists the roles defined in Kinde (shared by every club), from a
// cache refreshed every 5 minutes.
func (a *Admin) Roles(ctx context.Context) ([]club.Role, error) {
	roles, err := a.cachedRoles(ctx, false)
	if err != nil {
		return nil, err
	}
	return slices.Clone(roles), nil
}

// role returns the role with key, refreshing the cache once if the key is
// unknown (a role created in Kinde a moment ago).
func (a *Admin) role(ctx context.Context, key string) (club.Role, error) {
	for force := range 2 {
		roles, err := a.cachedRoles(ctx, force == 1)
		if err != nil {
			return club.Role{}, err
		}
		for _, r := range roles {
			if r.Key == key {
				return r, nil
			}
		}
	}
	return club.Role{}, club.Errorf(club.EINVALID, "There is no role %q in Kinde.", key)
}

func (a *Admin) cachedRoles(ctx context.Context, force bool) ([]club.Role, error) {
	c := &a.roles
	c.mu.Lock()
	defer c.mu.Unlock()
	if !force && c.roles != nil && time.Since(c.fetched) < roleCacheTTL {
		return c.roles, nil
	}
	roles := []club.Role{}
	err := eachPage(ctx, a, opGetRoles, nil, nil, func(resp rolesResponse) {
		for _, r := range resp.Roles {
			roles = append(roles, club.Role{ID: r.ID, Key: r.Key, Name: r.Name})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("kinde: roles: %w", err)
	}
	c.roles, c.fetched = roles, time.Now()
	return roles, nil
}

// parseKindeTime reads a Kinde timestamp (ISO 8601, with or without
// fractional seconds). Unreadable → the zero time.
func parseKindeTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999-07", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
