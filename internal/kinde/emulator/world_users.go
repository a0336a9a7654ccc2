package emulator

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// UserByID returns the user with the given id.
func (w *World) UserByID(id string) (User, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	e, ok := w.users[id]
	if !ok {
		return User{}, false
	}
	return cloneUser(e.u), true
}

// UserByEmail returns the user with the given email, ignoring case.
func (w *World) UserByEmail(email string) (User, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	id, ok := w.byEmail[emailKey(email)]
	if !ok {
		return User{}, false
	}
	return cloneUser(w.users[id].u), true
}

// UserCount returns how many people the business has.
func (w *World) UserCount() int {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return len(w.users)
}

// People returns every user sorted by first name, last name, then email, as a
// sign-in page lists them.
func (w *World) People() []User {
	w.mu.RLock()
	out := make([]User, 0, len(w.userOrder))
	for _, e := range w.userOrder {
		out = append(out, cloneUser(e.u))
	}
	w.mu.RUnlock()
	slices.SortFunc(out, func(a, b User) int {
		return cmp.Or(
			cmp.Compare(strings.ToLower(a.FirstName), strings.ToLower(b.FirstName)),
			cmp.Compare(strings.ToLower(a.LastName), strings.ToLower(b.LastName)),
			cmp.Compare(emailKey(a.Email), emailKey(b.Email)),
		)
	})
	return out
}

// CreateUser adds a person. An empty ID is generated; CreatedOn is set from
// the clock. With a non-empty orgCode the person also joins that org with the
// business's default roles. It fails with ErrEmailInUse when the email is
// taken, and with a *NotFoundError for an unknown org.
func (w *World) CreateUser(u User, orgCode string, source string) (User, error) {
	w.mu.Lock()
	if u.Email != "" {
		if _, taken := w.byEmail[emailKey(u.Email)]; taken {
			w.mu.Unlock()
			return User{}, fmt.Errorf("emulator: create user: %w", ErrEmailInUse)
		}
	}
	if orgCode != "" {
		if _, ok := w.orgs[orgCode]; !ok {
			w.mu.Unlock()
			return User{}, fmt.Errorf("emulator: create user: %w", notFound("organization", orgCode))
		}
	}
	if u.ID == "" {
		u.ID = newUserID()
	} else if _, dup := w.users[u.ID]; dup {
		w.mu.Unlock()
		return User{}, fmt.Errorf("emulator: create user: id %q exists: %w", u.ID, ErrInvalid)
	}
	u.CreatedOn = w.now()
	w.insertUserLocked(u)
	if orgCode != "" {
		w.addMemberLocked(orgCode, u.ID, w.defaultRoleIDsLocked(), nil)
	}
	ev := w.event("user.created", source, w.userPayloadLocked(u.ID))
	out := cloneUser(w.users[u.ID].u)
	w.mu.Unlock()
	w.emit([]Event{ev})
	return out, nil
}

func (w *World) insertUserLocked(u User) {
	e := &userEntry{u: u, seq: w.nextSeq()}
	w.users[u.ID] = e
	w.userOrder = append(w.userOrder, e)
	if u.Email != "" {
		w.byEmail[emailKey(u.Email)] = u.ID
	}
}

// UserPatch lists the fields of a user to change; nil means leave alone.
type UserPatch struct {
	FirstName                *string
	LastName                 *string
	Picture                  *string
	ProvidedID               *string
	IsSuspended              *bool
	IsPasswordResetRequested *bool
}

// UpdateUser changes a person's profile and emits user.updated.
func (w *World) UpdateUser(id string, p UserPatch, source string) (User, error) {
	w.mu.Lock()
	e, ok := w.users[id]
	if !ok {
		w.mu.Unlock()
		return User{}, fmt.Errorf("emulator: update user: %w", notFound("user", id))
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&e.u.FirstName, p.FirstName)
	set(&e.u.LastName, p.LastName)
	set(&e.u.Picture, p.Picture)
	set(&e.u.ProvidedID, p.ProvidedID)
	if p.IsSuspended != nil {
		e.u.IsSuspended = *p.IsSuspended
	}
	if p.IsPasswordResetRequested != nil {
		e.u.IsPasswordResetRequested = *p.IsPasswordResetRequested
	}
	ev := w.event("user.updated", source, w.userPayloadLocked(id))
	out := cloneUser(e.u)
	w.mu.Unlock()
	w.emit([]Event{ev})
	return out, nil
}

