package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// stdoutRecorder collects run's output and signals once the start banner
// (which run writes in one piece) has arrived.
type stdoutRecorder struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func newStdoutRecorder() *stdoutRecorder { return &stdoutRecorder{ready: make(chan struct{})} }

func (r *stdoutRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.buf.Write(p)
	if strings.Contains(r.buf.String(), "People (") {
		r.once.Do(func() { close(r.ready) })
	}
	return n, err
}

func (r *stdoutRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// startRun runs the command in the background and waits for its banner.
func startRun(t *testing.T, args ...string) (out *stdoutRecorder, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out = newStdoutRecorder()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"kinde-emulator"}, args...), func(string) string { return "" }, out)
	}()
	select {
	case <-out.ready:
	case err := <-done:
		cancel()
		t.Fatalf("run returned before serving: %v\n%s", err, out.String())
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("no banner within 10s:\n%s", out.String())
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return out, stop
}

var issuerLine = regexp.MustCompile(`(?m)^Issuer: (http://127\.0\.0\.1:\d+)$`)

func TestRunPrintsIssuerAppsAndPeople(t *testing.T) {
	export := filepath.Join(t.TempDir(), "state.json")
	out, stop := startRun(t, "-addr", "127.0.0.1:0", "-export-on-exit", export)
	text := out.String()
	m := issuerLine.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no issuer line in:\n%s", text)
	}
	issuer := m[1]
	seed := emulator.DefaultSeed()
	var wants []string
	for _, a := range seed.Apps {
		wants = append(wants, a.Name, a.ClientID, a.ClientSecret)
	}
	wants = append(wants, "olivia@example.org", "Riverside Rowing Club (owner)", "nora@example.org", "no club", "not production")
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q", want)
		}
	}

	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Issuer string `json:"issuer"`
	}
	err = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if err != nil || disc.Issuer != issuer {
		t.Fatalf("discovery issuer = %q (%v), want %q", disc.Issuer, err, issuer)
	}

	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	b, err := os.ReadFile(export)
	if err != nil {
		t.Fatalf("no export on exit: %v", err)
	}
	var st emulator.State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Users) != len(seed.Users) || len(st.Keys) == 0 {
		t.Errorf("export has %d users and %d keys, want %d users and the signing key", len(st.Users), len(st.Keys), len(seed.Users))
	}

	t.Run("import restores the exported state and keys", func(t *testing.T) {
		out, stop := startRun(t, "-addr", "127.0.0.1:0", "-import", export)
		iss := issuerLine.FindStringSubmatch(out.String())[1]
		resp, err := http.Get(iss + "/.well-known/jwks")
		if err != nil {
			t.Fatal(err)
		}
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		err = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if err != nil || len(set.Keys) == 0 || set.Keys[0].Kid != st.Keys[len(st.Keys)-1].KID {
			t.Errorf("JWKS after import = %+v (%v), want kid %s", set, err, st.Keys[len(st.Keys)-1].KID)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"defaults", nil, nil, ""},
		{"non-loopback address", []string{"-addr", "0.0.0.0:8081"}, nil, "not a loopback address"},
		{"non-loopback allowed explicitly", []string{"-addr", "0.0.0.0:8081", "-allow-non-loopback"}, nil, ""},
		{"bad time scale", []string{"-time-scale", "0"}, nil, "-time-scale must be positive"},
		{"seed and import", []string{"-seed", "a.json", "-import", "b.json"}, nil, "not both"},
		{"real Kinde issuer", []string{"-issuer", "https://acme.kinde.com"}, nil, "real Kinde domain"},
		{"issuer with trailing slash", []string{"-issuer", "http://localhost:8081/"}, nil, "without a trailing slash"},
		{"env default", nil, map[string]string{"KINDE_EMULATOR_ADDR": "10.0.0.1:80"}, "not a loopback address"},
		{"bad env bool", nil, map[string]string{"KINDE_EMULATOR_CONTROL_PLANE": "maybe"}, "KINDE_EMULATOR_CONTROL_PLANE"},
		{"unknown flag", []string{"-nope"}, nil, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			cfg, err := parseConfig(append([]string{"kinde-emulator"}, tt.args...), getenv, &bytes.Buffer{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tt.name == "defaults" && (cfg.Addr != "127.0.0.1:8081" || !cfg.ControlPlane || cfg.TimeScale != 1) {
					t.Errorf("defaults = %+v", cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}
