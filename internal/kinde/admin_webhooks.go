package kinde

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// webhookName is the name the portal's webhook is registered under.
const webhookName = "Clubhouse portal"

// RegisterWebhook makes sure Kinde sends events to endpoint: it reuses a
// webhook already registered for that endpoint (updating its event types
// when they differ) or creates one, and returns the webhook's id.
func (a *Admin) RegisterWebhook(ctx context.Context, endpoint string, events []string) (string, error) {
	want := slices.Clone(events)
	slices.Sort(want)
	want = slices.Compact(want)
	var list webhooksResponse
	if err := a.call(ctx, opGetWebHooks, nil, nil, nil, &list); err != nil {
		return "", fmt.Errorf("kinde: register webhook: %w", err)
	}
	for _, w := range list.Webhooks {
		if w.Endpoint != endpoint {
			continue
		}
		have := slices.Clone(w.EventTypes)
		slices.Sort(have)
		if slices.Equal(slices.Compact(have), want) {
			return w.ID, nil
		}
		var resp updateWebhookResponse
		if err := a.call(ctx, opUpdateWebHook, []string{w.ID}, nil, webhookUpdateRequest{EventTypes: want}, &resp); err != nil {
			return "", fmt.Errorf("kinde: register webhook: update: %w", err)
		}
		return w.ID, nil
	}
	req := webhookRequest{Endpoint: endpoint, EventTypes: want, Name: webhookName,
		Description: "Keeps the portal's member directory in step with Kinde."}
	var resp createWebhookResponse
	if err := a.call(ctx, opCreateWebHook, nil, nil, req, &resp); err != nil {
		return "", fmt.Errorf("kinde: register webhook: create: %w", err)
	}
	if resp.Webhook.ID == "" {
		return "", errors.New("kinde: register webhook: Kinde returned no webhook id")
	}
	return resp.Webhook.ID, nil
}
