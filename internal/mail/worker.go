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

// Defaults for WorkerConfig.
const (
	DefaultMaxAttempts = 6
	DefaultLease       = 5 * time.Minute
	DefaultBatchSize   = 10
)

// markTimeout bounds the outbox write that records a result. That write
// runs even when the worker is being stopped, so that an email that went
// out is not sent again.
const markTimeout = 10 * time.Second

// WorkerConfig tunes a Worker. Zero values take the defaults.
type WorkerConfig struct {
	// BaseURL is the portal's public URL, e.g. "https://clubhouse.example.org".
	BaseURL string
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
	// MaxAttempts is how many times an invitation is tried before the worker
	// gives up on it (DefaultMaxAttempts).
	MaxAttempts int
	// Backoff is how long to wait after the attempt-th failed attempt
	// (1-based); DefaultBackoff when nil.
	Backoff func(attempt int) time.Duration
	// Lease hides claimed items from other workers while they are being
	// sent. It must outlast a batch of sends (DefaultLease).
	Lease time.Duration
	// BatchSize is how many items one claim takes (DefaultBatchSize).
	BatchSize int
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

// Worker drains the invitation outbox: it claims the invitations that are
// due, renders and sends each one, and records the result. A failed send is
// retried with backoff; after MaxAttempts the invitation is marked failed
// and an audit event tells the club's owner.
//
// It keeps no schedule of its own: a retry's time is stored in the outbox,
// so whoever calls RunOnce (in the portal, a periodic River job) picks the
// retry up on the first pass after it falls due, on any instance.
//
// OutboxItem.Attempts is read as the number of attempts already recorded
// (MarkRetry counts one), so the attempt in hand is Attempts+1.
type Worker struct {
	outbox club.Outbox
	sender Sender
	render RenderFunc
	cfg    WorkerConfig
	log    *slog.Logger
}

// NewWorker returns a worker that takes invitations from outbox, renders
// them with render and sends them with sender.
func NewWorker(outbox club.Outbox, sender Sender, render RenderFunc, cfg WorkerConfig) *Worker {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	return &Worker{
		outbox: outbox,
		sender: sender,
		render: render,
		cfg:    cfg,
		log:    cfg.Logger.WithGroup("mail"),
	}
}

// RunOnce handles every invitation that is due now and returns how many it
// handled (sent, rescheduled or given up). It stops at the first outbox
// error, or when ctx is done; an item left mid-way comes back when its
// lease runs out.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	handled := 0
	for {
		if err := ctx.Err(); err != nil {
			return handled, fmt.Errorf("mail: run invitations: %w", err)
		}
		items, err := w.outbox.ClaimDue(ctx, w.cfg.Now(), w.cfg.BatchSize, w.cfg.Lease)
		if err != nil {
			return handled, fmt.Errorf("mail: claim due invitations: %w", err)
		}
		for _, item := range items {
			if err := ctx.Err(); err != nil {
				return handled, fmt.Errorf("mail: run invitations: %w", err)
			}
			if err := w.deliver(ctx, item); err != nil {
				return handled, err
			}
			handled++
		}
		if len(items) < w.cfg.BatchSize {
			return handled, nil
		}
	}
}

// deliver makes one attempt at one invitation and records the outcome.
func (w *Worker) deliver(ctx context.Context, item club.OutboxItem) error {
	inv := item.Invitation
	attempt := item.Attempts + 1
	log := w.log.With("item", item.ID, "club", inv.ClubCode, "attempt", attempt)

	reason, sendErr := w.attempt(ctx, inv)
	if sendErr == nil {
		markCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
		defer cancel()
		if err := w.outbox.MarkSent(markCtx, item.ID, w.cfg.Now()); err != nil {
			return fmt.Errorf("mail: mark invitation %d sent: %w", item.ID, err)
		}
		log.Info("invitation sent")
		return nil
	}
	if ctx.Err() != nil {
		// Stopping is not the invitation's fault: leave it to its lease
		// without counting an attempt.
		return fmt.Errorf("mail: send invitation %d: %w", item.ID, ctx.Err())
	}

	if attempt >= w.cfg.MaxAttempts {
		ev := club.AuditEvent{
			ClubCode:    inv.ClubCode,
			ActorName:   "Clubhouse",
			Action:      club.ActionInvitationFailed,
			TargetEmail: inv.Email,
			Detail:      fmt.Sprintf("Invitation to %s could not be sent", inv.Email),
			At:          w.cfg.Now(),
		}
		if err := w.outbox.MarkFailed(ctx, item.ID, reason, ev); err != nil {
			return fmt.Errorf("mail: mark invitation %d failed: %w", item.ID, err)
		}
		log.Warn("invitation given up", "reason", reason, "err", redact(sendErr, inv.Email))
		return nil
	}

	next := w.cfg.Now().Add(w.cfg.Backoff(attempt))
	if err := w.outbox.MarkRetry(ctx, item.ID, next, reason); err != nil {
		return fmt.Errorf("mail: mark invitation %d for retry: %w", item.ID, err)
	}
	log.Warn("invitation will be retried", "reason", reason, "next", next, "err", redact(sendErr, inv.Email))
	return nil
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

// redact is err's text with the recipient's address taken out: mail
// libraries name the recipient in their errors, and logs must not hold full
// email addresses.
func redact(err error, email string) string {
	msg := err.Error()
	if email == "" {
		return msg
	}
	return strings.ReplaceAll(msg, email, "<recipient>")
}
