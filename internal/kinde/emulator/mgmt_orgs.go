package emulator

import (
	"net/http"
	"strings"
)

// createOrganizationRequest is the body of POST /api/v1/organization. Brand
// and billing settings are accepted and ignored.
type createOrganizationRequest struct {
	Name                    *string           `json:"name"`
	FeatureFlags            map[string]string `json:"feature_flags"`
	ExternalID              *string           `json:"external_id"`
	BackgroundColor         *string           `json:"background_color"`
	ButtonColor             *string           `json:"button_color"`
	ButtonTextColor         *string           `json:"button_text_color"`
	LinkColor               *string           `json:"link_color"`
	BackgroundColorDark     *string           `json:"background_color_dark"`
	ButtonColorDark         *string           `json:"button_color_dark"`
	ButtonTextColorDark     *string           `json:"button_text_color_dark"`
	LinkColorDark           *string           `json:"link_color_dark"`
	ThemeCode               *string           `json:"theme_code"`
	Handle                  *string           `json:"handle"`
	IsAllowRegistrations    *bool             `json:"is_allow_registrations"`
	IsAutoMembershipEnabled *bool             `json:"is_auto_membership_enabled"`
	SenderName              *string           `json:"sender_name"`
	SenderEmail             *string           `json:"sender_email"`
	IsCreateBillingCustomer *bool             `json:"is_create_billing_customer"`
	BillingEmail            *string           `json:"billing_email"`
	BillingPlanCode         *string           `json:"billing_plan_code"`
}

func (e *Emulator) apiCreateOrganization(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	var req createOrganizationRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	name := strings.TrimSpace(deref(req.Name))
	if name == "" {
		return badRequest("NAME_REQUIRED", "The organization name is required.")
	}
	o := Org{Name: name, ExternalID: deref(req.ExternalID), Handle: deref(req.Handle)}
	if req.IsAutoMembershipEnabled != nil {
		o.IsAutoMembershipEnabled = *req.IsAutoMembershipEnabled
	} else if req.IsAllowRegistrations != nil {
		o.IsAutoMembershipEnabled = *req.IsAllowRegistrations
	}
	o, err := e.world.CreateOrganization(o, SourceAPI)
	if err != nil {
		return err
	}
	type created struct {
		Code string `json:"code"`
	}
	resp := struct {
		Message      string  `json:"message"`
		Code         string  `json:"code"`
		Organization created `json:"organization"`
	}{"Success", "OK", created{o.Code}}
	return e.ok(w, c, http.StatusOK, resp)
}

// apiOrgItem is organization_item_schema.
type apiOrgItem struct {
	Code                    string  `json:"code"`
	Name                    string  `json:"name"`
	Handle                  *string `json:"handle"`
	IsDefault               bool    `json:"is_default"`
	ExternalID              *string `json:"external_id"`
	IsAutoMembershipEnabled bool    `json:"is_auto_membership_enabled"`
}

