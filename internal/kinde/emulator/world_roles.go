package emulator

import (
	"fmt"
	"slices"
	"strings"
)

func (w *World) roleByIDLocked(id string) (Role, bool) {
	for _, r := range w.roles {
		if r.ID == id {
			return r, true
		}
	}
	return Role{}, false
}

func (w *World) roleByKeyLocked(key string) (Role, bool) {
	for _, r := range w.roles {
		if r.Key == key {
			return r, true
		}
	}
	return Role{}, false
}

func (w *World) permissionByIDLocked(id string) (Permission, bool) {
	for _, p := range w.permissions {
		if p.ID == id {
			return p, true
		}
	}
	return Permission{}, false
}

func (w *World) permissionByKeyLocked(key string) (Permission, bool) {
	for _, p := range w.permissions {
		if p.Key == key {
			return p, true
		}
	}
	return Permission{}, false
}

func (w *World) defaultRoleIDsLocked() []string {
	var ids []string
	for _, r := range w.roles {
		if r.IsDefaultRole {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// Roles returns every role in creation order.
func (w *World) Roles() []Role {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]Role, len(w.roles))
	for i, r := range w.roles {
		out[i] = cloneRole(r)
	}
	return out
}

// RoleByID returns the role with the given id.
func (w *World) RoleByID(id string) (Role, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	r, ok := w.roleByIDLocked(id)
	return cloneRole(r), ok
}

// RoleByKey returns the role with the given key.
func (w *World) RoleByKey(key string) (Role, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	r, ok := w.roleByKeyLocked(key)
	return cloneRole(r), ok
}

// Permissions returns every permission in creation order.
func (w *World) Permissions() []Permission {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return slices.Clone(w.permissions)
}

// PermissionByKey returns the permission with the given key.
func (w *World) PermissionByKey(key string) (Permission, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.permissionByKeyLocked(key)
}

// CreateRole adds a role (ID generated when empty) and emits role.created.
// Keys are unique.
func (w *World) CreateRole(r Role, source string) (Role, error) {
	if strings.TrimSpace(r.Key) == "" || strings.TrimSpace(r.Name) == "" {
		return Role{}, fmt.Errorf("emulator: create role: name and key are required: %w", ErrInvalid)
	}
	w.mu.Lock()
	if _, taken := w.roleByKeyLocked(r.Key); taken {
		w.mu.Unlock()
		return Role{}, fmt.Errorf("emulator: create role: key %q: %w", r.Key, ErrDuplicateKey)
	}
	for _, pid := range r.PermissionIDs {
		if _, ok := w.permissionByIDLocked(pid); !ok {
			w.mu.Unlock()
			return Role{}, fmt.Errorf("emulator: create role: %w", notFound("permission", pid))
		}
	}
	if r.ID == "" {
		r.ID = newUUID()
	}
	r = cloneRole(r)
	w.roles = append(w.roles, r)
	ev := w.event("role.created", source, map[string]any{"role": map[string]any{
		"description": r.Description, "id": r.ID, "is_default_role": r.IsDefaultRole, "key": r.Key, "name": r.Name,
	}})
	w.mu.Unlock()
	w.emit([]Event{ev})
	return cloneRole(r), nil
}

// CreatePermission adds a permission (ID generated when empty) and emits
// permission.created. Keys are unique.
func (w *World) CreatePermission(p Permission, source string) (Permission, error) {
	if strings.TrimSpace(p.Key) == "" || strings.TrimSpace(p.Name) == "" {
		return Permission{}, fmt.Errorf("emulator: create permission: name and key are required: %w", ErrInvalid)
	}
	w.mu.Lock()
	if _, taken := w.permissionByKeyLocked(p.Key); taken {
		w.mu.Unlock()
		return Permission{}, fmt.Errorf("emulator: create permission: key %q: %w", p.Key, ErrDuplicateKey)
	}
	if p.ID == "" {
		p.ID = newUUID()
	}
	w.permissions = append(w.permissions, p)
	ev := w.event("permission.created", source, map[string]any{"permission": map[string]any{
		"description": p.Description, "id": p.ID, "key": p.Key, "name": p.Name,
	}})
	w.mu.Unlock()
	w.emit([]Event{ev})
	return p, nil
}
