package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// mountControlPlane registers the emulator-only routes under /_emulator/.
// They answer loopback clients only.
func (e *Emulator) mountControlPlane(mux *http.ServeMux) {
	routes := map[string]func(http.ResponseWriter, *http.Request) error{
		"POST /_emulator/reset":       e.ctlReset,
		"POST /_emulator/seed":        e.ctlSeed,
		"GET /_emulator/state":        e.ctlGetState,
		"PUT /_emulator/state":        e.ctlPutState,
		"GET /_emulator/apps":         e.ctlApps,
		"GET /_emulator/faults":       e.ctlGetFaults,
		"POST /_emulator/faults":      e.ctlPostFaults,
		"DELETE /_emulator/faults":    e.ctlDeleteFaults,
		"GET /_emulator/ratelimit":    e.ctlGetRateLimit,
		"PUT /_emulator/ratelimit":    e.ctlPutRateLimit,
		"GET /_emulator/requests":     e.ctlGetRequests,
		"DELETE /_emulator/requests":  e.ctlDeleteRequests,
		"GET /_emulator/clock":        e.ctlGetClock,
		"POST /_emulator/clock":       e.ctlPostClock,
		"POST /_emulator/keys/rotate": e.ctlRotateKeys,

		"GET /_emulator/webhooks/deliveries":           e.ctlWebhookDeliveries,
		"GET /_emulator/webhooks/hold":                 e.ctlGetWebhookHold,
		"PUT /_emulator/webhooks/hold":                 e.ctlPutWebhookHold,
		"GET /_emulator/webhooks/held":                 e.ctlHeldWebhooks,
		"POST /_emulator/webhooks/held/release":        e.ctlReleaseWebhooks,
		"POST /_emulator/webhooks/held/{id}/release":   e.ctlReleaseWebhook,
		"POST /_emulator/webhooks/held/{id}/duplicate": e.ctlDuplicateWebhook,
		"DELETE /_emulator/webhooks/held/{id}":         e.ctlDropWebhook,
	}
	for pattern, h := range routes {
		mux.Handle(pattern, e.control(h))
	}
	mux.Handle("/_emulator/", e.control(func(http.ResponseWriter, *http.Request) error {
		return &controlError{http.StatusNotFound, "no such control-plane route"}
	}))
}

// controlError is a control-plane failure with its status.
type controlError struct {
	status  int
	message string
}

func (c *controlError) Error() string { return "emulator: control: " + c.message }

// control wraps a control-plane handler with the loopback check and error
// rendering ({"error": "..."}).
func (e *Emulator) control(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := errNotLoopback
		if isLoopback(r.RemoteAddr) {
			err = h(w, r)
		}
		if err == nil {
			return
		}
		status := http.StatusBadRequest
		var ce *controlError
		switch {
		case errors.As(err, &ce):
			status = ce.status
		case errors.Is(err, errNotLoopback):
			status = http.StatusForbidden
		case errors.Is(err, ErrInvalid), errors.Is(err, ErrNotFound), errors.Is(err, ErrEmailInUse):
			status = http.StatusBadRequest
		default:
			status = http.StatusInternalServerError
			e.logger.Error("emulator: control plane", "path", r.URL.Path, "err", err)
		}
		writeControlJSON(w, status, map[string]string{"error": err.Error()})
	})
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":"encode failed"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// readControlJSON decodes a control-plane body strictly.
func readControlJSON(r *http.Request, dst any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return &controlError{http.StatusBadRequest, "cannot read body"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return &controlError{http.StatusBadRequest, "invalid JSON: " + err.Error()}
	}
	return nil
}

func (e *Emulator) ctlReset(w http.ResponseWriter, r *http.Request) error {
	if err := e.Reset(r.URL.Query().Get("keep") == "keys"); err != nil {
		return err
	}
	writeControlJSON(w, http.StatusOK, map[string]string{"status": "reset"})
	return nil
}

func (e *Emulator) ctlSeed(w http.ResponseWriter, r *http.Request) error {
	var s State
	if err := readControlJSON(r, &s); err != nil {
		return err
	}
	if err := e.LoadSeed(s); err != nil {
		return err
	}
	writeControlJSON(w, http.StatusOK, map[string]string{"status": "seeded"})
	return nil
}

func (e *Emulator) ctlGetState(w http.ResponseWriter, _ *http.Request) error {
	writeControlJSON(w, http.StatusOK, e.world.Snapshot())
	return nil
}

func (e *Emulator) ctlPutState(w http.ResponseWriter, r *http.Request) error {
	var s State
	if err := readControlJSON(r, &s); err != nil {
		return err
	}
	if len(s.Keys) == 0 {
		s.Keys = e.world.SigningKeys()
	}
	if err := e.world.Replace(s); err != nil {
		return err
	}
	writeControlJSON(w, http.StatusOK, map[string]string{"status": "imported"})
	return nil
}

