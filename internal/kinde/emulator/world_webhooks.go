package emulator

import (
	"fmt"
	"slices"
	"strings"
)

// Webhooks returns every registered webhook.
func (w *World) Webhooks() []Webhook {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]Webhook, len(w.webhooks))
	for i, h := range w.webhooks {
		out[i] = cloneWebhook(h)
	}
	return out
}

// CreateWebhook registers a webhook (ID generated, CreatedOn from the clock).
// Endpoints are unique.
func (w *World) CreateWebhook(h Webhook) (Webhook, error) {
	if strings.TrimSpace(h.Endpoint) == "" || strings.TrimSpace(h.Name) == "" || len(h.EventTypes) == 0 {
		return Webhook{}, fmt.Errorf("emulator: create webhook: name, endpoint and event types are required: %w", ErrInvalid)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range w.webhooks {
		if x.Endpoint == h.Endpoint {
			return Webhook{}, fmt.Errorf("emulator: create webhook: endpoint %q: %w", h.Endpoint, ErrDuplicateKey)
		}
	}
	h.ID = "webhook_" + randomHex(16)
	h.CreatedOn = w.now()
	h = cloneWebhook(h)
	w.webhooks = append(w.webhooks, h)
	return cloneWebhook(h), nil
}

// WebhookPatch lists the fields of a webhook to change; nil means leave alone.
type WebhookPatch struct {
	Name        *string
	Description *string
	EventTypes  []string // nil means leave alone
}

// UpdateWebhook changes a webhook.
func (w *World) UpdateWebhook(id string, p WebhookPatch) (Webhook, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := slices.IndexFunc(w.webhooks, func(h Webhook) bool { return h.ID == id })
	if i < 0 {
		return Webhook{}, fmt.Errorf("emulator: update webhook: %w", notFound("webhook", id))
	}
	h := &w.webhooks[i]
	if p.Name != nil {
		h.Name = *p.Name
	}
	if p.Description != nil {
		h.Description = *p.Description
	}
	if p.EventTypes != nil {
		h.EventTypes = slices.Clone(p.EventTypes)
	}
	return cloneWebhook(*h), nil
}

// DeleteWebhook removes a webhook.
func (w *World) DeleteWebhook(id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := slices.IndexFunc(w.webhooks, func(h Webhook) bool { return h.ID == id })
	if i < 0 {
		return fmt.Errorf("emulator: delete webhook: %w", notFound("webhook", id))
	}
	w.webhooks = slices.Delete(w.webhooks, i, i+1)
	return nil
}
