package emulator

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// OrgByCode returns the org with the given code.
func (w *World) OrgByCode(code string) (Org, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	e, ok := w.orgs[code]
	if !ok {
		return Org{}, false
	}
	return e.o, true
}

// Orgs returns every org in creation order.
func (w *World) Orgs() []Org {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]Org, 0, len(w.orgOrder))
	for _, e := range w.orgOrder {
		out = append(out, e.o)
	}
	return out
}

// OrgsOfUser returns the orgs the user belongs to, sorted by name.
func (w *World) OrgsOfUser(userID string) []Org {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.orgsOfUserLocked(userID)
}

func (w *World) orgsOfUserLocked(userID string) []Org {
	out := make([]Org, 0, len(w.userOrgs[userID]))
	for code := range w.userOrgs[userID] {
		out = append(out, w.orgs[code].o)
	}
	slices.SortFunc(out, func(a, b Org) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Code, b.Code))
	})
	return out
}

// OrgCodesOfUser returns the codes of the orgs the user belongs to, sorted.
func (w *World) OrgCodesOfUser(userID string) []string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return slices.Sorted(maps.Keys(w.userOrgs[userID]))
}

// ListOrgs returns one page of orgs sorted by sort ("name_asc", "name_desc";
// anything else keeps creation order) and the next page's token.
func (w *World) ListOrgs(sort string, pageSize int, nextToken string) ([]Org, string, error) {
	offset, err := decodeCursor("o", nextToken)
	if err != nil {
		return nil, "", err
	}
	if pageSize <= 0 {
		pageSize = 10
	}
	all := w.Orgs()
	switch sort {
	case "name_asc":
		slices.SortStableFunc(all, func(a, b Org) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	case "name_desc":
		slices.SortStableFunc(all, func(a, b Org) int { return cmp.Compare(strings.ToLower(b.Name), strings.ToLower(a.Name)) })
	}
	return pageOf(all, offset, pageSize, "o")
}

func pageOf[T any](all []T, offset uint64, size int, kind string) ([]T, string, error) {
	if offset > uint64(len(all)) {
		return nil, "", ErrBadToken
	}
	rest := all[offset:]
	if len(rest) <= size {
		return rest, "", nil
	}
	return rest[:size], encodeCursor(kind, offset+uint64(size)), nil
}

// CreateOrg creates an org with the given name and emits
// organization.created.
func (w *World) CreateOrg(name string, source string) (Org, error) {
	return w.CreateOrganization(Org{Name: name}, source)
}

// CreateOrganization creates an org from o (Code is generated when empty,
// CreatedOn is set from the clock) and emits organization.created.
func (w *World) CreateOrganization(o Org, source string) (Org, error) {
	if strings.TrimSpace(o.Name) == "" {
		return Org{}, fmt.Errorf("emulator: create organization: name is required: %w", ErrInvalid)
	}
	w.mu.Lock()
	if o.Code == "" {
		for {
			o.Code = newOrgCode()
			if _, taken := w.orgs[o.Code]; !taken {
				break
			}
		}
	} else if _, taken := w.orgs[o.Code]; taken {
		w.mu.Unlock()
		return Org{}, fmt.Errorf("emulator: create organization: code %q: %w", o.Code, ErrDuplicateKey)
	}
	if o.Handle != "" {
		for _, e := range w.orgOrder {
			if e.o.Handle == o.Handle {
				w.mu.Unlock()
				return Org{}, fmt.Errorf("emulator: create organization: handle %q: %w", o.Handle, ErrDuplicateKey)
			}
		}
	}
	o.CreatedOn = w.now()
	e := &orgEntry{o: o, seq: w.nextSeq()}
	w.orgs[o.Code] = e
	w.orgOrder = append(w.orgOrder, e)
	ev := w.event("organization.created", source, map[string]any{"organization": orgPayload(o, false)})
	w.mu.Unlock()
	w.emit([]Event{ev})
	return o, nil
}

func orgPayload(o Org, withRegistrations bool) map[string]any {
	var ext any
	if o.ExternalID != "" {
		ext = o.ExternalID
	}
	p := map[string]any{"code": o.Code, "external_id": ext, "handle": o.Handle, "name": o.Name}
	if withRegistrations {
		p["is_allow_registrations"] = o.IsAutoMembershipEnabled
	}
	return p
}

// OrgPatch lists the fields of an org to change; nil means leave alone.
type OrgPatch struct {
	Name                    *string
	ExternalID              *string
	Handle                  *string
	IsAutoMembershipEnabled *bool
	IsSuspended             *bool
}

// UpdateOrganization changes an org and emits organization.updated.
func (w *World) UpdateOrganization(code string, p OrgPatch, source string) (Org, error) {
	w.mu.Lock()
	e, ok := w.orgs[code]
	if !ok {
		w.mu.Unlock()
		return Org{}, fmt.Errorf("emulator: update organization: %w", notFound("organization", code))
	}
	if p.Name != nil {
		if strings.TrimSpace(*p.Name) == "" {
			w.mu.Unlock()
			return Org{}, fmt.Errorf("emulator: update organization: empty name: %w", ErrInvalid)
		}
		e.o.Name = *p.Name
	}
	if p.ExternalID != nil {
		e.o.ExternalID = *p.ExternalID
	}
	if p.Handle != nil {
		e.o.Handle = *p.Handle
	}
	if p.IsAutoMembershipEnabled != nil {
		e.o.IsAutoMembershipEnabled = *p.IsAutoMembershipEnabled
	}
	if p.IsSuspended != nil {
		if *p.IsSuspended && e.o.IsDefault {
			w.mu.Unlock()
			return Org{}, fmt.Errorf("emulator: update organization: %w", ErrDefaultOrg)
		}
		e.o.IsSuspended = *p.IsSuspended
	}
	ev := w.event("organization.updated", source, map[string]any{"organization": orgPayload(e.o, true)})
	out := e.o
	w.mu.Unlock()
	w.emit([]Event{ev})
	return out, nil
}

// DeleteOrganization removes an org with its memberships and invites, and
// emits organization.deleted.
func (w *World) DeleteOrganization(code string, source string) error {
	w.mu.Lock()
	e, ok := w.orgs[code]
	if !ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: delete organization: %w", notFound("organization", code))
	}
	if e.o.IsDefault {
		w.mu.Unlock()
		return fmt.Errorf("emulator: delete organization: %w", ErrDefaultOrg)
	}
	for uid := range w.members[code] {
		delete(w.userOrgs[uid], code)
		w.claims[uid]++
	}
	delete(w.members, code)
	delete(w.orgs, code)
	w.orgOrder = slices.DeleteFunc(w.orgOrder, func(x *orgEntry) bool { return x == e })
	w.invites = slices.DeleteFunc(w.invites, func(i Invite) bool { return i.OrgCode == code })
	ev := w.event("organization.deleted", source, map[string]any{"organization": map[string]any{"code": code}})
	w.mu.Unlock()
	w.emit([]Event{ev})
	return nil
}

