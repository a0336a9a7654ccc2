package emulator

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// webhookEventTypes are the event types a webhook may subscribe to
// (Kinde's docs and @kinde/webhooks).
func webhookEventTypes() []string {
	return []string{
		"organization.created", "organization.updated", "organization.deleted",
		"user.created", "user.updated", "user.deleted", "user.authenticated", "user.authentication_failed",
		"role.created", "role.updated", "role.deleted",
		"permission.created", "permission.updated", "permission.deleted",
		"subscriber.created", "access_request.created",
	}
}

func checkEventTypes(types []string) error {
	if len(types) == 0 {
		return badRequest("EVENT_TYPES_REQUIRED", "At least one event type is required.")
	}
	known := webhookEventTypes()
	for _, t := range types {
		if !slices.Contains(known, t) {
			return badRequest("INVALID_EVENT_TYPE", "Unknown event type: "+t+".")
		}
	}
	return nil
}

func (e *Emulator) apiGetWebhooks(w http.ResponseWriter, _ *http.Request, c *apiCall) error {
	type hook struct {
		ID          string   `json:"id"`
		Name        string   `json:"name"`
		Endpoint    string   `json:"endpoint"`
		Description string   `json:"description,omitempty"`
		EventTypes  []string `json:"event_types"`
		CreatedOn   string   `json:"created_on"`
	}
	hooks := []hook{}
	for _, h := range e.world.Webhooks() {
		hooks = append(hooks, hook{h.ID, h.Name, h.Endpoint, h.Description, emptyIfNil(h.EventTypes), kindeTime(h.CreatedOn)})
	}
	resp := struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		Webhooks []hook `json:"webhooks"`
	}{"OK", "Success", hooks}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiCreateWebhook(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	var req struct {
		Endpoint    *string  `json:"endpoint"`
		EventTypes  []string `json:"event_types"`
		Name        *string  `json:"name"`
		Description *string  `json:"description"`
	}
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	endpoint := strings.TrimSpace(deref(req.Endpoint))
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return badRequest("INVALID_ENDPOINT", "The webhook endpoint must be an absolute http(s) URL.")
	}
	if strings.TrimSpace(deref(req.Name)) == "" {
		return badRequest("NAME_REQUIRED", "The webhook name is required.")
	}
	if err := checkEventTypes(req.EventTypes); err != nil {
		return err
	}
	h, err := e.world.CreateWebhook(Webhook{Name: *req.Name, Endpoint: endpoint, EventTypes: req.EventTypes, Description: deref(req.Description)})
	if err != nil {
		return err
	}
	type created struct {
		ID       string `json:"id"`
		Endpoint string `json:"endpoint"`
	}
	resp := struct {
		Code    string  `json:"code"`
		Message string  `json:"message"`
		Webhook created `json:"webhook"`
	}{"OK", "Success", created{h.ID, h.Endpoint}}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiUpdateWebhook(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	var req struct {
		EventTypes  []string `json:"event_types"`
		Name        *string  `json:"name"`
		Description *string  `json:"description"`
	}
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if req.EventTypes != nil {
		if err := checkEventTypes(req.EventTypes); err != nil {
			return err
		}
	}
	if req.Name != nil && strings.TrimSpace(*req.Name) == "" {
		return badRequest("NAME_REQUIRED", "The webhook name cannot be empty.")
	}
	h, err := e.world.UpdateWebhook(r.PathValue("webhook_id"), WebhookPatch{Name: req.Name, Description: req.Description, EventTypes: req.EventTypes})
	if err != nil {
		return err
	}
	type updated struct {
		ID string `json:"id"`
	}
	resp := struct {
		Message string  `json:"message"`
		Code    string  `json:"code"`
		Webhook updated `json:"webhook"`
	}{"Success", "OK", updated{h.ID}}
	return e.ok(w, c, http.StatusOK, resp)
}

func (e *Emulator) apiDeleteWebhook(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	if err := e.world.DeleteWebhook(r.PathValue("webhook_id")); err != nil {
		return err
	}
	resp := struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{"OK", "Success"}
	return e.ok(w, c, http.StatusOK, resp)
}
