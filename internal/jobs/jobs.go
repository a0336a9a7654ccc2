// Package jobs runs Clubhouse's background jobs on River
// (github.com/riverqueue/river): it is the one package that knows River.
// Jobs live in the portal's own database, next to the data they are about:
// SQLite through River's SQLite driver for the embedded default, PostgreSQL
// through River's database/sql driver (with a pgx listener for
// LISTEN/NOTIFY) when several portal instances share one database. A restart loses nothing, a failed job is
// retried with backoff, and with several instances each job runs on one of
// them.
//
// The jobs: applying a Kinde webhook, sending an invitation email (one job
// per invitation, queued by the store in the transaction that writes it,
// retried with the mail worker's backoff), sweeping for invitations left
// without a job, reconciling each known club with Kinde every few minutes,
// pruning old webhook deliveries, and running a bulk member import. What
// each job does is a plain function given in Handlers; this package only
// schedules, retries and measures them.
//
// It imports the domain and River, not the store: what it needs of the
// database it declares here (Inbox, Delivery, Dialect, and the *sql.DB in
// Config), and cmd/clubhouse hands it the store's.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/clubhouse/clubhouse/internal/club"
)

// Queues. Each kind of work has its own, so a long import never holds up a
// webhook, and reconciliation goes one club at a time per instance, gently
// on Kinde's rate limit.
const (
	queueWebhooks  = "webhooks"
	queueMail      = "mail"
	queueReconcile = "reconcile"
	queueImports   = "imports"
	queueHousework = river.QueueDefault
)

// Handlers are what the jobs do. A nil handler makes its job a no-op that
// succeeds (logged once per run), so the portal runs before every part is
// wired.
type Handlers struct {
	// Webhook applies one verified Kinde event to the directory.
	Webhook func(ctx context.Context, ev club.IdentityEvent) error
	// Invitation makes attempt number attempt (from 1) at sending the
	// invitation in outbox item id, and records the outcome
	// (mail.Worker.Deliver); last is true on the job's last attempt. An
	// error runs it again after InvitationBackoff, unless it was the last.
	Invitation func(ctx context.Context, id int64, attempt int, last bool) error
	// DueInvitations lists queued invitations due at now, with ids above
	// afterID, in id order, at most limit (store.DB.DueInvitations): the
	// sweep queues a job for each that has none waiting or running.
	DueInvitations func(ctx context.Context, now time.Time, afterID int64, limit int) ([]club.OutboxItem, error)
	// Clubs lists the clubs to reconcile, most in need first.
	Clubs func(ctx context.Context) ([]club.Club, error)
	// Reconcile repairs one club's members from Kinde (club.Service.Reconcile).
	Reconcile func(ctx context.Context, c club.Club) error
	// Prune forgets webhook deliveries received before a time, and the
	// directory's tombstones and unfinished changes older than it.
	Prune func(ctx context.Context, before time.Time) error
	// Import runs (or resumes) a bulk member import. It must be resumable:
	// a restart runs it again from the start of the job.
	Import func(ctx context.Context, importID int64) error
}

// Delivery is one webhook delivery Kinde made, as the Inbox records it.
type Delivery struct {
	ID         string // the webhook-id header: the same for every retry
	EventID    string
	EventType  string
	ReceivedAt time.Time
}

// Inbox records webhook deliveries for deduplication. The portal's is the
// store's (cmd/clubhouse adapts it).
type Inbox interface {
	// RecordWebhook records d and, in the same transaction, calls enqueue
	// with it. A delivery whose ID was recorded before is a duplicate:
	// nothing is written, enqueue is not called, and duplicate is true.
	// When enqueue fails nothing is recorded.
	RecordWebhook(ctx context.Context, d Delivery, enqueue func(ctx context.Context, tx *sql.Tx) error) (duplicate bool, err error)
}

// Dialect names the SQL database River's tables live in, which picks
// River's driver.
type Dialect string

