package kinde

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/clubhouse/clubhouse/internal/metrics"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/clubhouse/clubhouse/internal/club"
)

// Defaults for AdminConfig.
const (
	DefaultMaxAttempts      = 4
	DefaultMaxRateLimitWait = 30 * time.Second
	defaultBackoffBase      = 200 * time.Millisecond
	defaultBackoffCap       = 5 * time.Second
	// tokenEarlyExpiry is how long before its expiry the M2M token is
	// renewed, so a call never goes out with a token about to lapse.
	tokenEarlyExpiry = 60 * time.Second
	// maxBody bounds what is read from a Management API answer.
	maxBody = 16 << 20
)

// AdminConfig configures the Management API client.
type AdminConfig struct {
	// Issuer is the Kinde domain (https://acme.kinde.com) or the emulator's
	// address; the token endpoint is Issuer + "/oauth2/token".
	Issuer string
	// ClientID and ClientSecret are the M2M application's credentials.
	ClientID, ClientSecret string
	// Audience is the Management API audience; "" means Issuer + "/api".
	// With a custom domain it must still be https://<sub>.kinde.com/api.
	Audience string
	// HTTPClient is the base client (tests wrap its transport with the spec
	// validator). Its Timeout bounds each attempt. nil means a client with
	// a 15 second timeout.
	HTTPClient *http.Client
	// Logger receives one line per attempt (operation, status, attempt,
	// duration). nil discards.
	Logger *slog.Logger
	// Metrics registers kinde_calls_total{operation,status} and
	// kinde_call_duration_seconds{operation}. nil means no metrics.
	Metrics prometheus.Registerer
	// MaxAttempts bounds the attempts of one call (default 4).
	MaxAttempts int
	// Backoff is the wait before attempt+1 after a failed attempt (5xx,
	// timeout, dropped connection). Default: exponential with full jitter,
	// base 200ms, cap 5s.
	Backoff func(attempt int) time.Duration
	// Sleep waits d or until ctx ends. Tests inject it to record waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxRateLimitWait is the longest RateLimit-Reset the client waits for
	// (default 30s); a longer one makes the call fail as unavailable.
	MaxRateLimitWait time.Duration
}

// Admin is a typed client of Kinde's Management API. It implements
// club.Identities and is safe for concurrent use.
type Admin struct {
	cfg     AdminConfig
	base    string
	client  *http.Client
	ops     map[opID]operation
	logger  *slog.Logger
	metrics *adminMetrics
	tokens  *tokenCache
	roles   roleCache
	staff   staffCache
}

var _ club.Identities = (*Admin)(nil)

