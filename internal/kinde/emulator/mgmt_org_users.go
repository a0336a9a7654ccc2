package emulator

import (
	"net/http"
	"slices"
)

// maxBulkUsers is Kinde's documented cap on objects per bulk request.
const maxBulkUsers = 100

// apiOrgUser is organization_user.
type apiOrgUser struct {
	ID             string   `json:"id"`
	Email          *string  `json:"email"`
	FullName       string   `json:"full_name"`
	LastName       *string  `json:"last_name"`
	FirstName      *string  `json:"first_name"`
	Picture        *string  `json:"picture"`
	JoinedOn       string   `json:"joined_on"`
	LastAccessedOn *string  `json:"last_accessed_on"`
	IsSuspended    bool     `json:"is_suspended"`
	Roles          []string `json:"roles"`
}

func (e *Emulator) apiGetOrganizationUsers(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	size, err := pageSize(r)
	if err != nil {
		return err
	}
	sort, err := oneOf(r, "sort", "name_asc", "name_desc", "email_asc", "email_desc")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	members, next, err := e.world.ListMembers(r.PathValue("org_code"), MemberQuery{
		Sort:           sort,
		RoleKeys:       splitList(q.Get("roles")),
		PermissionKeys: splitList(q.Get("permissions")),
		PageSize:       size,
		NextToken:      q.Get("next_token"),
	})
	if err != nil {
		return err
	}
	items := make([]apiOrgUser, 0, len(members))
	for _, m := range members {
		items = append(items, apiOrgUser{
			ID: m.User.ID, Email: strOrNil(m.User.Email), FullName: m.User.FullName(),
			LastName: strOrNil(m.User.LastName), FirstName: strOrNil(m.User.FirstName), Picture: strOrNil(m.User.Picture),
			JoinedOn: kindeTime(m.Membership.JoinedOn), LastAccessedOn: kindeTimePtr(m.Membership.LastAccessedOn),
			IsSuspended: m.User.IsSuspended, Roles: emptyIfNil(m.RoleKeys),
		})
	}
	resp := struct {
		Code              string       `json:"code"`
		Message           string       `json:"message"`
		OrganizationUsers []apiOrgUser `json:"organization_users"`
		NextToken         string       `json:"next_token,omitempty"`
	}{"OK", "Success", items, next}
	return e.ok(w, c, http.StatusOK, resp)
}

// orgUsersRequest is the body of POST and PATCH
// /api/v1/organizations/{org_code}/users.
type orgUsersRequest struct {
	Users []struct {
		ID          string   `json:"id"`
		Operation   *string  `json:"operation"`
		Roles       []string `json:"roles"`
		Permissions []string `json:"permissions"`
	} `json:"users"`
}

// checkOrgUsers validates a bulk body before anything changes, so a bad
// entry leaves the org as it was.
func (e *Emulator) checkOrgUsers(orgCode string, req orgUsersRequest, allowOperation bool) error {
	if len(req.Users) > maxBulkUsers {
		return badRequest("TOO_MANY_USERS", "A maximum of 100 users can be processed per request.")
	}
	if _, ok := e.world.OrgByCode(orgCode); !ok {
		return notFound("organization", orgCode)
	}
	for _, u := range req.Users {
		if u.Operation != nil && (!allowOperation || *u.Operation != "delete") {
			return badRequest("INVALID_OPERATION", "operation must be \"delete\" when given.")
		}
		if _, ok := e.world.UserByID(u.ID); !ok {
			return notFound("user", u.ID)
		}
		for _, k := range u.Roles {
			if _, ok := e.world.RoleByKey(k); !ok {
				return notFound("role", k)
			}
		}
		for _, k := range u.Permissions {
			if _, ok := e.world.PermissionByKey(k); !ok {
				return notFound("permission", k)
			}
		}
	}
	return nil
}

// apiAddOrganizationUsers adds existing people to an org. ASSUMED: people
// who are already members are skipped and not listed in users_added (Kinde
// does not document this case).
func (e *Emulator) apiAddOrganizationUsers(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	code := r.PathValue("org_code")
	var req orgUsersRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	if err := e.checkOrgUsers(code, req, false); err != nil {
		return err
	}
	added := []string{}
	for _, u := range req.Users {
		if e.world.IsMember(code, u.ID) || slices.Contains(added, u.ID) {
			continue
		}
		if err := e.world.AddMemberWithPermissions(code, u.ID, u.Roles, u.Permissions, SourceAPI); err != nil {
			return err
		}
		added = append(added, u.ID)
	}
	resp := struct {
		Code       string   `json:"code"`
		Message    string   `json:"message"`
		UsersAdded []string `json:"users_added"`
	}{"OK", "Success", added}
	return e.ok(w, c, http.StatusOK, resp)
}

