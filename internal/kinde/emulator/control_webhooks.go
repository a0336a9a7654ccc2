package emulator

import (
	"errors"
	"net/http"
)

// Control-plane routes for webhook delivery (see webhooks_hold.go). Each
// release answers once the endpoint has, with the Delivery it produced.

func (e *Emulator) ctlWebhookDeliveries(w http.ResponseWriter, _ *http.Request) error {
	ds := emptyIfNil(e.WebhookDeliveries())
	writeControlJSON(w, http.StatusOK, map[string]any{"deliveries": ds, "count": len(ds)})
	return nil
}

// webhookHoldBody is the body of GET and PUT /_emulator/webhooks/hold.
type webhookHoldBody struct {
	Hold bool           `json:"hold"`
	Held []HeldDelivery `json:"held"`
}

func (e *Emulator) ctlGetWebhookHold(w http.ResponseWriter, _ *http.Request) error {
	writeControlJSON(w, http.StatusOK, webhookHoldBody{Hold: e.HoldingWebhooks(), Held: emptyIfNil(e.HeldWebhooks())})
	return nil
}

// ctlPutWebhookHold turns hold mode on or off: {"hold": true}.
func (e *Emulator) ctlPutWebhookHold(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Hold *bool `json:"hold"`
	}
	if err := readControlJSON(r, &b); err != nil {
		return err
	}
	if b.Hold == nil {
		return &controlError{http.StatusBadRequest, `give "hold": true or false`}
	}
	e.HoldWebhooks(*b.Hold)
	return e.ctlGetWebhookHold(w, r)
}

func (e *Emulator) ctlHeldWebhooks(w http.ResponseWriter, _ *http.Request) error {
	held := emptyIfNil(e.HeldWebhooks())
	writeControlJSON(w, http.StatusOK, map[string]any{"held": held, "count": len(held)})
	return nil
}

// ctlReleaseWebhook answers 200 {"delivery": …} whenever an attempt was
// made, whatever the endpoint answered (status 0 and "error" when it did
// not answer).
func (e *Emulator) ctlReleaseWebhook(w http.ResponseWriter, r *http.Request) error {
	d, err := e.ReleaseWebhook(r.Context(), r.PathValue("id"))
	if d.Attempt == 0 && err != nil {
		return heldControlError(err)
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"delivery": d})
	return nil
}

func (e *Emulator) ctlReleaseWebhooks(w http.ResponseWriter, r *http.Request) error {
	ds, _ := e.ReleaseWebhooks(r.Context()) // each failure is in its Delivery
	ds = emptyIfNil(ds)
	writeControlJSON(w, http.StatusOK, map[string]any{"deliveries": ds, "count": len(ds)})
	return nil
}

// ctlDuplicateWebhook queues a copy; ?as=new gives it a new webhook-id.
func (e *Emulator) ctlDuplicateWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var (
		h   HeldDelivery
		err error
	)
	switch as := r.URL.Query().Get("as"); as {
	case "":
		h, err = e.DuplicateWebhook(id)
	case "new":
		h, err = e.DuplicateWebhookAsNew(id)
	default:
		return &controlError{http.StatusBadRequest, `as must be "new" or absent`}
	}
	if err != nil {
		return heldControlError(err)
	}
	writeControlJSON(w, http.StatusCreated, h)
	return nil
}

func (e *Emulator) ctlDropWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := e.DropWebhook(r.PathValue("id")); err != nil {
		return heldControlError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// heldControlError gives an unknown held delivery 404 and one that is no
// longer queued 409.
func heldControlError(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return &controlError{http.StatusNotFound, err.Error()}
	case errors.Is(err, ErrNotHeld):
		return &controlError{http.StatusConflict, err.Error()}
	case errors.Is(err, errClosed):
		return &controlError{http.StatusServiceUnavailable, err.Error()}
	}
	return err
}