// IsMember reports whether the user belongs to the org.
func (w *World) IsMember(orgCode, userID string) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	_, ok := w.members[orgCode][userID]
	return ok
}

// Membership returns the user's membership of the org.
func (w *World) Membership(orgCode, userID string) (Membership, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	m, ok := w.members[orgCode][userID]
	if !ok {
		return Membership{}, false
	}
	return cloneMembership(m.m), true
}

// MemberRoles returns the member's roles in the org, in the order given.
func (w *World) MemberRoles(orgCode, userID string) []Role {
	w.mu.RLock()
	defer w.mu.RUnlock()
	m, ok := w.members[orgCode][userID]
	if !ok {
		return nil
	}
	out := make([]Role, 0, len(m.m.RoleIDs))
	for _, id := range m.m.RoleIDs {
		if r, ok := w.roleByIDLocked(id); ok {
			out = append(out, cloneRole(r))
		}
	}
	return out
}

// MemberPermissionKeys returns the keys of every permission the member holds
// in the org: their roles' permissions and their direct ones, sorted and
// without duplicates.
func (w *World) MemberPermissionKeys(orgCode, userID string) []string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	m, ok := w.members[orgCode][userID]
	if !ok {
		return nil
	}
	set := map[string]struct{}{}
	for _, rid := range m.m.RoleIDs {
		if r, ok := w.roleByIDLocked(rid); ok {
			for _, pid := range r.PermissionIDs {
				if p, ok := w.permissionByIDLocked(pid); ok {
					set[p.Key] = struct{}{}
				}
			}
		}
	}
	for _, pid := range m.m.PermissionIDs {
		if p, ok := w.permissionByIDLocked(pid); ok {
			set[p.Key] = struct{}{}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// AddMember puts the user in the org with the given role keys (the
// business's default roles when roleKeys is empty) and emits user.updated.
func (w *World) AddMember(orgCode, userID string, roleKeys []string, source string) error {
	return w.AddMemberWithPermissions(orgCode, userID, roleKeys, nil, source)
}

// AddMemberWithPermissions is AddMember with direct permissions too.
func (w *World) AddMemberWithPermissions(orgCode, userID string, roleKeys, permissionKeys []string, source string) error {
	w.mu.Lock()
	if err := w.checkMemberLocked(orgCode, userID); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("emulator: add member: %w", err)
	}
	if _, ok := w.members[orgCode][userID]; ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: add member: %w", ErrAlreadyMember)
	}
	roleIDs, permIDs, err := w.resolveKeysLocked(roleKeys, permissionKeys)
	if err != nil {
		w.mu.Unlock()
		return fmt.Errorf("emulator: add member: %w", err)
	}
	if len(roleKeys) == 0 {
		roleIDs = w.defaultRoleIDsLocked()
	}
	w.addMemberLocked(orgCode, userID, roleIDs, permIDs)
	ev := w.event("user.updated", source, w.userPayloadLocked(userID))
	w.mu.Unlock()
	w.emit([]Event{ev})
	return nil
}