// The dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config configures the jobs.
type Config struct {
	// DB is the store's connection pool (store.DB.JobsDB): River's tables
	// live in the portal's database, so a job is queued in the transaction
	// that writes what it is about.
	DB *sql.DB
	// Dialect is DB's: SQLite or Postgres.
	Dialect Dialect
	// PostgresURL, for PostgreSQL, opens a small pgx pool River uses only to
	// LISTEN for new jobs; empty means polling alone.
	PostgresURL string
	// Inbox records webhook deliveries (the store's).
	Inbox    Inbox
	Handlers Handlers
	Logger   *slog.Logger
	// Registerer receives the job metrics; nil means none.
	Registerer prometheus.Registerer

	// ReconcileEvery is how often every known club is reconciled with
	// Kinde; zero (or less) means never. There is no default here: the
	// configuration (cmd/clubhouse) owns it, so it is set in one place.
	ReconcileEvery time.Duration
	// InvitationAttempts is how many times an invitation email is tried
	// before it is given up on (mail.DefaultMaxAttempts in the portal);
	// defaultInvitationAttempts when zero.
	InvitationAttempts int
	// InvitationBackoff is how long an invitation waits after its
	// attempt-th failed attempt. The portal gives the mail worker's own
	// (mail.Worker.Backoff), so that the next try the Invitations page
	// shows is when the job runs. Nil means the client's policy
	// (RetryDelay).
	InvitationBackoff func(attempt int) time.Duration
	// PollInterval is how often River looks for jobs without a
	// notification: one second when zero.
	PollInterval time.Duration
	// WebhookCoalesce is the window in which Kinde events for one person
	// (or club) become one re-read: one second when zero, off when
	// negative. A coalesced re-read starts one to two windows after its
	// events, plus up to River's scheduling pass (about five seconds).
	WebhookCoalesce time.Duration
	// ID names this instance in River's tables; empty means a random one.
	ID string
	// Now is the clock (for pruning); nil means time.Now.
	Now func() time.Time
	// RetryDelay is how long a failed job waits before its next attempt,
	// given how many times it has failed (1 after the first failure). Nil
	// means River's backoff (failures⁴ seconds, with jitter); tests set a
	// zero delay so that a retry does not hold them up.
	RetryDelay func(failures int) time.Duration
}

// defaultInvitationAttempts is Config.InvitationAttempts when unset: the
// mail worker's DefaultMaxAttempts.
const defaultInvitationAttempts = 6

// Invitation sweeps: how often, and how many invitations one read lists.
const (
	invitationSweepEvery = 10 * time.Minute
	invitationSweepPage  = 500
)

// Timeouts. An import may run long; River counts a job running longer than
// RescueStuckJobsAfter as lost (its instance died) and runs it again, so
// that must outlast the longest timeout.
const (
	jobTimeout       = 5 * time.Minute
	importTimeout    = time.Hour
	rescueAfter      = importTimeout + 5*time.Minute
	deliveryKeepTime = 7 * 24 * time.Hour
	stopGrace        = 10 * time.Second
	fetchCooldown    = 25 * time.Millisecond
)

// Jobs is the portal's job queue and its workers. Build it with New, then
// Start it; Stop it before closing the database.
type Jobs struct {
	cfg    Config
	log    *slog.Logger
	client *river.Client[*sql.Tx]
	pool   *pgxpool.Pool // PostgreSQL listener pool, or nil
	m      *jobMetrics

	stopOnce sync.Once
}

