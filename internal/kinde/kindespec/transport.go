package kindespec

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

type ctxKey int

const (
	skipRequestKey ctxKey = iota
	allowUnknownRouteKey
)

// ExpectInvalidRequest marks a request as deliberately off-spec (malformed
// JSON, unknown fields, page_size 501...): the transport does not validate
// the request but still validates the response.
func ExpectInvalidRequest(ctx context.Context) context.Context {
	return context.WithValue(ctx, skipRequestKey, true)
}

// ExpectUnknownRoute marks a request to a path the spec does not have; its
// response must then be Kinde's ROUTE_NOT_FOUND 404.
func ExpectUnknownRoute(ctx context.Context) context.Context {
	return context.WithValue(ctx, allowUnknownRouteKey, true)
}

// TransportOption tunes NewValidatingTransport.
type TransportOption func(*transport)

// AllowUndeclaredStatus accepts responses with these statuses even where an
// operation does not declare them (their bodies are still checked against
// error_response). By default only 401 is allowed: the spec documents no 401
// for the Management API although a bad bearer token gets one.
func AllowUndeclaredStatus(statuses ...int) TransportOption {
	return func(t *transport) { t.allowed = append(t.allowed, statuses...) }
}

// OnViolation replaces the default reaction to a violation (t.Errorf).
func OnViolation(fn func(err error)) TransportOption {
	return func(t *transport) { t.report = fn }
}

type transport struct {
	spec    *Spec
	base    http.RoundTripper
	allowed []int
	report  func(error)
}

// NewValidatingTransport wraps base (http.DefaultTransport when nil) so that
// every request to a /api/v1/ path and its response are validated against
// the closed spec; each violation fails t. Other paths (the OAuth endpoints)
// pass through unchecked. On top of openapi3filter, it also checks that the
// query uses only declared parameters and that the response Content-Type is
// exactly the declared media type.
func NewValidatingTransport(t testing.TB, s *Spec, base http.RoundTripper, opts ...TransportOption) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	tr := &transport{spec: s, base: base, allowed: []int{http.StatusUnauthorized}}
	tr.report = func(err error) {
		t.Helper()
		t.Errorf("%v", err)
	}
	for _, o := range opts {
		o(tr)
	}
	return tr
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return tr.base.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("kindespec: read request body: %w", err)
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	ctx := req.Context()
	route, params, routeErr := tr.route(req, reqBody)
	unknownOK, _ := ctx.Value(allowUnknownRouteKey).(bool)
	if routeErr != nil && !unknownOK {
		tr.report(fmt.Errorf("kindespec: %s %s: not in the spec: %w", req.Method, req.URL.Path, routeErr))
	}
	var input *openapi3filter.RequestValidationInput
	if routeErr == nil {
		input = &openapi3filter.RequestValidationInput{
			Request:    tr.routingRequest(req, reqBody),
			PathParams: params,
			Route:      route,
			Options: &openapi3filter.Options{
				AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
				SkipSettingDefaults: true,
				MultiError:          true,
			},
		}
		if skip, _ := ctx.Value(skipRequestKey).(bool); !skip {
			if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
				tr.report(fmt.Errorf("kindespec: request %s %s violates the spec: %w", req.Method, req.URL.RequestURI(), err))
			}
			tr.checkQuery(req, route)
		}
	}
	resp, err := tr.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("kindespec: read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	switch {
	case routeErr != nil && unknownOK:
		tr.checkRouteNotFound(req, resp, body)
	case routeErr == nil:
		tr.checkResponse(ctx, req, input, resp, body)
	}
	return resp, nil
}

func (tr *transport) routingRequest(req *http.Request, body []byte) *http.Request {
	r := req.Clone(context.WithoutCancel(req.Context()))
	u := *req.URL
	u.Scheme, u.Host = "http", strings.TrimPrefix(routingServer, "http://")
	r.URL = &u
	r.Host = u.Host
	r.Body = io.NopCloser(bytes.NewReader(body))
	return r
}