func (w *World) checkMemberLocked(orgCode, userID string) error {
	if _, ok := w.orgs[orgCode]; !ok {
		return notFound("organization", orgCode)
	}
	if _, ok := w.users[userID]; !ok {
		return notFound("user", userID)
	}
	return nil
}

func (w *World) resolveKeysLocked(roleKeys, permissionKeys []string) (roleIDs, permIDs []string, err error) {
	for _, k := range roleKeys {
		r, ok := w.roleByKeyLocked(k)
		if !ok {
			return nil, nil, notFound("role", k)
		}
		if !slices.Contains(roleIDs, r.ID) {
			roleIDs = append(roleIDs, r.ID)
		}
	}
	for _, k := range permissionKeys {
		p, ok := w.permissionByKeyLocked(k)
		if !ok {
			return nil, nil, notFound("permission", k)
		}
		if !slices.Contains(permIDs, p.ID) {
			permIDs = append(permIDs, p.ID)
		}
	}
	return roleIDs, permIDs, nil
}

func (w *World) addMemberLocked(orgCode, userID string, roleIDs, permIDs []string) {
	if w.members[orgCode] == nil {
		w.members[orgCode] = map[string]*memberEntry{}
	}
	w.members[orgCode][userID] = &memberEntry{
		m:   Membership{OrgCode: orgCode, UserID: userID, RoleIDs: roleIDs, PermissionIDs: permIDs, JoinedOn: w.now()},
		seq: w.nextSeq(),
	}
	if w.userOrgs[userID] == nil {
		w.userOrgs[userID] = map[string]struct{}{}
	}
	w.userOrgs[userID][orgCode] = struct{}{}
	w.claims[userID]++
}

// RemoveMember takes the user out of the org and emits user.updated.
func (w *World) RemoveMember(orgCode, userID string, source string) error {
	w.mu.Lock()
	if err := w.checkMemberLocked(orgCode, userID); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("emulator: remove member: %w", err)
	}
	if _, ok := w.members[orgCode][userID]; !ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: remove member: %w", ErrNotMember)
	}
	delete(w.members[orgCode], userID)
	delete(w.userOrgs[userID], orgCode)
	w.claims[userID]++
	ev := w.event("user.updated", source, w.userPayloadLocked(userID))
	w.mu.Unlock()
	w.emit([]Event{ev})
	return nil
}