// New runs River's migrations (under an advisory lock on PostgreSQL, so
// instances starting together migrate once) and builds the job client.
func New(ctx context.Context, cfg Config) (*Jobs, error) {
	if cfg.DB == nil {
		return nil, errors.New("jobs: new: a database is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InvitationAttempts <= 0 {
		cfg.InvitationAttempts = defaultInvitationAttempts
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.WebhookCoalesce == 0 {
		cfg.WebhookCoalesce = time.Second
	}
	j := &Jobs{cfg: cfg, log: cfg.Logger.With("component", "jobs")}

	var driver riverDriver
	switch cfg.Dialect {
	case SQLite:
		driver = riversqlite.New(cfg.DB)
	case Postgres:
		if cfg.PostgresURL != "" {
			pcfg, err := pgxpool.ParseConfig(cfg.PostgresURL)
			if err != nil {
				return nil, errors.New("jobs: new: invalid postgres url")
			}
			pcfg.MinConns, pcfg.MaxConns = 0, 2
			pool, err := pgxpool.NewWithConfig(ctx, pcfg)
			if err != nil {
				return nil, fmt.Errorf("jobs: new: listener pool: %w", err)
			}
			j.pool = pool
			driver = riverdatabasesql.NewWithPgxListener(cfg.DB, pool)
		} else {
			driver = riverdatabasesql.New(cfg.DB)
		}
	default:
		return nil, fmt.Errorf("jobs: new: unknown dialect %q", cfg.Dialect)
	}
	if err := migrate(ctx, cfg, driver, j.log); err != nil {
		j.closePool()
		return nil, err
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &webhookWorker{j: j})
	river.AddWorker(workers, &invitationWorker{j: j})
	river.AddWorker(workers, &invitationSweepWorker{j: j})
	river.AddWorker(workers, &reconcileWorker{j: j})
	river.AddWorker(workers, &reconcileClubWorker{j: j})
	river.AddWorker(workers, &pruneWorker{j: j})
	river.AddWorker(workers, &importWorker{j: j})

	periodic := []*river.PeriodicJob{
		// Invitations queue their own jobs; the sweep only catches those
		// left without one, at start (written by an earlier version, or
		// before the queue was set) and now and then after.
		river.NewPeriodicJob(river.PeriodicInterval(invitationSweepEvery),
			func() (river.JobArgs, *river.InsertOpts) { return invitationSweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: "invitation-sweep", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return pruneArgs{}, nil },
			&river.PeriodicJobOpts{ID: "prune", RunOnStart: true}),
	}
	if cfg.ReconcileEvery > 0 {
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.ReconcileEvery),
			func() (river.JobArgs, *river.InsertOpts) { return reconcileArgs{}, nil },
			&river.PeriodicJobOpts{ID: "reconcile"}))
	}

	client, err := river.NewClient(driver, &river.Config{
		ID:     cfg.ID,
		Logger: j.log.With("component", "river"),
		Queues: map[string]river.QueueConfig{
			// A fetch takes at most MaxWorkers jobs and fetches are at
			// least fetchCooldown apart: 32 workers every 25 ms leave
			// room for bursts of webhooks well over 200 a second.
			queueWebhooks:  {MaxWorkers: 32},
			queueMail:      {MaxWorkers: 1},
			queueReconcile: {MaxWorkers: 1},
			queueImports:   {MaxWorkers: 2},
			queueHousework: {MaxWorkers: 1},
		},
		Workers:              workers,
		PeriodicJobs:         periodic,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, fetchCooldown),
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: rescueAfter,
		RetryPolicy:          retryPolicy(cfg.RetryDelay),
		// Jobs that set no MaxAttempts of their own (webhooks) get 12:
		// about eleven hours of River's backoff, long enough to outlast
		// an outage of the database or of Kinde.
		MaxAttempts: 12,
		// Webhooks alone can make thousands of jobs an hour; finished
		// ones are kept an hour for operators, not River's default day.
		CompletedJobRetentionPeriod: time.Hour,
	})
	if err != nil {
		j.closePool()
		return nil, fmt.Errorf("jobs: new client: %w", err)
	}
	j.client = client
	m, err := newMetrics(cfg.Registerer, cfg.DB)
	if err != nil {
		j.closePool()
		return nil, err
	}
	j.m = m
	return j, nil
}

// riverDriver is the driver type River's client and migrator take for
// database/sql transactions; both of the portal's drivers are one.
type riverDriver = riverdriver.Driver[*sql.Tx]

// migrate brings River's tables up to date. On PostgreSQL it holds an
// advisory lock for the current schema meanwhile, so instances starting
// together migrate one after the other (River's migrations run one
// transaction each there: a new enum value cannot be used in the
// transaction that adds it). On SQLite the store's single writer
// connection runs them one after the other by itself.
func migrate(ctx context.Context, cfg Config, driver riverDriver, logger *slog.Logger) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: logger.With("component", "river-migrate")})
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	var res *rivermigrate.MigrateResult
	if cfg.Dialect == Postgres {
		conn, err := cfg.DB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		defer conn.Close()
		const lock = `hashtext('clubhouse river migrations ' || current_schema())`
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+lock+`)`); err != nil {
			return fmt.Errorf("jobs: migrate: lock: %w", err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lock+`)`)
		}()
		if res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
	} else if res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	for _, v := range res.Versions {
		logger.InfoContext(ctx, "river migration applied", "version", v.Version, "name", v.Name)
	}
	return nil
}

