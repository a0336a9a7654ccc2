package kinde

import "slices"

// opID is a Management API operation, named by its operationId in Kinde's
// OpenAPI spec. Metrics and logs label calls with it.
type opID string

// The Management API operations the portal calls.
const (
	opGetUsers                   opID = "getUsers"
	opCreateUser                 opID = "createUser"
	opRefreshUserClaims          opID = "refreshUserClaims"
	opCreateOrganization         opID = "createOrganization"
	opGetOrganization            opID = "getOrganization"
	opUpdateOrganization         opID = "updateOrganization"
	opGetOrganizations           opID = "getOrganizations"
	opGetOrganizationUsers       opID = "GetOrganizationUsers"
	opAddOrganizationUsers       opID = "AddOrganizationUsers"
	opUpdateOrganizationUsers    opID = "UpdateOrganizationUsers"
	opRemoveOrganizationUser     opID = "RemoveOrganizationUser"
	opGetOrganizationUserRoles   opID = "GetOrganizationUserRoles"
	opDeleteOrganizationUserRole opID = "DeleteOrganizationUserRole"
	opGetRoles                   opID = "GetRoles"
	opGetRolePermissions         opID = "GetRolePermissions"
	opGetWebHooks                opID = "GetWebHooks"
	opCreateWebHook              opID = "CreateWebHook"
	opUpdateWebHook              opID = "UpdateWebHook"
)

// operation is what the client needs to know about one Management API
// operation: how to call it, and which scope the M2M application must hold.
// request and response are zero values of the JSON body types the client
// sends and reads (nil when there is no body), so a test can check their
// field names against the spec's schemas.
type operation struct {
	ID     opID
	Method string
	// Path is the spec's path template; {name} segments are filled in, escaped.
	Path  string
	Scope string
	// Query lists the query parameters the client may send.
	Query    []string
	request  any
	response any
}

// operations is the one table of every Management API call the portal
// makes. TestOperationsMatchSpec checks each entry (method, path,
// operationId, scope, query parameters, and the JSON field names of the
// body types) against Kinde's pinned spec.
func operations() []operation {
	return []operation{
		{opGetUsers, "GET", "/api/v1/users", "read:users", []string{"email", "user_id", "expand", "page_size", "next_token"}, nil, usersResponse{}},
		{opCreateUser, "POST", "/api/v1/user", "create:users", nil, createUserRequest{}, createUserResponse{}},
		{opRefreshUserClaims, "POST", "/api/v1/users/{user_id}/refresh_claims", "update:user_refresh_claims", nil, nil, successResponse{}},
		{opCreateOrganization, "POST", "/api/v1/organization", "create:organizations", nil, createOrganizationRequest{}, createOrganizationResponse{}},
		{opGetOrganization, "GET", "/api/v1/organization", "read:organizations", []string{"code"}, nil, getOrganizationResponse{}},
		{opUpdateOrganization, "PATCH", "/api/v1/organization/{org_code}", "update:organizations", nil, updateOrganizationRequest{}, successResponse{}},
		{opGetOrganizations, "GET", "/api/v1/organizations", "read:organizations", []string{"sort", "page_size", "next_token"}, nil, organizationsResponse{}},
		{opGetOrganizationUsers, "GET", "/api/v1/organizations/{org_code}/users", "read:organization_users", []string{"page_size", "next_token"}, nil, organizationUsersResponse{}},
		{opAddOrganizationUsers, "POST", "/api/v1/organizations/{org_code}/users", "create:organization_users", nil, organizationUsersRequest{}, addOrganizationUsersResponse{}},
		{opUpdateOrganizationUsers, "PATCH", "/api/v1/organizations/{org_code}/users", "update:organization_users", nil, organizationUsersRequest{}, updateOrganizationUsersResponse{}},
		{opRemoveOrganizationUser, "DELETE", "/api/v1/organizations/{org_code}/users/{user_id}", "delete:organization_users", nil, nil, successResponse{}},
		{opGetOrganizationUserRoles, "GET", "/api/v1/organizations/{org_code}/users/{user_id}/roles", "read:organization_user_roles", nil, nil, organizationUserRolesResponse{}},
		{opDeleteOrganizationUserRole, "DELETE", "/api/v1/organizations/{org_code}/users/{user_id}/roles/{role_id}", "delete:organization_user_roles", nil, nil, successResponse{}},
		{opGetRoles, "GET", "/api/v1/roles", "read:roles", []string{"page_size", "next_token"}, nil, rolesResponse{}},
		{opGetRolePermissions, "GET", "/api/v1/roles/{role_id}/permissions", "read:role_permissions", []string{"page_size", "next_token"}, nil, rolePermissionsResponse{}},
		{opGetWebHooks, "GET", "/api/v1/webhooks", "read:webhooks", nil, nil, webhooksResponse{}},
		{opCreateWebHook, "POST", "/api/v1/webhooks", "create:webhooks", nil, webhookRequest{}, createWebhookResponse{}},
		{opUpdateWebHook, "PATCH", "/api/v1/webhooks/{webhook_id}", "update:webhooks", nil, webhookUpdateRequest{}, updateWebhookResponse{}},
	}
}

// Scopes lists the Management API scopes the portal's M2M application needs
// in Kinde, sorted. The README and the emulator's seed can be checked
// against it.
func Scopes() []string {
	seen := map[string]bool{}
	var out []string
	for _, op := range operations() {
		if !seen[op.Scope] {
			seen[op.Scope] = true
			out = append(out, op.Scope)
		}
	}
	slices.Sort(out)
	return out
}