// GrantMember adds roles and direct permissions (by key) to an existing
// member, keeping what they already have, and emits user.updated when
// anything changed.
func (w *World) GrantMember(orgCode, userID string, roleKeys, permissionKeys []string, source string) error {
	w.mu.Lock()
	if err := w.checkMemberLocked(orgCode, userID); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("emulator: grant member: %w", err)
	}
	m, ok := w.members[orgCode][userID]
	if !ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: grant member: %w", ErrNotMember)
	}
	roleIDs, permIDs, err := w.resolveKeysLocked(roleKeys, permissionKeys)
	if err != nil {
		w.mu.Unlock()
		return fmt.Errorf("emulator: grant member: %w", err)
	}
	changed := false
	for _, id := range roleIDs {
		if !slices.Contains(m.m.RoleIDs, id) {
			m.m.RoleIDs = append(m.m.RoleIDs, id)
			changed = true
		}
	}
	for _, id := range permIDs {
		if !slices.Contains(m.m.PermissionIDs, id) {
			m.m.PermissionIDs = append(m.m.PermissionIDs, id)
			changed = true
		}
	}
	var evs []Event
	if changed {
		w.claims[userID]++
		evs = append(evs, w.event("user.updated", source, w.userPayloadLocked(userID)))
	}
	w.mu.Unlock()
	w.emit(evs)
	return nil
}

// AddMemberRole gives an existing member the role with the given id. It
// fails with ErrAlreadyHasRole when they have it.
func (w *World) AddMemberRole(orgCode, userID, roleID string, source string) error {
	w.mu.Lock()
	if err := w.checkMemberLocked(orgCode, userID); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("emulator: add member role: %w", err)
	}
	m, ok := w.members[orgCode][userID]
	if !ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: add member role: %w", ErrNotMember)
	}
	if _, ok := w.roleByIDLocked(roleID); !ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: add member role: %w", notFound("role", roleID))
	}
	if slices.Contains(m.m.RoleIDs, roleID) {
		w.mu.Unlock()
		return fmt.Errorf("emulator: add member role: %w", ErrAlreadyHasRole)
	}
	m.m.RoleIDs = append(m.m.RoleIDs, roleID)
	w.claims[userID]++
	ev := w.event("user.updated", source, w.userPayloadLocked(userID))
	w.mu.Unlock()
	w.emit([]Event{ev})
	return nil
}

// RemoveMemberRole takes the role with the given id away from a member.
func (w *World) RemoveMemberRole(orgCode, userID, roleID string, source string) error {
	w.mu.Lock()
	if err := w.checkMemberLocked(orgCode, userID); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("emulator: remove member role: %w", err)
	}
	m, ok := w.members[orgCode][userID]
	if !ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: remove member role: %w", ErrNotMember)
	}
	if _, ok := w.roleByIDLocked(roleID); !ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: remove member role: %w", notFound("role", roleID))
	}
	i := slices.Index(m.m.RoleIDs, roleID)
	if i < 0 {
		w.mu.Unlock()
		return fmt.Errorf("emulator: remove member role: %w", ErrDoesNotHaveRole)
	}
	m.m.RoleIDs = slices.Delete(m.m.RoleIDs, i, i+1)
	w.claims[userID]++
	ev := w.event("user.updated", source, w.userPayloadLocked(userID))
	w.mu.Unlock()
	w.emit([]Event{ev})
	return nil
}

// Member is a person seen as a member of one org.
type Member struct {
	User       User
	Membership Membership
	RoleKeys   []string
}

// MemberQuery filters and pages ListMembers.
type MemberQuery struct {
	Sort           string   // name_asc, name_desc, email_asc, email_desc; default join order
	RoleKeys       []string // members must have all of these
	PermissionKeys []string // members must hold all of these
	PageSize       int      // <= 0 means 10
	NextToken      string
}

