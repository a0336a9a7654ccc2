package emulator

// Media types the pinned spec declares for Management API responses. The
// spec is not uniform: most responses are "application/json", a few are
// "application/json; charset=utf-8", and some (often 403/429) have no body.
const (
	mtJSON     = "application/json"
	mtJSONUTF8 = "application/json; charset=utf-8"
	mtNone     = ""
)

// operation is one emulated Management API operation, as the pinned spec
// (management-api.yaml, kinde-oss/management-api-js @ b3c91b37) describes it.
type operation struct {
	ID     string // the spec's operationId (its casing is Kinde's)
	Method string
	Path   string // ServeMux pattern path; {params} as in the spec
	// Scope is the M2M scope the operation needs: the spec's x-scope or, where
	// that is absent, the <code>scope</code> in the operation's description.
	Scope string
	// media maps each documented status to its response media type; mtNone
	// means the spec documents no body for that status.
	media map[int]string
}

// pattern is the operation's ServeMux pattern.
func (o operation) pattern() string { return o.Method + " " + o.Path }

// mediaType returns the Content-Type to send with status and whether a body
// is documented. Undocumented statuses (for example 401, which the spec
// leaves out) get JSON.
func (o operation) mediaType(status int) (string, bool) {
	mt, ok := o.media[status]
	if !ok {
		return mtJSON, true
	}
	return mt, mt != mtNone
}

