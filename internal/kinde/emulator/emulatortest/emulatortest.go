// Package emulatortest starts the local Kinde emulator for Go tests: a fresh
// in-process instance per test on 127.0.0.1:0, with the control plane on,
// closed when the test ends. It also hands out the seeded M2M credentials
// and Management API tokens.
package emulatortest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// Option changes how Start builds the emulator.
type Option func(*config)

type config struct {
	edits     []func(*emulator.Seed)
	opts      emulator.Options
	noControl bool
}

// WithSeed edits a copy of the default seed before the emulator starts.
func WithSeed(edit func(*emulator.Seed)) Option {
	return func(c *config) { c.edits = append(c.edits, edit) }
}

// WithClock gives the emulator a clock, typically an *emulator.FakeClock.
func WithClock(clock emulator.Clock) Option {
	return func(c *config) { c.opts.Clock = clock }
}

// WithoutControlPlane leaves /_emulator/ unmounted.
func WithoutControlPlane() Option {
	return func(c *config) { c.noControl = true }
}

// Start runs a fresh emulator on 127.0.0.1:0 for the rest of the test. Its
// issuer (and base URL) is e.Issuer().
func Start(t testing.TB, opts ...Option) *emulator.Emulator {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	seed := emulator.DefaultSeed()
	for _, edit := range c.edits {
		edit(seed)
	}
	c.opts.Seed = seed
	c.opts.ControlPlane = !c.noControl

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("emulatortest: listen: %v", err)
	}
	e, err := emulator.New("http://"+ln.Addr().String(), c.opts)
	if err != nil {
		_ = ln.Close()
		t.Fatalf("emulatortest: %v", err)
	}
	srv := httptest.NewUnstartedServer(e.Handler())
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = e.Close()
	})
	return e
}

// M2M returns the credentials of the seed's "Clubhouse Management" app,
// which holds every scope the portal needs.
func M2M(t testing.TB, e *emulator.Emulator) (clientID, secret string) {
	t.Helper()
	return App(t, e, emulator.SeedManagementApp)
}

// App returns the client id and secret of the app with the given name.
func App(t testing.TB, e *emulator.Emulator, name string) (clientID, secret string) {
	t.Helper()
	for _, a := range e.World().Apps() {
		if a.Name == name {
			return a.ClientID, a.ClientSecret
		}
	}
	t.Fatalf("emulatortest: no app named %q in the world", name)
	return "", ""
}

// Token gets a Management API access token for the app with the given name
// from the emulator's token endpoint (client credentials, audience
// <issuer>/api).
func Token(t testing.TB, e *emulator.Emulator, appName string) string {
	t.Helper()
	id, secret := App(t, e, appName)
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {id},
		"client_secret": {secret},
		"audience":      {e.Issuer() + "/api"},
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.Issuer()+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("emulatortest: token request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("emulatortest: token request: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("emulatortest: token request: status %d: %s", resp.StatusCode, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("emulatortest: token response %s: %v", body, err)
	}
	return tok.AccessToken
}

// Bulk adds n synthetic people to the emulator's world (no webhooks fire)
// and returns their ids.
func Bulk(e *emulator.Emulator, n int) []string {
	return e.World().AddPeople(n)
}