// ListMembers returns one page of the org's members and the next page's token.
func (w *World) ListMembers(orgCode string, q MemberQuery) ([]Member, string, error) {
	offset, err := decodeCursor("m", q.NextToken)
	if err != nil {
		return nil, "", err
	}
	if q.PageSize <= 0 {
		q.PageSize = 10
	}
	w.mu.RLock()
	if _, ok := w.orgs[orgCode]; !ok {
		w.mu.RUnlock()
		return nil, "", fmt.Errorf("emulator: list members: %w", notFound("organization", orgCode))
	}
	entries := slices.Collect(maps.Values(w.members[orgCode]))
	slices.SortFunc(entries, func(a, b *memberEntry) int { return cmp.Compare(a.seq, b.seq) })
	var all []Member
	for _, e := range entries {
		mem := Member{User: cloneUser(w.users[e.m.UserID].u), Membership: cloneMembership(e.m)}
		for _, rid := range e.m.RoleIDs {
			if r, ok := w.roleByIDLocked(rid); ok {
				mem.RoleKeys = append(mem.RoleKeys, r.Key)
			}
		}
		all = append(all, mem)
	}
	w.mu.RUnlock()
	if len(q.PermissionKeys) > 0 {
		all = slices.DeleteFunc(all, func(m Member) bool {
			have := w.MemberPermissionKeys(orgCode, m.User.ID)
			for _, k := range q.PermissionKeys {
				if !slices.Contains(have, k) {
					return true
				}
			}
			return false
		})
	}
	if len(q.RoleKeys) > 0 {
		all = slices.DeleteFunc(all, func(m Member) bool {
			for _, k := range q.RoleKeys {
				if !slices.Contains(m.RoleKeys, k) {
					return true
				}
			}
			return false
		})
	}
	name := func(m Member) string { return strings.ToLower(m.User.FullName()) }
	switch q.Sort {
	case "name_asc":
		slices.SortStableFunc(all, func(a, b Member) int { return cmp.Compare(name(a), name(b)) })
	case "name_desc":
		slices.SortStableFunc(all, func(a, b Member) int { return cmp.Compare(name(b), name(a)) })
	case "email_asc":
		slices.SortStableFunc(all, func(a, b Member) int { return cmp.Compare(emailKey(a.User.Email), emailKey(b.User.Email)) })
	case "email_desc":
		slices.SortStableFunc(all, func(a, b Member) int { return cmp.Compare(emailKey(b.User.Email), emailKey(a.User.Email)) })
	}
	return pageOf(all, offset, q.PageSize, "m")
}

// AddMemberPermission gives an existing member a direct permission by id.
func (w *World) AddMemberPermission(orgCode, userID, permissionID string, source string) error {
	return w.changeMemberPermission(orgCode, userID, permissionID, true, source)
}

// RemoveMemberPermission takes a direct permission (by id) from a member.
func (w *World) RemoveMemberPermission(orgCode, userID, permissionID string, source string) error {
	return w.changeMemberPermission(orgCode, userID, permissionID, false, source)
}

func (w *World) changeMemberPermission(orgCode, userID, permissionID string, add bool, source string) error {
	w.mu.Lock()
	if err := w.checkMemberLocked(orgCode, userID); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("emulator: change member permission: %w", err)
	}
	m, ok := w.members[orgCode][userID]
	if !ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: change member permission: %w", ErrNotMember)
	}
	if _, ok := w.permissionByIDLocked(permissionID); !ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: change member permission: %w", notFound("permission", permissionID))
	}
	i := slices.Index(m.m.PermissionIDs, permissionID)
	switch {
	case add && i >= 0, !add && i < 0:
		w.mu.Unlock()
		return nil
	case add:
		m.m.PermissionIDs = append(m.m.PermissionIDs, permissionID)
	default:
		m.m.PermissionIDs = slices.Delete(m.m.PermissionIDs, i, i+1)
	}
	w.claims[userID]++
	ev := w.event("user.updated", source, w.userPayloadLocked(userID))
	w.mu.Unlock()
	w.emit([]Event{ev})
	return nil
}
