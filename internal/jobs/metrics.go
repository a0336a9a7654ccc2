package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clubhouse/clubhouse/internal/metrics"
)

// metrics make job state visible to operators: how many jobs of each kind
// are in each state (read from River's table at scrape time, so every
// instance reports the whole cluster's queue), and how runs on this
// instance ended and how long they took.
type jobMetrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, db *sql.DB) (*jobMetrics, error) {
	m := &jobMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clubhouse_job_runs_total",
			Help: "Background job runs on this instance, by kind and outcome (ok or error).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "clubhouse_job_duration_seconds",
			Help:    "Time background jobs took on this instance, by kind.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 30, 120, 600},
		}, []string{"kind"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.runs, err = metrics.Register(reg, m.runs); err != nil {
		return nil, err
	}
	if m.duration, err = metrics.Register(reg, m.duration); err != nil {
		return nil, err
	}
	if _, err = metrics.Register(reg, &stateCollector{db: db}); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *jobMetrics) observe(kind string, err error, d time.Duration) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.runs.WithLabelValues(kind, outcome).Inc()
	m.duration.WithLabelValues(kind).Observe(d.Seconds())
}

var jobsDesc = prometheus.NewDesc("clubhouse_jobs",
	"Background jobs in the queue, by kind and River state (available, running, retryable, completed, discarded…).",
	[]string{"kind", "state"}, nil)

// stateCollector counts River's jobs by kind and state when scraped.
type stateCollector struct{ db *sql.DB }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := c.db.QueryContext(ctx, `SELECT kind, state, COUNT(*) FROM river_job GROUP BY kind, state`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, fmt.Errorf("jobs: count jobs: %w", err))
		return
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind, state string
			n           float64
		)
		if err := rows.Scan(&kind, &state, &n); err != nil {
			ch <- prometheus.NewInvalidMetric(jobsDesc, fmt.Errorf("jobs: count jobs: %w", err))
			return
		}
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, n, kind, state)
	}
	if err := rows.Err(); err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, fmt.Errorf("jobs: count jobs: %w", err))
	}
}