// DeleteUser removes a person, their memberships and pending invites, and
// emits user.deleted.
func (w *World) DeleteUser(id string, source string) error {
	w.mu.Lock()
	e, ok := w.users[id]
	if !ok {
		w.mu.Unlock()
		return fmt.Errorf("emulator: delete user: %w", notFound("user", id))
	}
	for code := range w.userOrgs[id] {
		delete(w.members[code], id)
	}
	delete(w.userOrgs, id)
	delete(w.users, id)
	if e.u.Email != "" {
		delete(w.byEmail, emailKey(e.u.Email))
	}
	i, found := slices.BinarySearchFunc(w.userOrder, e.seq, func(x *userEntry, s uint64) int { return cmp.Compare(x.seq, s) })
	if found {
		w.userOrder = slices.Delete(w.userOrder, i, i+1)
	}
	delete(w.claims, id)
	ev := w.event("user.deleted", source, map[string]any{"user": map[string]any{"id": id}})
	w.mu.Unlock()
	w.emit([]Event{ev})
	return nil
}

// RecordSignIn counts a sign-in for the user and, when orgCode is a
// membership, stamps the membership's last access.
func (w *World) RecordSignIn(userID, orgCode string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.users[userID]
	if !ok {
		return
	}
	now := w.now()
	e.u.TotalSignIns++
	e.u.LastSignedIn = &now
	if m, ok := w.members[orgCode][userID]; ok {
		t := now
		m.m.LastAccessedOn = &t
	}
}

// AddPeople adds n synthetic people (person-<n>@bulk.example) without
// emitting events, for load tests and benchmarks. It returns their ids.
func (w *World) AddPeople(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]string, 0, n)
	now := w.now()
	base := len(w.users)
	w.userOrder = slices.Grow(w.userOrder, n)
	for i := range n {
		num := base + i
		email := fmt.Sprintf("person-%07d@bulk.example", num)
		for {
			if _, taken := w.byEmail[email]; !taken {
				break
			}
			num += n
			email = fmt.Sprintf("person-%07d@bulk.example", num)
		}
		u := User{
			ID:        newUserID(),
			Email:     email,
			FirstName: "Person",
			LastName:  strconv.Itoa(num),
			CreatedOn: now,
		}
		w.insertUserLocked(u)
		ids = append(ids, u.ID)
	}
	return ids
}

// UserQuery filters and pages ListUsers.
type UserQuery struct {
	Emails    []string // any of these (case-insensitive)
	UserIDs   []string // any of these
	Username  string
	Phone     string
	PageSize  int    // <= 0 means 10
	NextToken string // from a previous page
	// HasOrganization, when non-nil, keeps only people with (or without) an org.
	HasOrganization *bool
}

// ErrBadToken is returned for a next_token the emulator did not issue.
var ErrBadToken = fmt.Errorf("emulator: invalid next_token: %w", ErrInvalid)