func (e *Emulator) ctlApps(w http.ResponseWriter, _ *http.Request) error {
	writeControlJSON(w, http.StatusOK, map[string]any{
		"issuer":                 e.issuer,
		"management_audiences":   e.ManagementAudiences(),
		"apps":                   e.world.Apps(),
		"token_endpoint":         e.issuer + "/oauth2/token",
		"management_api_base":    e.issuer + "/api/v1",
		"control_plane_base_url": e.issuer + "/_emulator",
	})
	return nil
}

func (e *Emulator) ctlGetFaults(w http.ResponseWriter, _ *http.Request) error {
	writeControlJSON(w, http.StatusOK, map[string]any{"rules": emptyIfNil(e.faults.Rules())})
	return nil
}

// ctlPostFaults appends one rule (a JSON object) or replaces all rules (a
// JSON array).
func (e *Emulator) ctlPostFaults(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return &controlError{http.StatusBadRequest, "cannot read body"}
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var rules []FaultRule
		if err := json.Unmarshal(body, &rules); err != nil {
			return &controlError{http.StatusBadRequest, "invalid fault rules: " + err.Error()}
		}
		for _, rule := range rules {
			if err := rule.validate(); err != nil {
				return err
			}
		}
		writeControlJSON(w, http.StatusOK, map[string]any{"ids": e.faults.Replace(rules)})
		return nil
	}
	var rule FaultRule
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rule); err != nil {
		return &controlError{http.StatusBadRequest, "invalid fault rule: " + err.Error()}
	}
	if err := rule.validate(); err != nil {
		return err
	}
	writeControlJSON(w, http.StatusCreated, map[string]string{"id": e.faults.Add(rule)})
	return nil
}

// ctlDeleteFaults clears every rule, or only ?id=.
func (e *Emulator) ctlDeleteFaults(w http.ResponseWriter, r *http.Request) error {
	if id := r.URL.Query().Get("id"); id != "" {
		if !e.faults.Remove(id) {
			return &controlError{http.StatusNotFound, "no fault rule " + id}
		}
	} else {
		e.faults.Clear()
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type rateLimitBody struct {
	PerMinute int `json:"per_minute"`
}

func (e *Emulator) ctlGetRateLimit(w http.ResponseWriter, _ *http.Request) error {
	writeControlJSON(w, http.StatusOK, rateLimitBody{e.RateLimit()})
	return nil
}

func (e *Emulator) ctlPutRateLimit(w http.ResponseWriter, r *http.Request) error {
	var b rateLimitBody
	if err := readControlJSON(r, &b); err != nil {
		return err
	}
	if b.PerMinute < 0 {
		return &controlError{http.StatusBadRequest, "per_minute must be >= 0"}
	}
	e.SetRateLimit(b.PerMinute)
	writeControlJSON(w, http.StatusOK, b)
	return nil
}

func (e *Emulator) ctlGetRequests(w http.ResponseWriter, r *http.Request) error {
	op := r.URL.Query().Get("operation")
	out := []Request{}
	for _, req := range e.Requests() {
		if op == "" || req.Operation == op {
			out = append(out, req)
		}
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"requests": out, "count": len(out)})
	return nil
}

func (e *Emulator) ctlDeleteRequests(w http.ResponseWriter, _ *http.Request) error {
	e.ResetRequests()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (e *Emulator) ctlGetClock(w http.ResponseWriter, _ *http.Request) error {
	_, fake := e.clock.(*FakeClock)
	writeControlJSON(w, http.StatusOK, map[string]any{"now": e.clock.Now().UTC().Format(time.RFC3339Nano), "controllable": fake})
	return nil
}

// ctlPostClock moves a FakeClock: {"advance":"25h"} or {"set":"<RFC 3339>"}.
func (e *Emulator) ctlPostClock(w http.ResponseWriter, r *http.Request) error {
	fc, ok := e.clock.(*FakeClock)
	if !ok {
		return &controlError{http.StatusConflict, "the emulator runs on the system clock; start it with a FakeClock to move time"}
	}
	var b struct {
		Advance string `json:"advance"`
		Set     string `json:"set"`
	}
	if err := readControlJSON(r, &b); err != nil {
		return err
	}
	switch {
	case b.Advance != "":
		d, err := time.ParseDuration(b.Advance)
		if err != nil {
			return &controlError{http.StatusBadRequest, "advance: " + err.Error()}
		}
		fc.Advance(d)
	case b.Set != "":
		t, err := time.Parse(time.RFC3339Nano, b.Set)
		if err != nil {
			return &controlError{http.StatusBadRequest, "set: " + err.Error()}
		}
		fc.Set(t)
	default:
		return &controlError{http.StatusBadRequest, `give "advance" or "set"`}
	}
	return e.ctlGetClock(w, r)
}

func (e *Emulator) ctlRotateKeys(w http.ResponseWriter, _ *http.Request) error {
	if err := e.RotateKeys(); err != nil {
		return err
	}
	writeControlJSON(w, http.StatusOK, map[string]int{"keys": len(e.world.SigningKeys())})
	return nil
}
