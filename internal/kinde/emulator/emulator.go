package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Options configure an Emulator. The zero value is usable.
type Options struct {
	// Seed is the initial world; nil means DefaultSeed(). Reset restores it.
	Seed *Seed
	// Logger receives the emulator's logs; nil discards them.
	Logger *slog.Logger
	// Clock is the emulator's time; nil means the system clock.
	Clock Clock
	// TimeScale divides the webhook retry schedule, so a test can run the
	// whole schedule quickly; 0 means 1.
	TimeScale float64
	// ControlPlane mounts /_emulator/ (served to loopback clients only).
	ControlPlane bool
}

// Emulator is one local Kinde business: its world plus the HTTP surfaces
// that serve it.
type Emulator struct {
	issuer string
	opts   Options
	logger *slog.Logger
	clock  Clock

	mu   sync.Mutex
	seed State // what Reset restores

	world   *World
	faults  *Faults
	journal *journal
	limiter *rateLimiter
	mux     *http.ServeMux
	handler http.Handler
	// ops maps a ServeMux pattern of the Management API to its operation.
	ops map[string]operation
	// apiKeys caches the Management API's parsed verification keys.
	apiKeys apiKeyCache
	// bearers caches verified Management API tokens.
	bearers bearerCache

	oidc  *oidcProvider
	hooks *webhookDispatcher

	closeOnce sync.Once
}

// New builds an emulator for the given issuer, such as
// "http://127.0.0.1:54321" (no trailing slash). It does not listen; serve
// Handler() yourself (package emulatortest does it for tests).
func New(issuer string, opts Options) (*Emulator, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
		return nil, fmt.Errorf("emulator: new: issuer %q must be an absolute http(s) URL without path or trailing slash", issuer)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = 1
	}
	seed := opts.Seed
	if seed == nil {
		seed = DefaultSeed()
	}
	e := &Emulator{
		issuer: issuer,
		opts:   opts,
		logger: opts.Logger,
		clock:  opts.Clock,
		seed:   cloneState(State(*seed)),
	}
	e.world, err = newWorld(e.seed, e.clock)
	if err != nil {
		return nil, fmt.Errorf("emulator: new: %w", err)
	}
	e.faults = newFaults()
	e.journal = newJournal()
	e.limiter = newRateLimiter(e.clock)

	e.mux = http.NewServeMux()
	e.oidc = newOIDCProvider(e)
	e.hooks = newWebhookDispatcher(e)
	e.world.Subscribe(e.hooks.enqueue)
	e.oidc.register(e.mux)
	e.mountManagementAPI(e.mux)
	if opts.ControlPlane {
		e.mountControlPlane(e.mux)
	}
	e.handler = e.withJournal(e.withFaults(e.withRateLimit(e.mux)))
	return e, nil
}

// Handler returns the emulator's whole HTTP surface, wrapped in the request
// journal, fault injection and rate limiting.
func (e *Emulator) Handler() http.Handler { return e.handler }

// Issuer returns the issuer URL the emulator was built for.
func (e *Emulator) Issuer() string { return e.issuer }

// World returns the emulator's world.
func (e *Emulator) World() *World { return e.world }

// Clock returns the emulator's clock.
func (e *Emulator) Clock() Clock { return e.clock }

// Logger returns the emulator's logger.
func (e *Emulator) Logger() *slog.Logger { return e.logger }

// TimeScale returns the webhook retry divisor (always >= 1 unless set lower).
func (e *Emulator) TimeScale() float64 { return e.opts.TimeScale }

// Faults returns the fault-injection rules.
func (e *Emulator) Faults() *Faults { return e.faults }

// Close stops background work (webhook delivery). It is safe to call twice.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		e.hooks.close()
	})
	return nil
}

// SeedState returns a copy of the state Reset restores.
func (e *Emulator) SeedState() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	return cloneState(e.seed)
}

