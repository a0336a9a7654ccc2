package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/clubhouse/clubhouse/internal/club"
)

// Job kinds, as stored in river_job.kind and labelled in metrics.
const (
	KindWebhook         = "clubhouse.webhook"
	KindInvitation      = "clubhouse.invitation"
	KindInvitationSweep = "clubhouse.invitation_sweep"
	KindReconcile       = "clubhouse.reconcile"
	KindReconcileClub   = "clubhouse.reconcile_club"
	KindPrune           = "clubhouse.prune"
	KindImport          = "clubhouse.import"
)

// webhookArgs carries a verified Kinde event: a notification that the
// person or club it names changed, which the job re-reads from Kinde.
// Subject names them ("user:<id>", "org:<code>"); jobs are unique by it
// within a coalescing window (see coalesceOpts), so a burst of events for
// one person costs one re-read.
type webhookArgs struct {
	DeliveryID string             `json:"delivery_id"`
	Subject    string             `json:"subject" river:"unique"`
	Event      club.IdentityEvent `json:"event"`
}

func (webhookArgs) Kind() string { return KindWebhook }
func (webhookArgs) InsertOpts() river.InsertOpts {
	// MaxAttempts is the client's (see New).
	return river.InsertOpts{Queue: queueWebhooks}
}

// eventSubject names whom an event is about.
func eventSubject(ev club.IdentityEvent) string {
	switch {
	case ev.Person != nil:
		return "user:" + ev.Person.Person.ID
	case ev.Club != nil:
		return "org:" + ev.Club.Club.Code
	}
	return "event:" + ev.ID
}

// coalesceOpts makes the events for one subject that arrive in the same
// window of length w one job. The job is scheduled a whole window after
// its window closes, and River keys it by that time: every event of the
// window arrives before the job starts (with clocks apart by less than w),
// so none is folded into a re-read that began before it. A later event
// falls in a later window and gets a job of its own. w <= 0 turns it off:
// one job per event, at once.
func coalesceOpts(now time.Time, w time.Duration) *river.InsertOpts {
	if w <= 0 {
		return nil
	}
	return &river.InsertOpts{
		ScheduledAt: now.Truncate(w).Add(2 * w),
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByPeriod: w},
	}
}

// invitationArgs names one outbox item: the job sends its email.
type invitationArgs struct {
	ID int64 `json:"id" river:"unique"`
	// Attempted is how many attempts the invitation had before this job
	// (a job the sweep queued again): this job's attempts are numbered on
	// from there, so that their outcomes stay fenced against older ones.
	Attempted int `json:"attempted,omitempty"`
}

func (invitationArgs) Kind() string { return KindInvitation }
func (invitationArgs) InsertOpts() river.InsertOpts {
	// One job per invitation: unique by ID (Attempted aside) among the
	// jobs not finished. MaxAttempts is set per job (Jobs.invitationJob).
	return river.InsertOpts{Queue: queueMail, UniqueOpts: uniqueQueued()}
}

type invitationSweepArgs struct{}

func (invitationSweepArgs) Kind() string { return KindInvitationSweep }
func (invitationSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueHousework, MaxAttempts: 3, UniqueOpts: uniqueQueued()}
}

type reconcileArgs struct{}

func (reconcileArgs) Kind() string { return KindReconcile }
func (reconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueHousework, MaxAttempts: 3, UniqueOpts: uniqueQueued()}
}

type reconcileClubArgs struct {
	Code string `json:"code" river:"unique"`
	Name string `json:"name"`
}

func (reconcileClubArgs) Kind() string { return KindReconcileClub }
func (reconcileClubArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueReconcile, MaxAttempts: 5, UniqueOpts: uniqueQueued()}
}

type pruneArgs struct{}

func (pruneArgs) Kind() string { return KindPrune }
func (pruneArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueHousework, MaxAttempts: 3, UniqueOpts: uniqueQueued()}
}

type importArgs struct {
	ImportID int64 `json:"import_id"`
}

func (importArgs) Kind() string { return KindImport }
func (importArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueImports, MaxAttempts: 25, UniqueOpts: uniqueQueued()}
}

// run calls fn (when the handler is set) and records the outcome.
func (j *Jobs) run(ctx context.Context, kind string, set bool, fn func(ctx context.Context) error) error {
	if !set {
		j.log.DebugContext(ctx, "job has no handler; nothing to do", "kind", kind)
		return nil
	}
	start := time.Now()
	err := fn(ctx)
	j.m.observe(kind, err, time.Since(start))
	if err != nil {
		j.log.WarnContext(ctx, "job failed; it will be retried", "kind", kind, "err", err)
	}
	return err
}

type webhookWorker struct {
	river.WorkerDefaults[webhookArgs]
	j *Jobs
}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[webhookArgs]) error {
	h := w.j.cfg.Handlers.Webhook
	return w.j.run(ctx, KindWebhook, h != nil, func(ctx context.Context) error { return h(ctx, job.Args.Event) })
}

