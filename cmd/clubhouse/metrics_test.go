package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsHandlerServesTheRegistryOnly(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "clubhouse_test_total", Help: "A counter."})
	reg.MustRegister(c)
	c.Inc()
	h := metricsHandler(reg, slog.New(slog.DiscardHandler))
	tests := []struct {
		method, target string
		want           int
		wantBody       string
	}{
		{"GET", "/metrics", http.StatusOK, "clubhouse_test_total 1"},
		{"POST", "/metrics", http.StatusMethodNotAllowed, ""},
		{"GET", "/", http.StatusNotFound, ""},
		{"GET", "/healthz", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), tt.method, tt.target, nil))
			res := w.Result()
			body, _ := io.ReadAll(res.Body)
			if got := res.StatusCode; got != tt.want {
				t.Fatalf("status = %d, want %d", got, tt.want)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body lacks %q:\n%s", tt.wantBody, body)
			}
		})
	}
}
