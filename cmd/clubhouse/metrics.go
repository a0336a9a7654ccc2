package main

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves the portal's Prometheus registry at GET /metrics,
// and nothing else. It is served on its own listener
// (CLUBHOUSE_METRICS_ADDR), which operators keep off the internet; the
// portal's own listener has no /metrics.
func metricsHandler(g prometheus.Gatherer, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}))
	return mux
}