// NewAdmin returns a Management API client for cfg. It makes no call: the
// M2M token is fetched on first use.
func NewAdmin(cfg AdminConfig) (*Admin, error) {
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"issuer", cfg.Issuer}, {"client id", cfg.ClientID}, {"client secret", cfg.ClientSecret},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("kinde: admin: missing %s", strings.Join(missing, ", "))
	}
	if _, err := url.ParseRequestURI(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("kinde: admin: issuer: %w", err)
	}
	if cfg.Audience == "" {
		cfg.Audience = cfg.Issuer + "/api"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff == nil {
		cfg.Backoff = fullJitter(defaultBackoffBase, defaultBackoffCap)
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.MaxRateLimitWait <= 0 {
		cfg.MaxRateLimitWait = DefaultMaxRateLimitWait
	}
	a := &Admin{
		cfg:    cfg,
		base:   cfg.Issuer,
		client: cfg.HTTPClient,
		ops:    map[opID]operation{},
		logger: cfg.Logger,
	}
	for _, op := range operations() {
		a.ops[op.ID] = op
	}
	if cfg.Metrics != nil {
		m, err := newAdminMetrics(cfg.Metrics)
		if err != nil {
			return nil, err
		}
		a.metrics = m
	}
	cc := &clientcredentials.Config{
		ClientID:       cfg.ClientID,
		ClientSecret:   cfg.ClientSecret,
		TokenURL:       cfg.Issuer + "/oauth2/token",
		EndpointParams: url.Values{"audience": {cfg.Audience}},
		AuthStyle:      oauth2.AuthStyleInParams,
	}
	a.tokens = newTokenCache(func() oauth2.TokenSource {
		return &tokenFetcher{cc: cc, client: cfg.HTTPClient, metrics: a.metrics, logger: a.logger}
	})
	return a, nil
}

// APIError is a Management API answer other than success: Kinde's status
// and its error_response code and message. It never holds a token.
type APIError struct {
	Operation string
	Status    int
	Code      string
	Message   string
}

// Error describes the failure without anything from the request.
func (e *APIError) Error() string {
	s := fmt.Sprintf("kinde: %s: status %d", e.Operation, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// notFound reports whether Kinde said the thing does not exist.
func (e *APIError) notFound() bool {
	return e.Status == http.StatusNotFound ||
		strings.HasSuffix(e.Code, "_NOT_FOUND") || e.Code == "USER_NOT_IN_ORGANIZATION"
}

// outcome is how one attempt ended.
type outcome struct {
	status int           // HTTP status; 0 when Kinde gave no answer
	err    error         // nil on success
	retry  bool          // another attempt may succeed
	wait   time.Duration // the wait Kinde asked for (RateLimit-Reset); <0 = none
	token  string        // the bearer token used, to drop it on a 401
	// noToken marks an attempt that never reached the operation because
	// the M2M token could not be had (counted under oauth2.token).
	noToken bool
}

// call runs one Management API operation: it fills the path template with
// args (in order), encodes in as the JSON body (when non-nil), decodes the
// answer into out (when non-nil), and retries what is worth retrying.
func (a *Admin) call(ctx context.Context, id opID, args []string, query url.Values, in, out any) error {
	op, ok := a.ops[id]
	if !ok {
		return fmt.Errorf("kinde: unknown operation %q", id)
	}
	path, err := fillPath(op.Path, args)
	if err != nil {
		return fmt.Errorf("kinde: %s: %w", id, err)
	}
	for k := range query {
		if !slices.Contains(op.Query, k) {
			return fmt.Errorf("kinde: %s: query parameter %q is not in the operations table", id, k)
		}
	}
	u := a.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body []byte
	if in != nil {
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("kinde: %s: encode: %w", id, err)
		}
	}
	droppedToken := false
	for attempt := 1; ; attempt++ {
		start := time.Now()
		o := a.once(ctx, op, u, body, out)
		a.observe(ctx, op.ID, o, attempt, time.Since(start))
		if o.err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return club.Unavailable(fmt.Errorf("kinde: %s: %w", id, ctx.Err()))
		}
		if o.status == http.StatusUnauthorized && !o.noToken && !droppedToken {
			// Kinde no longer takes the cached token (revoked, or the
			// signing keys rotated): fetch a new one and try once more.
			droppedToken = true
			a.tokens.drop(o.token)
			o.retry, o.wait = true, 0
		}
		if !o.retry {
			return o.err
		}
		if attempt >= a.cfg.MaxAttempts {
			return club.Unavailable(fmt.Errorf("kinde: %s: gave up after %d attempts: %w", id, attempt, o.err))
		}
		wait := o.wait
		if wait < 0 {
			wait = a.cfg.Backoff(attempt)
		} else if wait > a.cfg.MaxRateLimitWait {
			return club.Unavailable(fmt.Errorf("kinde: %s: rate limited for %s: %w", id, wait, o.err))
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// Waiting would outlast the caller: say so now, not at the
			// deadline.
			return club.Unavailable(fmt.Errorf("kinde: %s: the next try (in %s) is past the deadline: %w", id, wait, o.err))
		}
		if err := a.cfg.Sleep(ctx, wait); err != nil {
			return club.Unavailable(fmt.Errorf("kinde: %s: %w", id, err))
		}
	}
}

// once makes one attempt.
func (a *Admin) once(ctx context.Context, op operation, u string, body []byte, out any) outcome {
	tok, err := a.tokens.token()
	if err != nil {
		return tokenOutcome(op.ID, err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, op.Method, u, rd)
	if err != nil {
		return outcome{err: fmt.Errorf("kinde: %s: %w", op.ID, err), wait: -1}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := a.client.Do(req)
	if err != nil {
		// Timeouts, resets, EOF: Kinde may be fine a moment later.
		return outcome{err: fmt.Errorf("kinde: %s: %w", op.ID, transportError(err)), retry: true, wait: -1}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return outcome{status: resp.StatusCode, err: fmt.Errorf("kinde: %s: read answer: %w", op.ID, transportError(err)), retry: true, wait: -1}
	}
	o := outcome{status: resp.StatusCode, wait: -1, token: tok.AccessToken}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				o.err = fmt.Errorf("kinde: %s: decode answer: %w", op.ID, err)
			}
		}
		return o
	case s == http.StatusTooManyRequests:
		o.err, o.retry = parseAPIError(op.ID, s, data), true
		o.wait = rateLimitWait(resp.Header)
	case s >= 500:
		o.err, o.retry = parseAPIError(op.ID, s, data), true
	default:
		apiErr := parseAPIError(op.ID, s, data)
		o.err = apiErr
		if apiErr.notFound() {
			o.err = &club.Error{Code: club.ENOTFOUND, Message: "Not found in Kinde.", Err: apiErr}
		}
	}
	return o
}