type invitationWorker struct {
	river.WorkerDefaults[invitationArgs]
	j *Jobs
}

// attempt is the number of job's current attempt at its invitation.
func (invitationWorker) attempt(job *river.Job[invitationArgs]) int {
	return job.Args.Attempted + job.Attempt
}

func (w *invitationWorker) Work(ctx context.Context, job *river.Job[invitationArgs]) error {
	h := w.j.cfg.Handlers.Invitation
	return w.j.run(ctx, KindInvitation, h != nil, func(ctx context.Context) error {
		return h(ctx, job.Args.ID, w.attempt(job), job.Attempt >= job.MaxAttempts)
	})
}

// NextRetry waits InvitationBackoff after a failed attempt; the zero time
// leaves it to the client's policy.
func (w *invitationWorker) NextRetry(job *river.Job[invitationArgs]) time.Time {
	if b := w.j.cfg.InvitationBackoff; b != nil {
		return time.Now().Add(b(w.attempt(job)))
	}
	return time.Time{}
}

type invitationSweepWorker struct {
	river.WorkerDefaults[invitationSweepArgs]
	j *Jobs
}

// Work queues a job for every due invitation that has none waiting or
// running: River's uniqueness skips those that have one, so this is safe
// beside the jobs the store queues.
func (w *invitationSweepWorker) Work(ctx context.Context, _ *river.Job[invitationSweepArgs]) error {
	h := w.j.cfg.Handlers.DueInvitations
	return w.j.run(ctx, KindInvitationSweep, h != nil, func(ctx context.Context) error {
		now := w.j.cfg.Now()
		queued := 0
		for after := int64(0); ; {
			items, err := h(ctx, now, after, invitationSweepPage)
			if err != nil {
				return fmt.Errorf("jobs: invitation sweep: %w", err)
			}
			if len(items) == 0 {
				break
			}
			params := make([]river.InsertManyParams, len(items))
			for i, it := range items {
				args, opts := w.j.invitationJob(it.ID, it.Attempts)
				params[i] = river.InsertManyParams{Args: args, InsertOpts: opts}
				after = it.ID
			}
			res, err := w.j.client.InsertMany(ctx, params)
			if err != nil {
				return fmt.Errorf("jobs: invitation sweep: %w", err)
			}
			for _, r := range res {
				if !r.UniqueSkippedAsDuplicate {
					queued++
				}
			}
			if len(items) < invitationSweepPage {
				break
			}
		}
		if queued > 0 {
			w.j.log.InfoContext(ctx, "invitations without a job queued", "count", queued)
		}
		return nil
	})
}

type reconcileWorker struct {
	river.WorkerDefaults[reconcileArgs]
	j *Jobs
}

// Work queues one job per known club, so each club is retried on its own
// and the clubs are spread over the instances' reconcile queues.
func (w *reconcileWorker) Work(ctx context.Context, _ *river.Job[reconcileArgs]) error {
	h := w.j.cfg.Handlers.Clubs
	return w.j.run(ctx, KindReconcile, h != nil, func(ctx context.Context) error {
		clubs, err := h(ctx)
		if err != nil {
			return fmt.Errorf("jobs: reconcile: list clubs: %w", err)
		}
		if len(clubs) == 0 {
			return nil
		}
		params := make([]river.InsertManyParams, len(clubs))
		for i, c := range clubs {
			params[i] = river.InsertManyParams{Args: reconcileClubArgs{Code: c.Code, Name: c.Name}}
		}
		if _, err := w.j.client.InsertMany(ctx, params); err != nil {
			return fmt.Errorf("jobs: reconcile: queue clubs: %w", err)
		}
		return nil
	})
}

type reconcileClubWorker struct {
	river.WorkerDefaults[reconcileClubArgs]
	j *Jobs
}

func (w *reconcileClubWorker) Work(ctx context.Context, job *river.Job[reconcileClubArgs]) error {
	h := w.j.cfg.Handlers.Reconcile
	return w.j.run(ctx, KindReconcileClub, h != nil, func(ctx context.Context) error {
		return h(ctx, club.Club{Code: job.Args.Code, Name: job.Args.Name})
	})
}

type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	j *Jobs
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	h := w.j.cfg.Handlers.Prune
	return w.j.run(ctx, KindPrune, h != nil, func(ctx context.Context) error {
		return h(ctx, w.j.cfg.Now().Add(-deliveryKeepTime))
	})
}

type importWorker struct {
	river.WorkerDefaults[importArgs]
	j *Jobs
}

func (w *importWorker) Timeout(*river.Job[importArgs]) time.Duration { return importTimeout }

func (w *importWorker) Work(ctx context.Context, job *river.Job[importArgs]) error {
	h := w.j.cfg.Handlers.Import
	return w.j.run(ctx, KindImport, h != nil, func(ctx context.Context) error { return h(ctx, job.Args.ImportID) })
}