// Start starts working jobs (and, on the elected leader, inserting the
// periodic ones) until Stop.
func (j *Jobs) Start(ctx context.Context) error {
	if err := j.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop lets running jobs finish for a few seconds, then cancels them (a
// cancelled job is retried, so an import resumes on the next start) and
// stops. It closes the listener pool. It is safe to call more than once.
func (j *Jobs) Stop(ctx context.Context) error {
	var err error
	j.stopOnce.Do(func() {
		soft, cancel := context.WithTimeout(ctx, stopGrace)
		defer cancel()
		if serr := j.client.Stop(soft); serr != nil {
			hard, cancelHard := context.WithTimeout(context.WithoutCancel(ctx), stopGrace)
			defer cancelHard()
			if herr := j.client.StopAndCancel(hard); herr != nil {
				err = fmt.Errorf("jobs: stop: %w", herr)
			}
		}
		j.closePool()
	})
	return err
}

func (j *Jobs) closePool() {
	if j.pool != nil {
		j.pool.Close()
	}
}

// AcceptWebhook records a verified delivery and queues the job that applies
// it, in one transaction. A delivery id seen before is a duplicate (a
// retry, or the same delivery reaching two instances): nothing is queued.
func (j *Jobs) AcceptWebhook(ctx context.Context, deliveryID string, ev club.IdentityEvent) (duplicate bool, err error) {
	if j.cfg.Inbox == nil {
		return false, errors.New("jobs: accept webhook: no inbox configured")
	}
	d := Delivery{ID: deliveryID, EventID: ev.ID, EventType: ev.Type, ReceivedAt: j.cfg.Now()}
	dup, err := j.cfg.Inbox.RecordWebhook(ctx, d, func(ctx context.Context, tx *sql.Tx) error {
		args := webhookArgs{DeliveryID: deliveryID, Subject: eventSubject(ev), Event: ev}
		_, err := j.client.InsertTx(ctx, tx, args, coalesceOpts(j.cfg.Now(), j.cfg.WebhookCoalesce))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("jobs: accept webhook: %w", err)
	}
	return dup, nil
}

// EnqueueImport queues the bulk import importID. Queuing an import that is
// queued or running already does nothing.
func (j *Jobs) EnqueueImport(ctx context.Context, importID int64) error {
	if _, err := j.client.Insert(ctx, importArgs{ImportID: importID}, nil); err != nil {
		return fmt.Errorf("jobs: enqueue import %d: %w", importID, err)
	}
	return nil
}

// EnqueueInvitationTx queues the job that sends the invitation in outbox
// item id, in tx: the store calls it in the transaction that writes the
// item (store.InvitationQueue), so that the job exists exactly when the
// item does.
func (j *Jobs) EnqueueInvitationTx(ctx context.Context, tx *sql.Tx, id int64) error {
	args, opts := j.invitationJob(id, 0)
	if _, err := j.client.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("jobs: enqueue invitation %d: %w", id, err)
	}
	return nil
}

// invitationJob is the job of outbox item id, which attempted attempts
// have already tried (0 for a new invitation): its attempts are numbered
// on from there, and it has the ones left.
func (j *Jobs) invitationJob(id int64, attempted int) (invitationArgs, *river.InsertOpts) {
	return invitationArgs{ID: id, Attempted: attempted},
		&river.InsertOpts{MaxAttempts: max(j.cfg.InvitationAttempts-attempted, 1)}
}

// retryPolicy is River's retry policy with delay's waits, or nil (River's
// default) when delay is nil.
func retryPolicy(delay func(failures int) time.Duration) river.ClientRetryPolicy {
	if delay == nil {
		return nil
	}
	return delayPolicy(delay)
}

// delayPolicy schedules a failed job's next attempt delay(failures) from
// now. It counts failures as River's own policy does (the errors recorded
// so far plus this one), as a snoozed job's attempt count goes back down.
type delayPolicy func(failures int) time.Duration

func (p delayPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(max(p(len(job.Errors)+1), 0))
}

// uniqueQueued makes a job unique among the jobs of its kind and args that
// have not finished, so asking twice queues it once.
func uniqueQueued() river.UniqueOpts {
	return river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}
}
