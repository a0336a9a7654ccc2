package club

import (
	"context"
	"sync"
	"time"
)

// Adding a person takes 1 Kinde call when the directory knows them (they
// are in another club of this portal), 2 when Kinde knows them, and 3 when
// they are new. Against the real Kinde each call costs tens to hundreds of
// milliseconds, so without care the response time alone would tell club B
// that someone already knew the person. The pacer removes that signal: an
// add that attached a person others knew is held until it has taken as
// long as creating a new person would.

// newPersonCalls is how many Kinde calls adding a new person takes: the
// pace every add of a person new to the club is held to.
const newPersonCalls = 3

// pacerWeight is the weight of the newest sample in the running average of
// a Kinde call's latency.
const pacerWeight = 0.2

// pacer learns how long one Kinde call takes during adds and holds the
// faster adds to the pace of the slowest common one.
type pacer struct {
	clock func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	perCall time.Duration // running average; 0 until the first add
}

// Option changes how a Service is built.
type Option func(*Service)

// WithPacing sets the clock the pacer measures adds with and how it waits
// (tests make both fake). The defaults are time.Now and a timer.
func WithPacing(clock func() time.Time, sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Service) { s.pace.clock, s.pace.sleep = clock, sleep }
}

// WithoutPacing turns the pacer off, for benchmarks of the raw add.
func WithoutPacing() Option {
	return func(s *Service) { s.pace.sleep = nil }
}

func newPacer() *pacer {
	return &pacer{clock: time.Now, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hold is called when an add that made calls Kinde calls finished, having
// started at start. It learns from the add's latency, then waits until the
// add has taken as long as newPersonCalls calls would.
func (p *pacer) hold(ctx context.Context, start time.Time, calls int) {
	if p.sleep == nil || calls <= 0 {
		return
	}
	elapsed := p.clock().Sub(start)
	p.mu.Lock()
	sample := elapsed / time.Duration(calls)
	if p.perCall == 0 {
		p.perCall = sample
	} else {
		p.perCall += time.Duration(pacerWeight * float64(sample-p.perCall))
	}
	target := p.perCall * newPersonCalls
	p.mu.Unlock()
	if wait := target - elapsed; wait > 0 && calls < newPersonCalls {
		// A cancelled request stops waiting; its answer is not read anyway.
		_ = p.sleep(ctx, wait)
	}
}
