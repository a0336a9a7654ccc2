package emulator

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
)

// apiRole is the roles schema.
type apiRole struct {
	ID            string  `json:"id"`
	Key           string  `json:"key"`
	Name          string  `json:"name"`
	Description   *string `json:"description"`
	IsDefaultRole bool    `json:"is_default_role"`
}

func (e *Emulator) apiGetRoles(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	size, err := pageSize(r)
	if err != nil {
		return err
	}
	sort, err := oneOf(r, "sort", "name_asc", "name_desc", "key_asc", "key_desc")
	if err != nil {
		return err
	}
	roles := e.world.Roles()
	by := func(f func(Role) string, desc bool) func(a, b Role) int {
		return func(a, b Role) int {
			if desc {
				a, b = b, a
			}
			return cmp.Compare(strings.ToLower(f(a)), strings.ToLower(f(b)))
		}
	}
	name, key := func(r Role) string { return r.Name }, func(r Role) string { return r.Key }
	switch sort {
	case "name_asc":
		slices.SortStableFunc(roles, by(name, false))
	case "name_desc":
		slices.SortStableFunc(roles, by(name, true))
	case "key_asc":
		slices.SortStableFunc(roles, by(key, false))
	case "key_desc":
		slices.SortStableFunc(roles, by(key, true))
	}
	offset, err := decodeCursor("r", r.URL.Query().Get("next_token"))
	if err != nil {
		return err
	}
	page, next, err := pageOf(roles, offset, size, "r")
	if err != nil {
		return err
	}
	items := make([]apiRole, 0, len(page))
	for _, rl := range page {
		items = append(items, apiRole{rl.ID, rl.Key, rl.Name, strOrNil(rl.Description), rl.IsDefaultRole})
	}
	resp := struct {
		Code      string    `json:"code"`
		Message   string    `json:"message"`
		Roles     []apiRole `json:"roles"`
		NextToken string    `json:"next_token,omitempty"`
	}{"OK", "Success", items, next}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiCreateRole(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	var req struct {
		Name                   *string `json:"name"`
		Description            *string `json:"description"`
		Key                    *string `json:"key"`
		IsDefaultRole          *bool   `json:"is_default_role"`
		AssignmentPermissionID *string `json:"assignment_permission_id"`
	}
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	if strings.TrimSpace(deref(req.Name)) == "" || strings.TrimSpace(deref(req.Key)) == "" {
		return badRequest("INVALID_ROLE", "Role name and key are required.")
	}
	rl := Role{Name: *req.Name, Key: *req.Key, Description: deref(req.Description)}
	if req.IsDefaultRole != nil {
		rl.IsDefaultRole = *req.IsDefaultRole
	}
	rl, err := e.world.CreateRole(rl, SourceAPI)
	if err != nil {
		return err
	}
	type id struct {
		ID string `json:"id"`
	}
	resp := struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Role    id     `json:"role"`
	}{"OK", "Success", id{rl.ID}}
	return e.ok(w, c, http.StatusCreated, resp)
}

func (e *Emulator) apiGetRole(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	rl, ok := e.world.RoleByID(r.PathValue("role_id"))
	if !ok {
		return notFound("role", r.PathValue("role_id"))
	}
	type role struct {
		ID            string `json:"id"`
		Key           string `json:"key"`
		Name          string `json:"name"`
		Description   string `json:"description"`
		IsDefaultRole bool   `json:"is_default_role"`
	}
	resp := struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Role    role   `json:"role"`
	}{"OK", "Success", role{rl.ID, rl.Key, rl.Name, rl.Description, rl.IsDefaultRole}}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiGetPermissions(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	return e.permissionsPage(w, r, c, "p", func() ([]Permission, error) { return e.world.Permissions(), nil })
}

// permissionsPage validates the paging and sort parameters, loads the
// permissions, and answers one page of them in Kinde's permissions envelope
// (the shape GetPermissions and GetRolePermissions share).
func (e *Emulator) permissionsPage(w http.ResponseWriter, r *http.Request, c *apiCall, cursor string, load func() ([]Permission, error)) error {
	size, err := pageSize(r)
	if err != nil {
		return err
	}
	sort, err := oneOf(r, "sort", "name_asc", "name_desc", "id_asc", "id_desc")
	if err != nil {
		return err
	}
	perms, err := load()
	if err != nil {
		return err
	}
	switch sort {
	case "name_asc":
		slices.SortStableFunc(perms, func(a, b Permission) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	case "name_desc":
		slices.SortStableFunc(perms, func(a, b Permission) int { return cmp.Compare(strings.ToLower(b.Name), strings.ToLower(a.Name)) })
	case "id_asc":
		slices.SortStableFunc(perms, func(a, b Permission) int { return cmp.Compare(a.ID, b.ID) })
	case "id_desc":
		slices.SortStableFunc(perms, func(a, b Permission) int { return cmp.Compare(b.ID, a.ID) })
	}
	offset, err := decodeCursor(cursor, r.URL.Query().Get("next_token"))
	if err != nil {
		return err
	}
	page, next, err := pageOf(perms, offset, size, cursor)
	if err != nil {
		return err
	}
	type perm struct {
		ID          string `json:"id"`
		Key         string `json:"key"`
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	items := make([]perm, 0, len(page))
	for _, p := range page {
		items = append(items, perm(p))
	}
	resp := struct {
		Code        string `json:"code"`
		Message     string `json:"message"`
		Permissions []perm `json:"permissions"`
		NextToken   string `json:"next_token,omitempty"`
	}{"OK", "Success", items, next}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiCreatePermission(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	var req struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Key         *string `json:"key"`
	}
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	if strings.TrimSpace(deref(req.Name)) == "" || strings.TrimSpace(deref(req.Key)) == "" {
		return badRequest("INVALID_PERMISSION", "Permission name and key are required.")
	}
	if _, err := e.world.CreatePermission(Permission{Name: *req.Name, Key: *req.Key, Description: deref(req.Description)}, SourceAPI); err != nil {
		return err
	}
	return e.ok(w, c, http.StatusCreated, success())
}

// apiGetRolePermissions lists the permissions a role grants, paged like
// GetPermissions.
func (e *Emulator) apiGetRolePermissions(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	return e.permissionsPage(w, r, c, "rp", func() ([]Permission, error) {
		rl, ok := e.world.RoleByID(r.PathValue("role_id"))
		if !ok {
			return nil, notFound("role", r.PathValue("role_id"))
		}
		perms := make([]Permission, 0, len(rl.PermissionIDs))
		for _, p := range e.world.Permissions() {
			if slices.Contains(rl.PermissionIDs, p.ID) {
				perms = append(perms, p)
			}
		}
		return perms, nil
	})
}
