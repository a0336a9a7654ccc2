package emulator

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// kindeTime formats a timestamp the way Kinde's Management API does
// (e.g. "2025-02-12T18:02:23.614638+00:00").
func kindeTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.999999-07:00")
}

func kindeTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := kindeTime(*t)
	return &s
}

type apiIdentity struct {
	Type     string `json:"type"`
	Identity string `json:"identity"`
}

func identitiesOf(u User) []apiIdentity {
	out := []apiIdentity{}
	if u.Email != "" {
		out = append(out, apiIdentity{Type: "email", Identity: u.Email})
	}
	if u.Phone != "" {
		out = append(out, apiIdentity{Type: "phone", Identity: u.Phone})
	}
	if u.Username != "" {
		out = append(out, apiIdentity{Type: "username", Identity: u.Username})
	}
	return out
}

// expandSet parses the comma-separated expand parameter against allowed
// values.
func expandSet(r *http.Request, allowed ...string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, v := range splitList(r.URL.Query().Get("expand")) {
		v = strings.ToLower(v)
		if !slices.Contains(allowed, v) {
			return nil, badRequest("INVALID_EXPAND", "Invalid value for expand: "+v+".")
		}
		out[v] = true
	}
	return out, nil
}

// apiUserListItem is an item of users_response.users.
type apiUserListItem struct {
	ID            string        `json:"id"`
	ProvidedID    string        `json:"provided_id,omitempty"`
	Email         string        `json:"email,omitempty"`
	Phone         string        `json:"phone,omitempty"`
	Username      string        `json:"username,omitempty"`
	LastName      string        `json:"last_name,omitempty"`
	FirstName     string        `json:"first_name,omitempty"`
	IsSuspended   bool          `json:"is_suspended"`
	Picture       string        `json:"picture,omitempty"`
	TotalSignIns  *int          `json:"total_sign_ins"`
	FailedSignIns *int          `json:"failed_sign_ins"`
	LastSignedIn  *string       `json:"last_signed_in"`
	CreatedOn     *string       `json:"created_on"`
	Organizations []string      `json:"organizations,omitzero"`
	Identities    []apiIdentity `json:"identities,omitzero"`
}

func (e *Emulator) apiUserItem(u User, expand map[string]bool) apiUserListItem {
	total, failed := u.TotalSignIns, u.FailedSignIns
	created := kindeTime(u.CreatedOn)
	it := apiUserListItem{
		ID: u.ID, ProvidedID: u.ProvidedID, Email: u.Email, Phone: u.Phone, Username: u.Username,
		LastName: u.LastName, FirstName: u.FirstName, IsSuspended: u.IsSuspended, Picture: u.Picture,
		TotalSignIns: &total, FailedSignIns: &failed, LastSignedIn: kindeTimePtr(u.LastSignedIn), CreatedOn: &created,
	}
	if expand["organizations"] {
		it.Organizations = emptyIfNil(e.world.OrgCodesOfUser(u.ID))
	}
	if expand["identities"] {
		it.Identities = identitiesOf(u)
	}
	return it
}

func (e *Emulator) apiGetUsers(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	size, err := pageSize(r)
	if err != nil {
		return err
	}
	expand, err := expandSet(r, "organizations", "identities", "billing")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	hasOrg, hasOrgSet, err := boolParam(r, "has_organization")
	if err != nil {
		return err
	}
	if v := q.Get("active_since"); v != "" {
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return badRequest("INVALID_PARAMETER", "active_since must be an ISO 8601 date.")
			}
		}
	}
	uq := UserQuery{
		Emails:    splitList(q.Get("email")),
		UserIDs:   splitList(q.Get("user_id")),
		Username:  q.Get("username"),
		Phone:     q.Get("phone"),
		PageSize:  size,
		NextToken: q.Get("next_token"),
	}
	if hasOrgSet {
		uq.HasOrganization = &hasOrg
	}
	users, next, err := e.world.ListUsers(uq)
	if err != nil {
		return err
	}
	items := make([]apiUserListItem, 0, len(users))
	for _, u := range users {
		items = append(items, e.apiUserItem(u, expand))
	}
	resp := struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Users     []apiUserListItem `json:"users"`
		NextToken string            `json:"next_token,omitempty"`
	}{"OK", "Success", items, next}
	return e.ok(w, c, http.StatusOK, resp)
}

