package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// RenderFunc turns an invitation and its sign-in link into an email's
// subject and bodies. The views package provides it; cmd wires it in.
type RenderFunc func(inv club.Invitation, signInURL string) (subject, html, text string, err error)

// DefaultMaxAttempts is how many times an invitation is tried before it is
// given up on. The job queue enforces it (cmd wires it into internal/jobs)
// and tells Deliver which attempt is the last.
const DefaultMaxAttempts = 6

// markTimeout bounds the outbox write that records a sent email. That write
// runs even when the job is being stopped, so that an email that went out
// is not sent again.
const markTimeout = 10 * time.Second

// WorkerConfig tunes a Worker. Zero values take the defaults.
type WorkerConfig struct {
	// BaseURL is the portal's public URL, e.g. "https://clubhouse.example.org".
	BaseURL string
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
	// Backoff is how long to wait after the attempt-th failed attempt
	// (1-based); DefaultBackoff when nil. The job queue must wait the same
	// (cmd gives it Worker.Backoff), so that the next try the Invitations
	// page shows is when the job runs again.
	Backoff func(attempt int) time.Duration
}

// DefaultBackoff waits 30s, 2m, 10m, 30m, then 2h between attempts.
func DefaultBackoff(attempt int) time.Duration {
	switch {
	case attempt <= 1:
		return 30 * time.Second
	case attempt == 2:
		return 2 * time.Minute
	case attempt == 3:
		return 10 * time.Minute
	case attempt == 4:
		return 30 * time.Minute
	default:
		return 2 * time.Hour
	}
}

// Worker sends invitation emails, one attempt at a time: the job queue
// (internal/jobs) runs one job per outbox item, retries it with backoff
// and calls Deliver for each attempt. Deliver renders and sends the email
// and records the outcome in the outbox; after the last attempt the
// invitation is marked given up and an audit event tells the club's owner.
//
// Outcomes are recorded fenced by the attempt's number (see club.Outbox):
// an attempt that ran on after a newer one took over its job, which River
// does for a job it thinks stuck, cannot overwrite what the newer one
// recorded.
type Worker struct {
	outbox club.Outbox
	sender Sender
	render RenderFunc
	cfg    WorkerConfig
	log    *slog.Logger
}

// NewWorker returns a worker that sends the invitations of outbox, rendered
// with render, through sender.
func NewWorker(outbox club.Outbox, sender Sender, render RenderFunc, cfg WorkerConfig) *Worker {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	return &Worker{
		outbox: outbox,
		sender: sender,
		render: render,
		cfg:    cfg,
		log:    cfg.Logger.WithGroup("mail"),
	}
}

// Deliver makes attempt number attempt (counting from 1) at the outbox item
// id; last is true for the job's last attempt. It sends the email unless the
// item is settled already or a newer attempt recorded an outcome, and
// records what happened.
//
// A nil error means the job is done: the email went out, the invitation was
// given up on, or another attempt owns the item. An error means the job
// should run again: the attempt failed and was recorded for a retry
// Backoff(attempt) from now, the outbox could not be read or written, or ctx
// ended mid-send (stopping is not the invitation's fault: nothing is
// recorded, and the error wraps ctx's so the job queue can tell).
func (w *Worker) Deliver(ctx context.Context, id int64, attempt int, last bool) error {
	log := w.log.With("item", id, "attempt", attempt)
	item, err := w.outbox.OutboxItem(ctx, id)
	if errors.Is(err, club.ErrNotFound) {
		// Nothing to send, and retrying will not change that.
		log.Warn("invitation not in the outbox; nothing sent")
		return nil
	}
	if err != nil {
		return fmt.Errorf("mail: read invitation %d: %w", id, err)
	}
	if item.Status != club.InvitationQueued || item.Attempts >= attempt {
		log.Info("invitation settled by another attempt; nothing sent", "status", string(item.Status), "recorded_attempt", item.Attempts)
		return nil
	}
	inv := item.Invitation
	log = log.With("club", inv.ClubCode)

	reason, sendErr := w.attempt(ctx, inv)
	if sendErr == nil {
		markCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
		defer cancel()
		recorded, err := w.outbox.MarkSent(markCtx, id, attempt, w.cfg.Now())
		if err != nil {
			return fmt.Errorf("mail: mark invitation %d sent: %w", id, err)
		}
		log.Info("invitation sent", "recorded", recorded)
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: send invitation %d: %w", id, err)
	}

	if last {
		ev := club.AuditEvent{
			ClubCode:    inv.ClubCode,
			ActorName:   "Clubhouse",
			Action:      club.ActionInvitationFailed,
			TargetEmail: inv.Email,
			Detail:      fmt.Sprintf("Invitation to %s could not be sent", inv.Email),
			At:          w.cfg.Now(),
		}
		recorded, err := w.outbox.MarkFailed(ctx, id, attempt, reason, ev)
		if err != nil {
			return fmt.Errorf("mail: mark invitation %d failed: %w", id, err)
		}
		log.Warn("invitation given up", "reason", reason, "recorded", recorded, "err", club.LogError(sendErr))
		return nil
	}

	next := w.cfg.Now().Add(w.cfg.Backoff(attempt))
	recorded, err := w.outbox.MarkRetry(ctx, id, attempt, next, reason)
	if err != nil {
		return fmt.Errorf("mail: mark invitation %d for retry: %w", id, err)
	}
	if !recorded {
		log.Info("invitation settled by another attempt meanwhile; not retried", "reason", reason)
		return nil
	}
	log.Warn("invitation will be retried", "reason", reason, "next", next, "err", club.LogError(sendErr))
	// The reason alone: it is safe to store (River keeps job errors) and
	// to log; the cause, which may name servers, was logged just above.
	return &RetryError{Reason: reason, Next: next}
}

// Backoff is how long the job queue should wait after the attempt-th failed
// attempt: the wait Deliver records as the next try.
func (w *Worker) Backoff(attempt int) time.Duration { return w.cfg.Backoff(attempt) }

// RetryError is what Deliver returns after a failed attempt it recorded for
// a retry: the job should run again at Next.
type RetryError struct {
	Reason string
	Next   time.Time
}

func (e *RetryError) Error() string {
	return "mail: invitation not sent, to be retried: " + e.Reason
}

// attempt renders and sends inv. On failure it returns a reason that is safe
// to store and show, and the error for the logs.
func (w *Worker) attempt(ctx context.Context, inv club.Invitation) (string, error) {
	subject, html, text, err := w.render(inv, w.SignInURL(inv))
	if err != nil {
		return "the email could not be written", fmt.Errorf("mail: render invitation: %w", err)
	}
	err = w.sender.Send(ctx, Message{To: inv.Email, Subject: subject, HTML: html, Text: text})
	if err == nil {
		return "", nil
	}
	var se *SendError
	if errors.As(err, &se) && se.Reason != "" {
		return se.Reason, err
	}
	return "the email could not be sent", err
}

// SignInURL is the link in inv's email: the portal's own login route, which
// sends the person to Kinde for the club with their email pre-filled.
func (w *Worker) SignInURL(inv club.Invitation) string {
	return w.cfg.BaseURL + "/auth/login?org_code=" + url.QueryEscape(inv.ClubCode) +
		"&login_hint=" + url.QueryEscape(inv.Email)
}
