package emulator

import (
	"fmt"
	"slices"
	"strings"
)

// CreateInvite invites someone to an org with some role keys. It fails with
// ErrAlreadyMember when the email belongs to a member and with
// ErrInvitePending when a pending invite exists for it.
func (w *World) CreateInvite(inv Invite) (Invite, error) {
	if strings.TrimSpace(inv.Email) == "" {
		return Invite{}, fmt.Errorf("emulator: create invite: email is required: %w", ErrInvalid)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.orgs[inv.OrgCode]; !ok {
		return Invite{}, fmt.Errorf("emulator: create invite: %w", notFound("organization", inv.OrgCode))
	}
	for _, k := range inv.RoleKeys {
		if _, ok := w.roleByKeyLocked(k); !ok {
			return Invite{}, fmt.Errorf("emulator: create invite: %w", notFound("role", k))
		}
	}
	if id, ok := w.byEmail[emailKey(inv.Email)]; ok {
		if _, member := w.members[inv.OrgCode][id]; member {
			return Invite{}, fmt.Errorf("emulator: create invite: %w", ErrAlreadyMember)
		}
	}
	for _, x := range w.invites {
		if x.OrgCode == inv.OrgCode && emailKey(x.Email) == emailKey(inv.Email) && !x.IsRevoked && x.AcceptedOn == nil {
			return Invite{}, fmt.Errorf("emulator: create invite: %w", ErrInvitePending)
		}
	}
	inv.ID = "inv_" + randomHex(16)
	inv.Code = inv.ID
	inv.CreatedOn = w.now()
	inv.IsRevoked = false
	inv.AcceptedOn = nil
	inv = cloneInvite(inv)
	w.invites = append(w.invites, inv)
	return cloneInvite(inv), nil
}

// Invites returns an org's invitations in creation order; revoked and
// accepted ones only when asked for.
func (w *World) Invites(orgCode string, includeRevoked, includeAccepted bool) ([]Invite, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if _, ok := w.orgs[orgCode]; !ok {
		return nil, fmt.Errorf("emulator: list invites: %w", notFound("organization", orgCode))
	}
	var out []Invite
	for _, x := range w.invites {
		if x.OrgCode != orgCode || (x.IsRevoked && !includeRevoked) || (x.AcceptedOn != nil && !includeAccepted) {
			continue
		}
		out = append(out, cloneInvite(x))
	}
	slices.SortStableFunc(out, func(a, b Invite) int { return a.CreatedOn.Compare(b.CreatedOn) })
	return out, nil
}

// Invite returns one invitation of an org by code.
func (w *World) Invite(orgCode, code string) (Invite, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, x := range w.invites {
		if x.OrgCode == orgCode && x.Code == code {
			return cloneInvite(x), nil
		}
	}
	return Invite{}, fmt.Errorf("emulator: get invite: %w", notFound("invite", code))
}

// RevokeInvite marks an invitation revoked.
func (w *World) RevokeInvite(orgCode, code string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.invites {
		x := &w.invites[i]
		if x.OrgCode == orgCode && x.Code == code && !x.IsRevoked {
			x.IsRevoked = true
			return nil
		}
	}
	return fmt.Errorf("emulator: revoke invite: %w", notFound("invite", code))
}

// AcceptInvite makes the invitee a member of the org with the invite's
// roles, creating the person when the email is new, and marks the invite
// accepted. It is what a sign-in with an invitation code would do.
func (w *World) AcceptInvite(code string, source string) (User, error) {
	w.mu.RLock()
	var inv Invite
	found := false
	for _, x := range w.invites {
		if x.Code == code && !x.IsRevoked && x.AcceptedOn == nil {
			inv, found = cloneInvite(x), true
		}
	}
	w.mu.RUnlock()
	if !found {
		return User{}, fmt.Errorf("emulator: accept invite: %w", notFound("invite", code))
	}
	u, ok := w.UserByEmail(inv.Email)
	if !ok {
		var err error
		u, err = w.CreateUser(User{Email: inv.Email, FirstName: inv.FirstName, LastName: inv.LastName}, "", source)
		if err != nil {
			return User{}, fmt.Errorf("emulator: accept invite: %w", err)
		}
	}
	if err := w.AddMember(inv.OrgCode, u.ID, inv.RoleKeys, source); err != nil {
		return User{}, fmt.Errorf("emulator: accept invite: %w", err)
	}
	w.mu.Lock()
	now := w.now()
	for i := range w.invites {
		if w.invites[i].Code == code {
			w.invites[i].AcceptedOn = &now
		}
	}
	w.mu.Unlock()
	return u, nil
}