// ListUsers returns one page of people in creation order, and the token for
// the next page ("" on the last page).
func (w *World) ListUsers(q UserQuery) ([]User, string, error) {
	after, err := decodeCursor("u", q.NextToken)
	if err != nil {
		return nil, "", err
	}
	size := q.PageSize
	if size <= 0 {
		size = 10
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	keep := func(e *userEntry) bool {
		if len(q.UserIDs) > 0 && !slices.Contains(q.UserIDs, e.u.ID) {
			return false
		}
		if q.Username != "" && !strings.EqualFold(e.u.Username, q.Username) {
			return false
		}
		if q.Phone != "" && e.u.Phone != q.Phone {
			return false
		}
		if q.HasOrganization != nil && (len(w.userOrgs[e.u.ID]) > 0) != *q.HasOrganization {
			return false
		}
		return true
	}
	var candidates []*userEntry
	switch {
	case len(q.Emails) > 0:
		seen := map[string]bool{}
		for _, em := range q.Emails {
			if id, ok := w.byEmail[emailKey(em)]; ok && !seen[id] {
				seen[id] = true
				candidates = append(candidates, w.users[id])
			}
		}
		slices.SortFunc(candidates, func(a, b *userEntry) int { return cmp.Compare(a.seq, b.seq) })
	case len(q.UserIDs) > 0:
		for _, id := range q.UserIDs {
			if e, ok := w.users[id]; ok && !slices.Contains(candidates, e) {
				candidates = append(candidates, e)
			}
		}
		slices.SortFunc(candidates, func(a, b *userEntry) int { return cmp.Compare(a.seq, b.seq) })
	default:
		candidates = w.userOrder
	}
	start, _ := slices.BinarySearchFunc(candidates, after+1, func(x *userEntry, s uint64) int { return cmp.Compare(x.seq, s) })
	var out []User
	var last uint64
	next := ""
	for _, e := range candidates[start:] {
		if !keep(e) {
			continue
		}
		if len(out) == size {
			next = encodeCursor("u", last)
			break
		}
		out = append(out, cloneUser(e.u))
		last = e.seq
	}
	return out, next, nil
}

// SearchUsers returns people whose email, first or last name contains query
// (case-insensitive); "*" or "" matches everyone. Results are in creation
// order, at most limit of them.
func (w *World) SearchUsers(query string, limit int) []User {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "*" {
		q = ""
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	var out []User
	if id, ok := w.byEmail[q]; ok && q != "" {
		return []User{cloneUser(w.users[id].u)}
	}
	for _, e := range w.userOrder {
		if limit > 0 && len(out) >= limit {
			break
		}
		if q == "" || strings.Contains(strings.ToLower(e.u.Email), q) ||
			strings.Contains(strings.ToLower(e.u.FullName()), q) ||
			strings.Contains(strings.ToLower(e.u.Username), q) {
			out = append(out, cloneUser(e.u))
		}
	}
	return out
}

// userPayloadLocked shapes data.user for user.created/user.updated webhooks.
func (w *World) userPayloadLocked(id string) map[string]any {
	e := w.users[id]
	orgs := []any{}
	codes := slices.Sorted(maps.Keys(w.userOrgs[id]))
	for _, code := range codes {
		m := w.members[code][id].m
		var roles, perms any
		if len(m.RoleIDs) > 0 {
			rs := []any{}
			for _, rid := range m.RoleIDs {
				if r, ok := w.roleByIDLocked(rid); ok {
					rs = append(rs, map[string]any{"id": r.ID, "key": r.Key})
				}
			}
			roles = rs
		}
		if len(m.PermissionIDs) > 0 {
			ps := []any{}
			for _, pid := range m.PermissionIDs {
				if p, ok := w.permissionByIDLocked(pid); ok {
					ps = append(ps, map[string]any{"id": p.ID, "key": p.Key})
				}
			}
			perms = ps
		}
		orgs = append(orgs, map[string]any{"code": code, "roles": roles, "permissions": perms})
	}
	var phone any
	if e.u.Phone != "" {
		phone = e.u.Phone
	}
	return map[string]any{"user": map[string]any{
		"id":                          e.u.ID,
		"email":                       e.u.Email,
		"first_name":                  e.u.FirstName,
		"last_name":                   e.u.LastName,
		"phone":                       phone,
		"username":                    e.u.Username,
		"is_suspended":                e.u.IsSuspended,
		"is_password_reset_requested": e.u.IsPasswordResetRequested,
		"organizations":               orgs,
	}}
}

func encodeCursor(kind string, seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatUint(seq, 10)))
}

func decodeCursor(kind, tok string) (uint64, error) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, ErrBadToken
	}
	k, v, ok := strings.Cut(string(b), ":")
	if !ok || k != kind {
		return 0, ErrBadToken
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, ErrBadToken
	}
	return n, nil
}