func (e *Emulator) apiGetOrganizations(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	size, err := pageSize(r)
	if err != nil {
		return err
	}
	sort, err := oneOf(r, "sort", "name_asc", "name_desc", "email_asc", "email_desc")
	if err != nil {
		return err
	}
	orgs, next, err := e.world.ListOrgs(sort, size, r.URL.Query().Get("next_token"))
	if err != nil {
		return err
	}
	items := make([]apiOrgItem, 0, len(orgs))
	for _, o := range orgs {
		items = append(items, apiOrgItem{o.Code, o.Name, strOrNil(o.Handle), o.IsDefault, strOrNil(o.ExternalID), o.IsAutoMembershipEnabled})
	}
	resp := struct {
		Code          string       `json:"code"`
		Message       string       `json:"message"`
		Organizations []apiOrgItem `json:"organizations"`
		NextToken     string       `json:"next_token,omitempty"`
	}{"OK", "Success", items, next}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiGetOrganization(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	code, err := requiredQuery(r, "code")
	if err != nil {
		return err
	}
	if _, err := expandSet(r, "billing"); err != nil {
		return err
	}
	o, ok := e.world.OrgByCode(code)
	if !ok {
		return notFound("organization", code)
	}
	resp := struct {
		Code                    string   `json:"code"`
		Name                    string   `json:"name"`
		Handle                  *string  `json:"handle"`
		IsDefault               bool     `json:"is_default"`
		ExternalID              *string  `json:"external_id"`
		IsAutoMembershipEnabled bool     `json:"is_auto_membership_enabled"`
		AllowedDomains          []string `json:"allowed_domains"`
		ThemeCode               string   `json:"theme_code"`
		ColorScheme             string   `json:"color_scheme"`
		CreatedOn               string   `json:"created_on"`
		IsAllowRegistrations    *bool    `json:"is_allow_registrations"`
		IsSuspended             bool     `json:"is_suspended"`
		SuspendedOn             *string  `json:"suspended_on"`
	}{
		Code: o.Code, Name: o.Name, Handle: strOrNil(o.Handle), IsDefault: o.IsDefault, ExternalID: strOrNil(o.ExternalID),
		IsAutoMembershipEnabled: o.IsAutoMembershipEnabled, AllowedDomains: []string{}, ThemeCode: "user_preference",
		ColorScheme: "light dark", CreatedOn: kindeTime(o.CreatedOn), IsAllowRegistrations: &o.IsAutoMembershipEnabled,
		IsSuspended: o.IsSuspended,
	}
	return e.ok(w, c, http.StatusOK, resp)
}

// updateOrganizationRequest is the body of PATCH
// /api/v1/organization/{org_code}. Brand and policy settings are accepted and
// ignored.
type updateOrganizationRequest struct {
	Name                    *string  `json:"name"`
	ExternalID              *string  `json:"external_id"`
	BackgroundColor         *string  `json:"background_color"`
	ButtonColor             *string  `json:"button_color"`
	ButtonTextColor         *string  `json:"button_text_color"`
	LinkColor               *string  `json:"link_color"`
	BackgroundColorDark     *string  `json:"background_color_dark"`
	ButtonColorDark         *string  `json:"button_color_dark"`
	ButtonTextColorDark     *string  `json:"button_text_color_dark"`
	LinkColorDark           *string  `json:"link_color_dark"`
	ThemeCode               *string  `json:"theme_code"`
	Handle                  *string  `json:"handle"`
	IsAllowRegistrations    *bool    `json:"is_allow_registrations"`
	IsAutoMembershipEnabled *bool    `json:"is_auto_membership_enabled"`
	IsAutoJoinDomainList    *bool    `json:"is_auto_join_domain_list"`
	AllowedDomains          []string `json:"allowed_domains"`
	IsEnableAdvancedOrgs    *bool    `json:"is_enable_advanced_orgs"`
	IsEnforceMFA            *bool    `json:"is_enforce_mfa"`
	SenderName              *string  `json:"sender_name"`
	SenderEmail             *string  `json:"sender_email"`
	IsSuspended             *bool    `json:"is_suspended"`
}

func (e *Emulator) apiUpdateOrganization(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	if _, err := oneOf(r, "expand", "billing"); err != nil {
		return err
	}
	var req updateOrganizationRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	if req.ThemeCode != nil {
		switch *req.ThemeCode {
		case "light", "dark", "user_preference":
		default:
			return badRequest("INVALID_THEME_CODE", "theme_code must be light, dark or user_preference.")
		}
	}
	p := OrgPatch{Name: req.Name, ExternalID: req.ExternalID, Handle: req.Handle, IsSuspended: req.IsSuspended}
	p.IsAutoMembershipEnabled = req.IsAutoMembershipEnabled
	if p.IsAutoMembershipEnabled == nil {
		p.IsAutoMembershipEnabled = req.IsAllowRegistrations
	}
	if _, err := e.world.UpdateOrganization(r.PathValue("org_code"), p, SourceAPI); err != nil {
		return err
	}
	return e.ok(w, c, http.StatusOK, success())
}

func (e *Emulator) apiDeleteOrganization(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	if err := e.world.DeleteOrganization(r.PathValue("org_code"), SourceAPI); err != nil {
		return err
	}
	return e.ok(w, c, http.StatusOK, success())
}
