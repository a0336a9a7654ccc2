package web

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/clubhouse/clubhouse/internal/club"
)

// webhookPattern is where Kinde posts its webhooks.
const webhookPattern = "/webhooks/kinde"

// maxWebhookBytes bounds a webhook body; Kinde's events are a few KB.
const maxWebhookBytes = 256 << 10

// maxWebhookIDBytes bounds the webhook-id header.
const maxWebhookIDBytes = 200

// WebhookVerifier checks a webhook body (a JWT Kinde signed) and decodes its
// event. internal/kinde's *WebhookVerifier implements it. An error whose
// club.ErrorCode is EUNAVAILABLE means Kinde's keys could not be read (the
// delivery may be fine: Kinde should retry); any other error refuses the
// delivery.
type WebhookVerifier interface {
	Verify(ctx context.Context, token []byte) (club.IdentityEvent, error)
}

// WebhookInbox takes a verified delivery: it records its id and queues the
// job that applies the event, together. duplicate is true for an id it
// has seen (nothing is queued then). internal/jobs's *Jobs implements it.
type WebhookInbox interface {
	AcceptWebhook(ctx context.Context, deliveryID string, ev club.IdentityEvent) (duplicate bool, err error)
}

// ImportQueue queues a bulk member import to run as a background job.
// internal/jobs's *Jobs implements it.
type ImportQueue interface {
	EnqueueImport(ctx context.Context, importID int64) error
}

// handleKindeWebhook receives Kinde's webhooks. It answers as soon as the
// delivery is verified and queued (the event is applied by a job), so Kinde
// never waits on the directory. A delivery that fails verification is
// refused with a 4xx and nothing is stored; a delivery seen before gets a
// 200 and nothing is queued; a failure on the portal's side gets a 5xx, so
// Kinde retries.
func (s *Server) handleKindeWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/jwt" {
			webhookAnswer(w, http.StatusUnsupportedMediaType, "want Content-Type: application/jwt")
			return
		}
		id := r.Header.Get("webhook-id")
		if id == "" || len(id) > maxWebhookIDBytes {
			webhookAnswer(w, http.StatusBadRequest, "missing or oversized webhook-id header")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				webhookAnswer(w, http.StatusRequestEntityTooLarge, "body too large")
				return
			}
			webhookAnswer(w, http.StatusBadRequest, "could not read the body")
			return
		}
		ev, err := s.webhookVerifier.Verify(r.Context(), body)
		if err != nil {
			if club.ErrorCode(err) == club.EUNAVAILABLE {
				s.logger.ErrorContext(r.Context(), "web: webhook: Kinde's keys unavailable", "request_id", requestID(r), "err", err)
				webhookAnswer(w, http.StatusServiceUnavailable, "try again later")
				return
			}
			s.logger.InfoContext(r.Context(), "web: webhook refused", "request_id", requestID(r), "err", err)
			webhookAnswer(w, http.StatusBadRequest, "webhook refused")
			return
		}
		dup, err := s.webhooks.AcceptWebhook(r.Context(), id, ev)
		if err != nil {
			s.logger.ErrorContext(r.Context(), "web: webhook: queue", "request_id", requestID(r), "type", ev.Type, "err", err)
			webhookAnswer(w, http.StatusServiceUnavailable, "try again later")
			return
		}
		if dup {
			webhookAnswer(w, http.StatusOK, "duplicate")
			return
		}
		webhookAnswer(w, http.StatusOK, "queued")
	})
}

func webhookAnswer(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