// tokenOutcome classifies a failure to get the M2M token.
func tokenOutcome(id opID, err error) outcome {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return outcome{err: fmt.Errorf("kinde: %s: m2m token: %w", id, transportError(err)), retry: true, wait: -1, noToken: true}
	}
	s := re.Response.StatusCode
	o := outcome{status: s, wait: -1, noToken: true,
		err: fmt.Errorf("kinde: %s: m2m token: token endpoint answered %d %q", id, s, re.ErrorCode)}
	switch {
	case s == http.StatusTooManyRequests:
		o.retry, o.wait = true, rateLimitWait(re.Response.Header)
	case s >= 500:
		o.retry = true
	}
	// Anything else (invalid_client, a scope or audience the application
	// may not have) is a configuration error: retrying will not help.
	return o
}

// transportError strips the request URL from a client error: it can carry
// a person's email in its query.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// parseAPIError reads Kinde's error_response ({"errors":[{code,message}]})
// or not_found_response ({"errors":{code,message}}).
func parseAPIError(id opID, status int, body []byte) *APIError {
	e := &APIError{Operation: string(id), Status: status}
	var env struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Errors) == 0 {
		return e
	}
	type item struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	var items []item
	if json.Unmarshal(env.Errors, &items) != nil {
		var one item
		if json.Unmarshal(env.Errors, &one) == nil {
			items = []item{one}
		}
	}
	if len(items) > 0 {
		e.Code, e.Message = items[0].Code, items[0].Message
	}
	return e
}

// rateLimitWait reads Kinde's RateLimit-Reset header (seconds until the
// window resets), falling back to Retry-After. It returns -1 when neither
// is usable.
func rateLimitWait(h http.Header) time.Duration {
	for _, name := range []string{"RateLimit-Reset", "Retry-After"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 && secs < 1e6 {
			return time.Duration(secs * float64(time.Second))
		}
	}
	return -1
}

// fillPath puts args, path-escaped, into the {name} segments of tmpl, in order.
func fillPath(tmpl string, args []string) (string, error) {
	var b strings.Builder
	rest := tmpl
	for _, arg := range args {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest, '}')
		if i < 0 || j < i {
			return "", errors.New("too many path arguments")
		}
		if arg == "" {
			return "", fmt.Errorf("empty %s", rest[i+1:j])
		}
		b.WriteString(rest[:i])
		b.WriteString(url.PathEscape(arg))
		rest = rest[j+1:]
	}
	if strings.IndexByte(rest, '{') >= 0 {
		return "", errors.New("missing path arguments")
	}
	b.WriteString(rest)
	return b.String(), nil
}

