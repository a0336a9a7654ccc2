package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultRule makes matching requests misbehave. A rule matches on Operation
// (a Management API operationId such as "getUsers", or an OP endpoint name:
// "oauth2.auth", "oauth2.token", "jwks", "userinfo", "discovery", "logout",
// "oauth2.revoke", "oauth2.introspect"), and/or on Method and PathPrefix.
// Empty criteria match anything.
//
// When it fires, it first waits Latency (cut short if the client gives up),
// then: with Drop, aborts the connection; with Status, answers with Status,
// Headers and Body (a Kinde error body for the endpoint kind when Body is
// empty); otherwise lets the request through, so a rule with only Latency
// slows requests down.
//
// Firing: the first After matching calls pass; then the rule fires on each
// matching call, Times times in all (0 = no limit), each time with
// Probability (0 or 1 = always) drawn from an RNG seeded with Seed. Rules are
// checked in order; the first that fires wins, and one that matches but does
// not fire lets later rules have a go.
type FaultRule struct {
	ID          string            `json:"id,omitempty"`
	Operation   string            `json:"operation,omitempty"`
	Method      string            `json:"method,omitempty"`
	PathPrefix  string            `json:"path_prefix,omitempty"`
	Status      int               `json:"status,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Body        json.RawMessage   `json:"body,omitempty"`
	Drop        bool              `json:"drop,omitempty"`
	Latency     time.Duration     `json:"-"`
	Times       int               `json:"times,omitempty"`
	After       int               `json:"after,omitempty"`
	Probability float64           `json:"probability,omitempty"`
	Seed        uint64            `json:"seed,omitempty"`
	// Fired counts how often the rule fired (read-only; reported by Rules).
	Fired int `json:"fired"`
}

type faultRuleJSON struct {
	faultRuleAlias
	LatencyMS int64 `json:"latency_ms,omitempty"`
}

type faultRuleAlias FaultRule

// MarshalJSON writes Latency as latency_ms.
func (f FaultRule) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultRuleJSON{faultRuleAlias: faultRuleAlias(f), LatencyMS: f.Latency.Milliseconds()})
}

// UnmarshalJSON reads Latency from latency_ms and rejects unknown fields,
// so a misspelt key in a control-plane call is an error, not a no-op.
func (f *FaultRule) UnmarshalJSON(b []byte) error {
	var v faultRuleJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("emulator: fault rule: %w", err)
	}
	*f = FaultRule(v.faultRuleAlias)
	f.Latency = time.Duration(v.LatencyMS) * time.Millisecond
	return nil
}

func (f FaultRule) validate() error {
	switch {
	case f.Status != 0 && (f.Status < 100 || f.Status > 599):
		return fmt.Errorf("emulator: fault rule: status %d out of range: %w", f.Status, ErrInvalid)
	case f.Probability < 0 || f.Probability > 1:
		return fmt.Errorf("emulator: fault rule: probability %v not in [0,1]: %w", f.Probability, ErrInvalid)
	case f.Times < 0 || f.After < 0 || f.Latency < 0:
		return fmt.Errorf("emulator: fault rule: negative times, after or latency: %w", ErrInvalid)
	case f.Status == 0 && !f.Drop && f.Latency == 0:
		return fmt.Errorf("emulator: fault rule: needs status, drop or latency_ms: %w", ErrInvalid)
	case len(f.Body) > 0 && !json.Valid(f.Body):
		return fmt.Errorf("emulator: fault rule: body is not JSON: %w", ErrInvalid)
	}
	return nil
}

type faultState struct {
	rule    FaultRule
	matched int
	rng     *rand.Rand
}

// Faults holds the fault-injection rules. It is safe for concurrent use.
type Faults struct {
	mu    sync.Mutex
	next  int
	rules []*faultState
}

func newFaults() *Faults { return &Faults{} }

// Add appends a rule and returns its id (generated when empty). Go callers
// are trusted: a rule with neither Status, Drop nor Latency only counts
// matches (see Rules), and the control plane checks JSON input first.
func (f *Faults) Add(r FaultRule) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(r)
}

func (f *Faults) addLocked(r FaultRule) string {
	f.next++
	if r.ID == "" {
		r.ID = "fault_" + strconv.Itoa(f.next)
	}
	r.Fired = 0
	r.Headers = cloneHeaders(r.Headers)
	r.Body = slices.Clone(r.Body)
	f.rules = append(f.rules, &faultState{rule: r, rng: rand.New(rand.NewPCG(r.Seed, r.Seed^0x9e3779b97f4a7c15))})
	return r.ID
}

// Replace swaps all rules for rs and returns their ids.
func (f *Faults) Replace(rs []FaultRule) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, f.addLocked(r))
	}
	return ids
}

// Remove deletes the rule with the given id and reports whether it existed.
func (f *Faults) Remove(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.rules)
	f.rules = slices.DeleteFunc(f.rules, func(s *faultState) bool { return s.rule.ID == id })
	return len(f.rules) != n
}

// Clear deletes every rule.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Rules returns the current rules with their Fired counts.
func (f *Faults) Rules() []FaultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FaultRule, 0, len(f.rules))
	for _, s := range f.rules {
		r := s.rule
		r.Headers = cloneHeaders(r.Headers)
		r.Body = slices.Clone(r.Body)
		out = append(out, r)
	}
	return out
}

// pick returns the first rule that fires for the request, if any.
func (f *Faults) pick(operation string, r *http.Request) (FaultRule, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.rules {
		rule := &s.rule
		if rule.Operation != "" && rule.Operation != operation {
			continue
		}
		if rule.Method != "" && !strings.EqualFold(rule.Method, r.Method) {
			continue
		}
		if rule.PathPrefix != "" && !strings.HasPrefix(r.URL.Path, strings.TrimSuffix(rule.PathPrefix, "*")) {
			continue
		}
		s.matched++
		if s.matched <= rule.After {
			continue
		}
		if rule.Times > 0 && rule.Fired >= rule.Times {
			continue
		}
		if rule.Probability > 0 && rule.Probability < 1 && s.rng.Float64() >= rule.Probability {
			continue
		}
		rule.Fired++
		out := *rule
		out.Headers = cloneHeaders(out.Headers)
		return out, true
	}
	return FaultRule{}, false
}

func cloneHeaders(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v
	}
	return out
}

// withFaults applies the first fault rule that fires for the request.
func (e *Emulator) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := infoFrom(r.Context())
		if ri == nil || ri.operation == "control" {
			next.ServeHTTP(w, r)
			return
		}
		rule, ok := e.faults.pick(ri.operation, r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		ri.mu.Lock()
		ri.fault = rule.ID
		ri.mu.Unlock()
		if rule.Latency > 0 {
			t := time.NewTimer(rule.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if rule.Drop {
			panic(http.ErrAbortHandler)
		}
		if rule.Status == 0 {
			next.ServeHTTP(w, r)
			return
		}
		e.writeFault(w, ri.operation, rule)
	})
}

// writeFault answers for a rule: the rule's body or a default body in the
// endpoint's dialect (Kinde's error_response for the Management API, RFC 6749
// for OAuth endpoints).
func (e *Emulator) writeFault(w http.ResponseWriter, operation string, rule FaultRule) {
	for k, v := range rule.Headers {
		w.Header().Set(k, v)
	}
	body := []byte(rule.Body)
	if len(body) == 0 {
		if isOPOperation(operation) {
			body, _ = json.Marshal(map[string]string{
				"error":             oauthErrorCode(rule.Status),
				"error_description": "Fault injected by the Kinde emulator.",
			})
		} else {
			code, msg := apiErrorFor(rule.Status)
			body, _ = json.Marshal(apiErrorBody(code, msg))
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", mtJSONUTF8)
	}
	w.WriteHeader(rule.Status)
	_, _ = w.Write(body)
}

func oauthErrorCode(status int) string {
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	case status == http.StatusUnauthorized:
		return "invalid_client"
	case status == http.StatusForbidden:
		return "access_denied"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request"
	}
}

// apiErrorFor is the default Kinde error code and message for a status.
func apiErrorFor(status int) (code, message string) {
	switch status {
	case http.StatusBadRequest:
		return "BAD_REQUEST", "Invalid request."
	case http.StatusUnauthorized:
		return "UNAUTHORIZED", "Invalid credentials."
	case http.StatusForbidden:
		return "FORBIDDEN", "Unauthorized - invalid credentials."
	case http.StatusNotFound:
		return "NOT_FOUND", "The specified resource was not found"
	case http.StatusTooManyRequests:
		return "TOO_MANY_REQUESTS", "Request was throttled."
	default:
		if status >= 500 {
			return "INTERNAL_SERVER_ERROR", "Internal server error."
		}
		return "ERROR", http.StatusText(status)
	}
}