func (tr *transport) route(req *http.Request, body []byte) (*routers.Route, map[string]string, error) {
	return tr.spec.router.FindRoute(tr.routingRequest(req, body))
}

// checkQuery rejects query keys the operation does not declare (the spec's
// own schemas cannot say so).
func (tr *transport) checkQuery(req *http.Request, route *routers.Route) {
	declared := map[string]bool{}
	add := func(ps openapi3.Parameters) {
		for _, p := range ps {
			if p != nil && p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				declared[p.Value.Name] = true
			}
		}
	}
	add(route.PathItem.Parameters)
	add(route.Operation.Parameters)
	for k := range req.URL.Query() {
		base, _, _ := strings.Cut(k, "[") // deepObject style, e.g. properties[key]
		if !declared[k] && !declared[base] {
			tr.report(fmt.Errorf("kindespec: request %s %s: query parameter %q is not declared", req.Method, req.URL.Path, k))
		}
	}
}

func (tr *transport) checkResponse(ctx context.Context, req *http.Request, input *openapi3filter.RequestValidationInput, resp *http.Response, body []byte) {
	route := input.Route
	declared := route.Operation.Responses.Status(resp.StatusCode)
	if declared == nil && slices.Contains(tr.allowed, resp.StatusCode) {
		tr.checkErrorEnvelope(req, resp, body)
		return
	}
	err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if err != nil {
		tr.report(fmt.Errorf("kindespec: response %d to %s %s (%s) violates the spec: %w; body: %s",
			resp.StatusCode, req.Method, req.URL.RequestURI(), route.Operation.OperationID, err, truncate(body)))
		return
	}
	if declared == nil || declared.Value == nil || len(declared.Value.Content) == 0 {
		return
	}
	got := resp.Header.Get("Content-Type")
	for mt := range declared.Value.Content {
		if sameMediaType(got, mt) {
			return
		}
	}
	tr.report(fmt.Errorf("kindespec: response %d to %s %s (%s): Content-Type %q, spec declares %v",
		resp.StatusCode, req.Method, req.URL.Path, route.Operation.OperationID, got, keys(declared.Value.Content)))
}

func (tr *transport) checkErrorEnvelope(req *http.Request, resp *http.Response, body []byte) {
	schema := tr.spec.Doc.Components.Schemas["error_response"]
	if schema == nil || schema.Value == nil {
		return
	}
	if err := validateJSON(schema.Value, body); err != nil {
		tr.report(fmt.Errorf("kindespec: %d response to %s %s is not an error_response: %w; body: %s",
			resp.StatusCode, req.Method, req.URL.Path, err, truncate(body)))
	}
}

func (tr *transport) checkRouteNotFound(req *http.Request, resp *http.Response, body []byte) {
	schema := tr.spec.Doc.Components.Schemas["not_found_response"]
	if resp.StatusCode != http.StatusNotFound || schema == nil || schema.Value == nil {
		tr.report(fmt.Errorf("kindespec: unknown route %s %s answered %d, want 404", req.Method, req.URL.Path, resp.StatusCode))
		return
	}
	if err := validateJSON(schema.Value, body); err != nil {
		tr.report(fmt.Errorf("kindespec: unknown route %s %s: body is not a not_found_response: %w", req.Method, req.URL.Path, err))
	}
}

func validateJSON(s *openapi3.Schema, body []byte) error {
	var v any
	if err := jsonUnmarshal(body, &v); err != nil {
		return err
	}
	return s.VisitJSON(v, openapi3.MultiErrors())
}

// sameMediaType compares media types exactly, up to case and spacing around
// parameters: "application/json" is not "application/json; charset=utf-8".
func sameMediaType(a, b string) bool {
	ta, pa, errA := mime.ParseMediaType(a)
	tb, pb, errB := mime.ParseMediaType(b)
	if errA != nil || errB != nil || ta != tb || len(pa) != len(pb) {
		return false
	}
	for k, v := range pa {
		if !strings.EqualFold(pb[k], v) {
			return false
		}
	}
	return true
}

func keys(c openapi3.Content) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func truncate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}