type apiSearchResult struct {
	ID            string            `json:"id"`
	ProvidedID    *string           `json:"provided_id"`
	Email         *string           `json:"email"`
	Username      *string           `json:"username"`
	LastName      string            `json:"last_name"`
	FirstName     string            `json:"first_name"`
	IsSuspended   bool              `json:"is_suspended"`
	Picture       *string           `json:"picture"`
	TotalSignIns  *int              `json:"total_sign_ins"`
	FailedSignIns *int              `json:"failed_sign_ins"`
	LastSignedIn  *string           `json:"last_signed_in"`
	CreatedOn     *string           `json:"created_on"`
	Organizations []string          `json:"organizations,omitzero"`
	Identities    []apiIdentity     `json:"identities,omitzero"`
	Properties    map[string]string `json:"properties,omitempty"`
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (e *Emulator) apiSearchUsers(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	size, err := pageSize(r)
	if err != nil {
		return err
	}
	expand, err := expandSet(r, "organizations", "identities", "properties")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	after, before := q.Get("starting_after"), q.Get("ending_before")
	if after != "" && before != "" {
		return badRequest("TOO_MANY_PARAMETERS", "Only one of starting_after or ending_before may be specified")
	}
	all := e.world.SearchUsers(q.Get("query"), 0)
	switch {
	case after != "":
		i := slices.IndexFunc(all, func(u User) bool { return u.ID == after })
		all = all[i+1:] // i == -1 keeps everything, as an unknown cursor does
	case before != "":
		if i := slices.IndexFunc(all, func(u User) bool { return u.ID == before }); i >= 0 {
			all = all[:i]
		}
		if len(all) > size {
			all = all[len(all)-size:]
		}
	}
	if len(all) > size {
		all = all[:size]
	}
	results := make([]apiSearchResult, 0, len(all))
	for _, u := range all {
		total, failed := u.TotalSignIns, u.FailedSignIns
		created := kindeTime(u.CreatedOn)
		res := apiSearchResult{
			ID: u.ID, ProvidedID: strOrNil(u.ProvidedID), Email: strOrNil(u.Email), Username: strOrNil(u.Username),
			LastName: u.LastName, FirstName: u.FirstName, IsSuspended: u.IsSuspended, Picture: strOrNil(u.Picture),
			TotalSignIns: &total, FailedSignIns: &failed, LastSignedIn: kindeTimePtr(u.LastSignedIn), CreatedOn: &created,
		}
		if expand["organizations"] {
			res.Organizations = emptyIfNil(e.world.OrgCodesOfUser(u.ID))
		}
		if expand["identities"] {
			res.Identities = identitiesOf(u)
		}
		if expand["properties"] {
			res.Properties = map[string]string{}
		}
		results = append(results, res)
	}
	resp := struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Results []apiSearchResult `json:"results"`
	}{"OK", "Success", results}
	return e.ok(w, c, http.StatusOK, resp)
}

func requiredQuery(r *http.Request, name string) (string, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return "", badRequest("MISSING_PARAMETER", "The "+name+" parameter is required.")
	}
	return v, nil
}

func (e *Emulator) apiGetUserData(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	id, err := requiredQuery(r, "id")
	if err != nil {
		return err
	}
	expand, err := expandSet(r, "organizations", "identities", "billing")
	if err != nil {
		return err
	}
	u, ok := e.world.UserByID(id)
	if !ok {
		return notFound("user", id)
	}
	total, failed := u.TotalSignIns, u.FailedSignIns
	created := kindeTime(u.CreatedOn)
	resp := struct {
		ID             string        `json:"id"`
		ProvidedID     string        `json:"provided_id,omitempty"`
		PreferredEmail string        `json:"preferred_email,omitempty"`
		Phone          string        `json:"phone,omitempty"`
		Username       string        `json:"username,omitempty"`
		LastName       string        `json:"last_name,omitempty"`
		FirstName      string        `json:"first_name,omitempty"`
		IsSuspended    bool          `json:"is_suspended"`
		Picture        string        `json:"picture,omitempty"`
		TotalSignIns   *int          `json:"total_sign_ins"`
		FailedSignIns  *int          `json:"failed_sign_ins"`
		LastSignedIn   *string       `json:"last_signed_in"`
		CreatedOn      *string       `json:"created_on"`
		Organizations  []string      `json:"organizations,omitzero"`
		Identities     []apiIdentity `json:"identities,omitzero"`
	}{
		ID: u.ID, ProvidedID: u.ProvidedID, PreferredEmail: u.Email, Phone: u.Phone, Username: u.Username,
		LastName: u.LastName, FirstName: u.FirstName, IsSuspended: u.IsSuspended, Picture: u.Picture,
		TotalSignIns: &total, FailedSignIns: &failed, LastSignedIn: kindeTimePtr(u.LastSignedIn), CreatedOn: &created,
	}
	if expand["organizations"] {
		resp.Organizations = emptyIfNil(e.world.OrgCodesOfUser(u.ID))
	}
	if expand["identities"] {
		resp.Identities = identitiesOf(u)
	}
	return e.ok(w, c, http.StatusOK, resp)
}

