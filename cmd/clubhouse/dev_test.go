//go:build dev

package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

func TestDevKindeIsTheEmulator(t *testing.T) {
	tests := []struct {
		name     string
		staffOrg string
		want     string
	}{
		{"the emulator's staff org by default", "", emulator.SeedStaffOrgCode},
		{"an explicit staff org is kept", "org_ops", "org_ops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := Config{Dev: true, DatabaseURL: "sqlite:" + filepath.Join(dir, "c.db"), EmulatorAddr: "127.0.0.1:0",
				PublicURL: "http://localhost:1", StaffOrg: tt.staffOrg}
			got, stop, err := startDevKinde(t.Context(), in, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("startDevKinde: %v", err)
			}
			stop()
			if got.StaffOrg != tt.want {
				t.Errorf("staff org = %q, want %q", got.StaffOrg, tt.want)
			}
			k := got.Kinde
			if !strings.HasPrefix(k.Domain, "http://127.0.0.1:") || k.ClientID == "" || k.ClientSecret == "" ||
				k.M2MClientID == "" || k.M2MClientSecret == "" || k.Audience != emulator.SeedAPIAudience {
				t.Errorf("Kinde = %+v, want the emulator's issuer, apps and audience", k)
			}
			if _, err := os.Stat(filepath.Join(dir, "kinde-emulator.json")); err != nil {
				t.Errorf("emulator state not saved beside the database: %v", err)
			}
		})
	}
}

func TestMetricsHaveTheirOwnListener(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantMetrics bool
	}{
		{"off by default", nil, false},
		{"on CLUBHOUSE_METRICS_ADDR", []string{"-metrics-addr", "127.0.0.1:0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startDevPortal(t, tt.args...)
			if got := p.Metrics != ""; got != tt.wantMetrics {
				t.Fatalf("metrics listener announced = %v (%q), want %v", got, p.Metrics, tt.wantMetrics)
			}
			if got, _ := httpGet(t, p.URL+"/healthz"); got != http.StatusOK {
				t.Errorf("portal /healthz = %d, want 200", got)
			}
			if got, _ := httpGet(t, p.URL+"/metrics"); got != http.StatusNotFound {
				t.Errorf("portal /metrics = %d, want 404: metrics are never on the portal's listener", got)
			}
			if !tt.wantMetrics {
				return
			}
			got, body := httpGet(t, p.Metrics)
			if got != http.StatusOK {
				t.Fatalf("metrics listener /metrics = %d, want 200", got)
			}
			for _, want := range []string{
				`clubhouse_http_request_duration_seconds_count{method="GET",route="GET /healthz",status="200"} 1`, // the web layer's
				"go_goroutines", // the Go collector cmd registers
			} {
				if !strings.Contains(body, want) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})
	}
}

// devPortal is a portal started by startDevPortal.
type devPortal struct {
	URL     string // the portal
	Metrics string // its metrics, "" when it serves none
}

// startDevPortal runs the portal with -dev on loopback ports, with its own
// database and emulator state, plus args, and returns its URLs once its
// banner is out (it listens by then). It stops when the test ends.
func startDevPortal(t *testing.T, args ...string) devPortal {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	dir := t.TempDir()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-dev", "-addr", "127.0.0.1:0", "-emulator-addr", "127.0.0.1:0",
			"-database-url", "sqlite:" + filepath.Join(dir, "c.db")}, args...), func(string) string { return "" }, pw)
		pw.Close()
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("portal: %v", err)
		}
	})
	started := make(chan devPortal, 1)
	go func() {
		var p devPortal
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "Clubhouse is running at "); ok {
				p.URL = u
			}
			if u, ok := strings.CutPrefix(line, "Metrics (Prometheus): "); ok {
				p.Metrics = u
			}
			// The emulator's line comes after the portal's and metrics'.
			if strings.HasPrefix(line, "Kinde emulator (local, not production): ") {
				started <- p
			}
		}
		_, _ = io.Copy(io.Discard, pr) // keep the portal unblocked
	}()
	select {
	case p := <-started:
		return p
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("portal stopped before listening: %v", err)
	case <-ctx.Done():
		t.Fatal("portal did not start in time")
	}
	return devPortal{}
}

// httpGet returns the status and body of GET url.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode, string(b)
}
