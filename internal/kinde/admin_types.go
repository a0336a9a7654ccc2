package kinde

// JSON bodies of the Management API calls the portal makes. Field names
// are Kinde's, exactly as in its OpenAPI spec (TestOperationsMatchSpec
// checks them); only the fields the portal uses are declared.

// The listings' nextToken methods let eachPage follow any of them.
func (r organizationsResponse) nextToken() string     { return r.NextToken }
func (r organizationUsersResponse) nextToken() string { return r.NextToken }
func (r rolesResponse) nextToken() string             { return r.NextToken }
func (r rolePermissionsResponse) nextToken() string   { return r.NextToken }

// successResponse is Kinde's success_response envelope.
type successResponse struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// usersResponse is the users_response of getUsers.
type usersResponse struct {
	Code      string    `json:"code"`
	Message   string    `json:"message"`
	Users     []apiUser `json:"users"`
	NextToken string    `json:"next_token"`
}

// apiUser is one user of a getUsers listing. Organizations (org codes) is
// there only with expand=organizations.
type apiUser struct {
	ID            string   `json:"id"`
	Email         string   `json:"email"`
	FirstName     string   `json:"first_name"`
	LastName      string   `json:"last_name"`
	Organizations []string `json:"organizations"`
}

// createUserRequest is the body of createUser.
type createUserRequest struct {
	Profile          createUserProfile    `json:"profile"`
	OrganizationCode string               `json:"organization_code,omitempty"`
	Identities       []createUserIdentity `json:"identities"`
}

// createUserProfile is createUser's "profile".
type createUserProfile struct {
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
}

// createUserIdentity is one of createUser's "identities".
type createUserIdentity struct {
	Type    string          `json:"type"`
	Details identityDetails `json:"details"`
}

// identityDetails is an identity's "details".
type identityDetails struct {
	Email string `json:"email"`
}

// createUserResponse is the create_user_response of createUser.
type createUserResponse struct {
	ID      string `json:"id"`
	Created bool   `json:"created"`
}

// createOrganizationRequest is the body of createOrganization.
type createOrganizationRequest struct {
	Name string `json:"name"`
}

// updateOrganizationRequest is the body of updateOrganization; the portal
// changes only the name.
type updateOrganizationRequest struct {
	Name string `json:"name"`
}

// createOrganizationResponse is the create_organization_response.
type createOrganizationResponse struct {
	Code         string              `json:"code"`
	Message      string              `json:"message"`
	Organization createdOrganization `json:"organization"`
}

// createdOrganization is create_organization_response's "organization".
type createdOrganization struct {
	Code string `json:"code"`
}

// getOrganizationResponse is the get_organization_response of getOrganization.
type getOrganizationResponse struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// organizationsResponse is the get_organizations_response of
// getOrganizations.
type organizationsResponse struct {
	Code          string         `json:"code"`
	Message       string         `json:"message"`
	Organizations []organization `json:"organizations"`
	NextToken     string         `json:"next_token"`
}

// organization is one organization_item_schema of a getOrganizations
// listing.
type organization struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// rolePermissionsResponse is the role_permissions_response of
// GetRolePermissions.
type rolePermissionsResponse struct {
	Code        string          `json:"code"`
	Message     string          `json:"message"`
	Permissions []apiPermission `json:"permissions"`
	NextToken   string          `json:"next_token"`
}

// apiPermission is one permission of a role.
type apiPermission struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// organizationUsersResponse is the get_organization_users_response.
type organizationUsersResponse struct {
	Code              string             `json:"code"`
	Message           string             `json:"message"`
	OrganizationUsers []organizationUser `json:"organization_users"`
	NextToken         string             `json:"next_token"`
}

// organizationUser is one member of an organization_users listing. Roles
// are role keys.
type organizationUser struct {
	ID        string   `json:"id"`
	Email     string   `json:"email"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	JoinedOn  string   `json:"joined_on"`
	Roles     []string `json:"roles"`
}

// organizationUsersRequest is the body of AddOrganizationUsers and
// UpdateOrganizationUsers.
type organizationUsersRequest struct {
	Users []organizationUserChange `json:"users"`
}

// organizationUserChange is one user of organizationUsersRequest. Roles are
// role keys; UpdateOrganizationUsers adds them to the member's roles.
type organizationUserChange struct {
	ID    string   `json:"id"`
	Roles []string `json:"roles,omitempty"`
}

// addOrganizationUsersResponse is the add_organization_users_response.
type addOrganizationUsersResponse struct {
	Code       string   `json:"code"`
	Message    string   `json:"message"`
	UsersAdded []string `json:"users_added"`
}

// updateOrganizationUsersResponse is the update_organization_users_response.
type updateOrganizationUsersResponse struct {
	Code         string   `json:"code"`
	Message      string   `json:"message"`
	UsersAdded   []string `json:"users_added"`
	UsersUpdated []string `json:"users_updated"`
	UsersRemoved []string `json:"users_removed"`
}

// organizationUserRolesResponse is the get_organizations_user_roles_response.
type organizationUserRolesResponse struct {
	Code      string    `json:"code"`
	Message   string    `json:"message"`
	Roles     []apiRole `json:"roles"`
	NextToken string    `json:"next_token"`
}

// rolesResponse is the get_roles_response of GetRoles.
type rolesResponse struct {
	Code      string    `json:"code"`
	Message   string    `json:"message"`
	Roles     []apiRole `json:"roles"`
	NextToken string    `json:"next_token"`
}

// apiRole is a role as GetRoles and GetOrganizationUserRoles list it.
type apiRole struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
}

// webhooksResponse is the get_webhooks_response of GetWebHooks.
type webhooksResponse struct {
	Code     string       `json:"code"`
	Message  string       `json:"message"`
	Webhooks []apiWebhook `json:"webhooks"`
}

// apiWebhook is one registered webhook.
type apiWebhook struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Endpoint   string   `json:"endpoint"`
	EventTypes []string `json:"event_types"`
}

// webhookRequest is the body of CreateWebHook.
type webhookRequest struct {
	Endpoint    string   `json:"endpoint"`
	EventTypes  []string `json:"event_types"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
}

// createWebhookResponse is the create_webhook_response.
type createWebhookResponse struct {
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Webhook webhookRef `json:"webhook"`
}

// webhookUpdateRequest is the body of UpdateWebHook.
type webhookUpdateRequest struct {
	EventTypes []string `json:"event_types"`
}

// updateWebhookResponse is the update_webhook_response.
type updateWebhookResponse struct {
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Webhook webhookRef `json:"webhook"`
}

// webhookRef identifies a webhook in create and update answers.
type webhookRef struct {
	ID string `json:"id"`
}