// apiUpdateOrganizationUsers adds, updates or removes members. Roles and
// permissions given for an existing member are added to what they have.
func (e *Emulator) apiUpdateOrganizationUsers(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	code := r.PathValue("org_code")
	var req orgUsersRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	if err := e.checkOrgUsers(code, req, true); err != nil {
		return err
	}
	added, updated, removed := []string{}, []string{}, []string{}
	for _, u := range req.Users {
		member := e.world.IsMember(code, u.ID)
		switch {
		case u.Operation != nil:
			if !member {
				continue
			}
			if err := e.world.RemoveMember(code, u.ID, SourceAPI); err != nil {
				return err
			}
			removed = append(removed, u.ID)
		case member:
			if err := e.world.GrantMember(code, u.ID, u.Roles, u.Permissions, SourceAPI); err != nil {
				return err
			}
			updated = append(updated, u.ID)
		default:
			if err := e.world.AddMemberWithPermissions(code, u.ID, u.Roles, u.Permissions, SourceAPI); err != nil {
				return err
			}
			added = append(added, u.ID)
		}
	}
	resp := struct {
		Message      string   `json:"message"`
		Code         string   `json:"code"`
		UsersAdded   []string `json:"users_added"`
		UsersUpdated []string `json:"users_updated"`
		UsersRemoved []string `json:"users_removed"`
	}{"Success", "OK", added, updated, removed}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiRemoveOrganizationUser(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	if err := e.world.RemoveMember(r.PathValue("org_code"), r.PathValue("user_id"), SourceAPI); err != nil {
		return err
	}
	return e.ok(w, c, http.StatusOK, success())
}

// requireMember reports the Kinde error for a path naming a non-member.
func (e *Emulator) requireMember(orgCode, userID string) error {
	if _, ok := e.world.OrgByCode(orgCode); !ok {
		return notFound("organization", orgCode)
	}
	if _, ok := e.world.UserByID(userID); !ok {
		return notFound("user", userID)
	}
	if !e.world.IsMember(orgCode, userID) {
		return ErrNotMember
	}
	return nil
}

func (e *Emulator) apiGetOrganizationUserRoles(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	code, uid := r.PathValue("org_code"), r.PathValue("user_id")
	if err := e.requireMember(code, uid); err != nil {
		return err
	}
	type role struct {
		ID   string `json:"id"`
		Key  string `json:"key"`
		Name string `json:"name"`
	}
	roles := []role{}
	for _, rl := range e.world.MemberRoles(code, uid) {
		roles = append(roles, role{rl.ID, rl.Key, rl.Name})
	}
	resp := struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Roles   []role `json:"roles"`
	}{"OK", "Success", roles}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiCreateOrganizationUserRole(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	var req struct {
		RoleID *string `json:"role_id"`
	}
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if deref(req.RoleID) == "" {
		return badRequest("ROLE_ID_REQUIRED", "role_id is required.")
	}
	if err := e.world.AddMemberRole(r.PathValue("org_code"), r.PathValue("user_id"), *req.RoleID, SourceAPI); err != nil {
		return err
	}
	return e.ok(w, c, http.StatusOK, success())
}

func (e *Emulator) apiDeleteOrganizationUserRole(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	if err := e.world.RemoveMemberRole(r.PathValue("org_code"), r.PathValue("user_id"), r.PathValue("role_id"), SourceAPI); err != nil {
		return err
	}
	return e.ok(w, c, http.StatusOK, success())
}

func (e *Emulator) apiGetOrganizationUserPermissions(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	code, uid := r.PathValue("org_code"), r.PathValue("user_id")
	expand, err := expandSet(r, "roles")
	if err != nil {
		return err
	}
	if err := e.requireMember(code, uid); err != nil {
		return err
	}
	m, _ := e.world.Membership(code, uid)
	roles := e.world.MemberRoles(code, uid)
	type roleRef struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	type perm struct {
		ID          string    `json:"id"`
		Key         string    `json:"key"`
		Name        string    `json:"name"`
		Description string    `json:"description"`
		Roles       []roleRef `json:"roles,omitempty"`
	}
	perms := []perm{}
	for _, p := range e.world.Permissions() {
		var via []roleRef
		for _, rl := range roles {
			if slices.Contains(rl.PermissionIDs, p.ID) {
				via = append(via, roleRef{rl.ID, rl.Key})
			}
		}
		if len(via) == 0 && !slices.Contains(m.PermissionIDs, p.ID) {
			continue
		}
		it := perm{ID: p.ID, Key: p.Key, Name: p.Name, Description: p.Description}
		if expand["roles"] {
			it.Roles = emptyIfNil(via)
		}
		perms = append(perms, it)
	}
	resp := struct {
		Code        string `json:"code"`
		Message     string `json:"message"`
		Permissions []perm `json:"permissions"`
	}{"OK", "Success", perms}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiCreateOrganizationUserPermission(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	var req struct {
		PermissionID *string `json:"permission_id"`
	}
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if deref(req.PermissionID) == "" {
		return badRequest("PERMISSION_ID_REQUIRED", "permission_id is required.")
	}
	if err := e.world.AddMemberPermission(r.PathValue("org_code"), r.PathValue("user_id"), *req.PermissionID, SourceAPI); err != nil {
		return err
	}
	return e.ok(w, c, http.StatusOK, success())
}

func (e *Emulator) apiDeleteOrganizationUserPermission(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	if err := e.world.RemoveMemberPermission(r.PathValue("org_code"), r.PathValue("user_id"), r.PathValue("permission_id"), SourceAPI); err != nil {
		return err
	}
	return e.ok(w, c, http.StatusOK, success())
}