// observe logs and counts one attempt.
func (a *Admin) observe(ctx context.Context, id opID, o outcome, attempt int, d time.Duration) {
	status := "error"
	switch {
	case o.noToken:
		status = "no_token"
	case o.status != 0:
		status = strconv.Itoa(o.status)
	}
	if !o.noToken {
		a.metrics.observe(string(id), status, d)
	}
	attrs := []slog.Attr{
		slog.String("operation", string(id)),
		slog.String("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("duration", d),
	}
	if o.err == nil {
		a.logger.LogAttrs(ctx, slog.LevelDebug, "kinde call", attrs...)
		return
	}
	attrs = append(attrs, slog.Bool("retry", o.retry), slog.String("err", o.err.Error()))
	a.logger.LogAttrs(ctx, slog.LevelWarn, "kinde call failed", attrs...)
}

// fullJitter returns exponential backoff with full jitter: a uniform wait
// in [0, min(cap, base·2^(attempt-1))].
func fullJitter(base, ceiling time.Duration) func(int) time.Duration {
	return func(attempt int) time.Duration {
		d := ceiling
		if attempt < 1 {
			attempt = 1
		}
		if attempt < 32 {
			if e := base << (attempt - 1); e > 0 && e < ceiling {
				d = e
			}
		}
		return rand.N(d + 1)
	}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tokenCache holds the M2M token source: one token serves every call
// until it is within tokenEarlyExpiry of its expiry.
type tokenCache struct {
	mu        sync.Mutex
	src       oauth2.TokenSource
	newSource func() oauth2.TokenSource
}

func newTokenCache(fetch func() oauth2.TokenSource) *tokenCache {
	c := &tokenCache{newSource: func() oauth2.TokenSource {
		return oauth2.ReuseTokenSourceWithExpiry(nil, fetch(), tokenEarlyExpiry)
	}}
	c.src = c.newSource()
	return c
}

func (c *tokenCache) token() (*oauth2.Token, error) {
	c.mu.Lock()
	src := c.src
	c.mu.Unlock()
	return src.Token()
}

// drop forgets the cached token if it is still stale, so the next call
// fetches a new one. Concurrent callers that saw the same 401 cause one
// fetch, not one each.
func (c *tokenCache) drop(stale string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, err := c.src.Token(); err == nil && cur.AccessToken != stale {
		return
	}
	c.src = c.newSource()
}

// tokenFetcher gets a new M2M token from Kinde's token endpoint each time
// it is asked; tokenCache decides when to ask.
type tokenFetcher struct {
	cc      *clientcredentials.Config
	client  *http.Client
	metrics *adminMetrics
	logger  *slog.Logger
}

// Token implements oauth2.TokenSource.
func (f *tokenFetcher) Token() (*oauth2.Token, error) {
	// The fetch is bounded by the client's Timeout; it is shared by every
	// call waiting for the token, so no single caller's context owns it.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.client)
	start := time.Now()
	tok, err := f.cc.Token(ctx)
	d := time.Since(start)
	status := "200"
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.Response != nil:
		status = strconv.Itoa(re.Response.StatusCode)
	case err != nil:
		status = "error"
	}
	f.metrics.observe("oauth2.token", status, d)
	f.logger.LogAttrs(ctx, slog.LevelDebug, "kinde m2m token",
		slog.String("status", status), slog.Duration("duration", d))
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// roleCache keeps Kinde's role list (roles are global in Kinde) for
// roleCacheTTL.
type roleCache struct {
	mu      sync.Mutex
	roles   []club.Role
	fetched time.Time
}

// roleCacheTTL is how long the role list is reused.
const roleCacheTTL = 5 * time.Minute

// adminMetrics are the client's Prometheus collectors. A nil
// *adminMetrics records nothing.
type adminMetrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newAdminMetrics(reg prometheus.Registerer) (*adminMetrics, error) {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kinde_calls_total",
		Help: "Kinde Management API and token calls (each attempt), by operation (operationId, or oauth2.token) and HTTP status (\"error\" = no answer).",
	}, []string{"operation", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kinde_call_duration_seconds",
		Help:    "Duration of Kinde calls (each attempt), by operation.",
		Buckets: prometheus.DefBuckets,
	}, []string{"operation"})
	calls, err := metrics.Register(reg, calls)
	if err != nil {
		return nil, err
	}
	duration, err = metrics.Register(reg, duration)
	if err != nil {
		return nil, err
	}
	return &adminMetrics{calls: calls, duration: duration}, nil
}

func (m *adminMetrics) observe(op, status string, d time.Duration) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(op, status).Inc()
	m.duration.WithLabelValues(op).Observe(d.Seconds())
}