// createUserRequest is the body of POST /api/v1/user.
type createUserRequest struct {
	Profile *struct {
		GivenName  *string `json:"given_name"`
		FamilyName *string `json:"family_name"`
		Picture    *string `json:"picture"`
	} `json:"profile"`
	OrganizationCode *string `json:"organization_code"`
	ProvidedID       *string `json:"provided_id"`
	Identities       []struct {
		Type       string `json:"type"`
		IsVerified *bool  `json:"is_verified"`
		Details    *struct {
			Email          *string `json:"email"`
			Phone          *string `json:"phone"`
			PhoneCountryID *string `json:"phone_country_id"`
			Username       *string `json:"username"`
		} `json:"details"`
	} `json:"identities"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// userFromCreateRequest validates a createUser body and turns it into a User.
func userFromCreateRequest(req createUserRequest) (User, []string, error) {
	var u User
	if req.Profile != nil {
		u.FirstName = deref(req.Profile.GivenName)
		u.LastName = deref(req.Profile.FamilyName)
		u.Picture = deref(req.Profile.Picture)
	}
	u.ProvidedID = deref(req.ProvidedID)
	var types []string
	for _, id := range req.Identities {
		if id.Details == nil {
			return User{}, nil, badRequest("INVALID_IDENTITY", "Identity details are required.")
		}
		switch id.Type {
		case "email":
			em := strings.TrimSpace(deref(id.Details.Email))
			if !plausibleEmail(em) {
				return User{}, nil, badRequest("INVALID_EMAIL", "Invalid email address.")
			}
			if u.Email != "" {
				return User{}, nil, badRequest("INVALID_IDENTITY", "Only one email identity is supported.")
			}
			u.Email = em
		case "phone":
			ph := strings.TrimSpace(deref(id.Details.Phone))
			if ph == "" {
				return User{}, nil, badRequest("INVALID_PHONE", "Invalid phone number.")
			}
			u.Phone = ph
		case "username":
			un := strings.TrimSpace(deref(id.Details.Username))
			if un == "" {
				return User{}, nil, badRequest("INVALID_USERNAME", "Invalid username.")
			}
			u.Username = un
		default:
			return User{}, nil, badRequest("INVALID_IDENTITY_TYPE", "Identity type must be email, phone or username.")
		}
		types = append(types, id.Type)
	}
	return u, types, nil
}

// plausibleEmail is a light check: something@something.something, no spaces.
func plausibleEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(s, " \t\r\n,;<>") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") && len(s) <= 254
}

func (e *Emulator) apiCreateUser(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	var req createUserRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	u, types, err := userFromCreateRequest(req)
	if err != nil {
		return err
	}
	u, err = e.world.CreateUser(u, deref(req.OrganizationCode), SourceAPI)
	if err != nil {
		return err
	}
	type identityResult struct {
		Type   string `json:"type"`
		Result struct {
			Created bool `json:"created"`
		} `json:"result"`
	}
	ids := make([]identityResult, 0, len(types))
	for _, t := range types {
		ir := identityResult{Type: t}
		ir.Result.Created = true
		ids = append(ids, ir)
	}
	resp := struct {
		ID         string           `json:"id"`
		Created    bool             `json:"created"`
		Identities []identityResult `json:"identities"`
	}{u.ID, true, ids}
	return e.ok(w, c, http.StatusOK, resp)
}

// updateUserRequest is the body of PATCH /api/v1/user.
type updateUserRequest struct {
	GivenName                *string `json:"given_name"`
	FamilyName               *string `json:"family_name"`
	Picture                  *string `json:"picture"`
	IsSuspended              *bool   `json:"is_suspended"`
	IsPasswordResetRequested *bool   `json:"is_password_reset_requested"`
	ProvidedID               *string `json:"provided_id"`
}

func (e *Emulator) apiUpdateUser(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	id, err := requiredQuery(r, "id")
	if err != nil {
		return err
	}
	var req updateUserRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	u, err := e.world.UpdateUser(id, UserPatch{
		FirstName: req.GivenName, LastName: req.FamilyName, Picture: req.Picture, ProvidedID: req.ProvidedID,
		IsSuspended: req.IsSuspended, IsPasswordResetRequested: req.IsPasswordResetRequested,
	}, SourceAPI)
	if err != nil {
		return err
	}
	resp := struct {
		ID                       string  `json:"id"`
		GivenName                string  `json:"given_name,omitempty"`
		FamilyName               string  `json:"family_name,omitempty"`
		Email                    string  `json:"email,omitempty"`
		IsSuspended              bool    `json:"is_suspended"`
		IsPasswordResetRequested bool    `json:"is_password_reset_requested"`
		Picture                  *string `json:"picture"`
	}{u.ID, u.FirstName, u.LastName, u.Email, u.IsSuspended, u.IsPasswordResetRequested, strOrNil(u.Picture)}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiDeleteUser(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	id, err := requiredQuery(r, "id")
	if err != nil {
		return err
	}
	if _, _, err := boolParam(r, "is_delete_profile"); err != nil {
		return err
	}
	if err := e.world.DeleteUser(id, SourceAPI); err != nil {
		return err
	}
	return e.ok(w, c, http.StatusOK, success())
}

func (e *Emulator) apiRefreshUserClaims(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	if err := e.world.RefreshClaims(r.PathValue("user_id")); err != nil {
		return err
	}
	return e.ok(w, c, http.StatusOK, success())
}

// emptyIfNil returns s, or an empty slice when s is nil, so JSON shows [].
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