// Reset restores the seed, clears faults, the journal and the rate limit,
// and turns webhook hold mode off, forgetting held deliveries.
// With keepKeys the current signing keys survive, so browser sessions and
// cached JWKS stay valid; without it the seed's keys come back (and when
// the seed has none, a new key is made on first use).
func (e *Emulator) Reset(keepKeys bool) error {
	s := e.SeedState()
	if keepKeys {
		s.Keys = e.world.SigningKeys()
	}
	if err := e.world.Replace(s); err != nil {
		return fmt.Errorf("emulator: reset: %w", err)
	}
	e.faults.Clear()
	e.journal.reset()
	e.limiter.set(0)
	e.hooks.resetHold()
	return nil
}

// LoadSeed makes s the new seed and resets the world to it. Signing keys are
// kept when s has none.
func (e *Emulator) LoadSeed(s State) error {
	if len(s.Keys) == 0 {
		s.Keys = e.world.SigningKeys()
	}
	if err := e.world.Replace(s); err != nil {
		return fmt.Errorf("emulator: load seed: %w", err)
	}
	e.mu.Lock()
	e.seed = cloneState(s)
	e.mu.Unlock()
	return nil
}

// ManagementAudiences returns the audiences the Management API accepts in an
// M2M token: <issuer>/api, https://<issuer host without port>.kinde.com/api
// (what kinde-go derives from a local domain) and, when the business has a
// subdomain, https://<sub>.kinde.com/api.
func (e *Emulator) ManagementAudiences() []string {
	out := []string{e.issuer + "/api"}
	if u, err := url.Parse(e.issuer); err == nil {
		host := u.Hostname()
		if !strings.HasSuffix(host, ".kinde.com") {
			host += ".kinde.com"
		}
		out = append(out, "https://"+host+"/api")
	}
	if sub := e.world.Business().Subdomain; sub != "" {
		out = append(out, "https://"+sub+".kinde.com/api")
	}
	return out
}

type ctxKey int

const requestInfoKey ctxKey = iota

// requestInfo travels in the request context so inner handlers can tell the
// journal who called (ClientID) and which fault fired.
type requestInfo struct {
	mu        sync.Mutex
	operation string
	clientID  string
	fault     string
}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey).(*requestInfo)
	return ri
}

// NoteClientID records the calling client's id in the request journal. OP
// handlers call it once they know the client (e.g. from the token request).
func NoteClientID(r *http.Request, clientID string) {
	if ri := infoFrom(r.Context()); ri != nil {
		ri.mu.Lock()
		ri.clientID = clientID
		ri.mu.Unlock()
	}
}

// operationOf names the request: a Management API operationId, an OP
// endpoint name ("oauth2.token", "jwks", ...), "control" or "".
func (e *Emulator) operationOf(r *http.Request) string {
	p := r.URL.Path
	if name, ok := opEndpointName(p); ok {
		return name
	}
	if strings.HasPrefix(p, "/_emulator/") {
		return "control"
	}
	if strings.HasPrefix(p, "/api/v1/") || p == "/api/v1" {
		_, pattern := e.mux.Handler(r)
		if op, ok := e.ops[pattern]; ok {
			return op.ID
		}
		return "routeNotFound"
	}
	return ""
}

// opEndpointName names the OpenID Provider's endpoints for faults and the
// journal.
func opEndpointName(path string) (string, bool) {
	switch path {
	case "/oauth2/auth":
		return "oauth2.auth", true
	case "/oauth2/token":
		return "oauth2.token", true
	case "/.well-known/jwks", "/.well-known/jwks.json":
		return "jwks", true
	case "/oauth2/v2/user_profile", "/oauth2/user_profile":
		return "userinfo", true
	case "/.well-known/openid-configuration":
		return "discovery", true
	case "/logout":
		return "logout", true
	case "/oauth2/revoke":
		return "oauth2.revoke", true
	case "/oauth2/introspect":
		return "oauth2.introspect", true
	}
	return "", false
}

// isOPOperation reports whether name is one of the OP endpoint names.
func isOPOperation(name string) bool {
	switch name {
	case "oauth2.auth", "oauth2.token", "jwks", "userinfo", "discovery", "logout", "oauth2.revoke", "oauth2.introspect":
		return true
	}
	return false
}

var errNotLoopback = errors.New("emulator: control plane is loopback-only")