// operations lists every emulated Management API operation. A test checks
// each entry against the pinned spec.
func operations() []operation {
	return []operation{
		{ID: "getUsers", Method: "GET", Path: "/api/v1/users", Scope: "read:users", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "searchUsers", Method: "GET", Path: "/api/v1/search/users", Scope: "read:users", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "getUserData", Method: "GET", Path: "/api/v1/user", Scope: "read:users", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "createUser", Method: "POST", Path: "/api/v1/user", Scope: "create:users", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "updateUser", Method: "PATCH", Path: "/api/v1/user", Scope: "update:users", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "deleteUser", Method: "DELETE", Path: "/api/v1/user", Scope: "delete:users", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "refreshUserClaims", Method: "POST", Path: "/api/v1/users/{user_id}/refresh_claims", Scope: "update:user_refresh_claims", media: map[int]string{200: mtJSONUTF8, 400: mtJSON, 403: mtJSONUTF8, 429: mtNone}},
		{ID: "createOrganization", Method: "POST", Path: "/api/v1/organization", Scope: "create:organizations", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "getOrganizations", Method: "GET", Path: "/api/v1/organizations", Scope: "read:organizations", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "getOrganization", Method: "GET", Path: "/api/v1/organization", Scope: "read:organizations", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "updateOrganization", Method: "PATCH", Path: "/api/v1/organization/{org_code}", Scope: "update:organizations", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "deleteOrganization", Method: "DELETE", Path: "/api/v1/organization/{org_code}", Scope: "delete:organizations", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 404: mtJSON, 429: mtJSON}},
		{ID: "GetOrganizationUsers", Method: "GET", Path: "/api/v1/organizations/{org_code}/users", Scope: "read:organization_users", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "AddOrganizationUsers", Method: "POST", Path: "/api/v1/organizations/{org_code}/users", Scope: "create:organization_users", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "UpdateOrganizationUsers", Method: "PATCH", Path: "/api/v1/organizations/{org_code}/users", Scope: "update:organization_users", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "RemoveOrganizationUser", Method: "DELETE", Path: "/api/v1/organizations/{org_code}/users/{user_id}", Scope: "delete:organization_users", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtNone, 429: mtNone}},
		{ID: "GetOrganizationUserRoles", Method: "GET", Path: "/api/v1/organizations/{org_code}/users/{user_id}/roles", Scope: "read:organization_user_roles", media: map[int]string{200: mtJSON, 403: mtNone, 429: mtNone}},
		{ID: "CreateOrganizationUserRole", Method: "POST", Path: "/api/v1/organizations/{org_code}/users/{user_id}/roles", Scope: "create:organization_user_roles", media: map[int]string{200: mtJSON, 403: mtNone, 429: mtNone}},
		{ID: "DeleteOrganizationUserRole", Method: "DELETE", Path: "/api/v1/organizations/{org_code}/users/{user_id}/roles/{role_id}", Scope: "delete:organization_user_roles", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtNone, 429: mtNone}},
		{ID: "GetOrganizationUserPermissions", Method: "GET", Path: "/api/v1/organizations/{org_code}/users/{user_id}/permissions", Scope: "read:organization_user_permissions", media: map[int]string{200: mtJSON, 403: mtNone, 429: mtNone}},
		{ID: "CreateOrganizationUserPermission", Method: "POST", Path: "/api/v1/organizations/{org_code}/users/{user_id}/permissions", Scope: "create:organization_user_permissions", media: map[int]string{200: mtJSON, 403: mtNone, 429: mtNone}},
		{ID: "DeleteOrganizationUserPermission", Method: "DELETE", Path: "/api/v1/organizations/{org_code}/users/{user_id}/permissions/{permission_id}", Scope: "delete:organization_user_permissions", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtNone, 429: mtNone}},
		{ID: "getOrganizationInvites", Method: "GET", Path: "/api/v1/organization/{org_code}/invites", Scope: "read:organization_invites", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "createOrganizationInvite", Method: "POST", Path: "/api/v1/organization/{org_code}/invites", Scope: "create:organization_invites", media: map[int]string{201: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "getOrganizationInvite", Method: "GET", Path: "/api/v1/organization/{org_code}/invites/{invite_code}", Scope: "read:organization_invites", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 404: mtJSON, 429: mtJSON}},
		{ID: "deleteOrganizationInvite", Method: "DELETE", Path: "/api/v1/organization/{org_code}/invites/{invite_code}", Scope: "delete:organization_invites", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 404: mtJSON, 429: mtJSON}},
		{ID: "GetRoles", Method: "GET", Path: "/api/v1/roles", Scope: "read:roles", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "CreateRole", Method: "POST", Path: "/api/v1/roles", Scope: "create:roles", media: map[int]string{201: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "GetRole", Method: "GET", Path: "/api/v1/roles/{role_id}", Scope: "read:roles", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtJSON}},
		{ID: "GetRolePermissions", Method: "GET", Path: "/api/v1/roles/{role_id}/permissions", Scope: "read:role_permissions", media: map[int]string{200: mtJSON, 400: mtJSON, 403: mtNone, 429: mtNone}},
		{ID: "GetPermissions", Method: "GET", Path: "/api/v1/permissions", Scope: "read:permissions", media: map[int]string{200: mtJSON, 403: mtJSON, 429: mtNone}},
		{ID: "CreatePermission", Method: "POST", Path: "/api/v1/permissions", Scope: "create:permissions", media: map[int]string{201: mtJSON, 400: mtJSON, 403: mtJSON, 429: mtNone}},
		{ID: "GetWebHooks", Method: "GET", Path: "/api/v1/webhooks", Scope: "read:webhooks", media: map[int]string{200: mtJSONUTF8, 400: mtJSONUTF8, 403: mtJSONUTF8, 429: mtNone}},
		{ID: "CreateWebHook", Method: "POST", Path: "/api/v1/webhooks", Scope: "create:webhooks", media: map[int]string{200: mtJSONUTF8, 400: mtJSONUTF8, 403: mtJSONUTF8, 429: mtNone}},
		{ID: "UpdateWebHook", Method: "PATCH", Path: "/api/v1/webhooks/{webhook_id}", Scope: "update:webhooks", media: map[int]string{200: mtJSONUTF8, 400: mtJSONUTF8, 403: mtJSONUTF8, 429: mtNone}},
		{ID: "DeleteWebHook", Method: "DELETE", Path: "/api/v1/webhooks/{webhook_id}", Scope: "delete:webhooks", media: map[int]string{200: mtJSONUTF8, 400: mtJSONUTF8, 403: mtJSONUTF8, 429: mtNone}},
	}
}
