package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/jobs"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/mail"
	"github.com/clubhouse/clubhouse/internal/store"
)

// newJobs wires the background jobs (River) to the portal's parts: webhook
// events go to the directory, each invitation's attempts to the mail worker
// (with its retry policy), the invitation sweep to the outbox,
// reconciliation to the club service, bulk imports to importRun (the
// importer's resumable run).
func newJobs(ctx context.Context, cfg Config, db *store.DB, svc *club.Service, worker *mail.Worker,
	importRun func(ctx context.Context, importID int64) error, reg prometheus.Registerer, logger *slog.Logger) (*jobs.Jobs, error) {
	dialect, err := jobsDialect(db.Dialect())
	if err != nil {
		return nil, err
	}
	rc := jobs.Config{
		DB:      db.JobsDB(),
		Dialect: dialect,
		Inbox:   inbox{db},
		Handlers: jobs.Handlers{
			Webhook:        svc.HandleIdentityEvent,
			Invitation:     worker.Deliver,
			DueInvitations: db.DueInvitations,
			Clubs:          db.KnownClubs,
			Reconcile: func(ctx context.Context, c club.Club) error {
				_, err := svc.Reconcile(ctx, c)
				return err
			},
			Prune: func(ctx context.Context, before time.Time) error {
				if _, err := db.PruneWebhookDeliveries(ctx, before); err != nil {
					return err
				}
				return db.PruneOrder(ctx, before)
			},
			Import: importRun,
		},
		// The job waits what the mail worker records as the next try.
		InvitationAttempts: mail.DefaultMaxAttempts,
		InvitationBackoff:  worker.Backoff,
		Logger:             logger,
		Registerer:         reg,
		ReconcileEvery:     cfg.ReconcileEvery, // 0 is off in both
	}
	if dialect == jobs.Postgres {
		rc.PostgresURL = cfg.DatabaseURL
	}
	q, err := jobs.New(ctx, rc)
	if err != nil {
		return nil, fmt.Errorf("clubhouse: %w", err)
	}
	return q, nil
}

// jobsDialect names the store's dialect as the job queue does: each
// package names its own, so that neither imports the other.
func jobsDialect(d string) (jobs.Dialect, error) {
	switch d {
	case store.DialectSQLite:
		return jobs.SQLite, nil
	case store.DialectPostgres:
		return jobs.Postgres, nil
	}
	return "", fmt.Errorf("clubhouse: the job queue does not support the store's dialect %q", d)
}

// inbox is the store as the job queue's webhook inbox. The store records a
// store.WebhookDelivery and the jobs hand it a jobs.Delivery: the two have
// the same fields, so the conversion below stops compiling if they part.
type inbox struct{ db *store.DB }

func (i inbox) RecordWebhook(ctx context.Context, d jobs.Delivery, enqueue func(ctx context.Context, tx *sql.Tx) error) (bool, error) {
	return i.db.RecordWebhook(ctx, store.WebhookDelivery(d), enqueue)
}

// registerWebhook makes Kinde send the events the portal applies to its
// webhook endpoint. run calls it in the background, as Kinde may be slow or
// down and the admin client retries with backoff: the portal serves
// meanwhile. A failure is logged, not fatal: the reconciliation job keeps
// the directory true meanwhile, and the next start tries again.
func registerWebhook(ctx context.Context, cfg Config, admin *kinde.Admin, logger *slog.Logger) {
	if !cfg.WebhookRegister {
		return
	}
	endpoint := strings.TrimRight(cfg.PublicURL, "/") + "/webhooks/kinde"
	id, err := admin.RegisterWebhook(ctx, endpoint, kinde.WebhookEventTypes())
	if err != nil && ctx.Err() != nil {
		// Shut down before Kinde answered: not Kinde's failure.
		logger.InfoContext(ctx, "clubhouse: webhook registration stopped by shutdown", "endpoint", endpoint)
		return
	}
	if err != nil {
		logger.ErrorContext(ctx, "clubhouse: register webhook with Kinde", "endpoint", endpoint, "err", err)
		return
	}
	logger.InfoContext(ctx, "clubhouse: webhook registered with Kinde", "endpoint", endpoint, "webhook_id", id)
}
