package emulator

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rateLimiter is a fixed one-minute window over Management API calls, timed
// by the emulator's Clock. A limit of 0 turns it off.
type rateLimiter struct {
	clock Clock

	mu     sync.Mutex
	limit  int
	window time.Time
	count  int
}

func newRateLimiter(c Clock) *rateLimiter { return &rateLimiter{clock: c} }

func (l *rateLimiter) set(perMinute int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit = max(perMinute, 0)
	l.count = 0
	l.window = time.Time{}
}

func (l *rateLimiter) get() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// allow counts a call and reports whether it is within the limit; when it is
// not, reset is the time left in the current window.
func (l *rateLimiter) allow() (ok bool, reset time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit == 0 {
		return true, 0
	}
	now := l.clock.Now()
	start := now.Truncate(time.Minute)
	if !start.Equal(l.window) {
		l.window, l.count = start, 0
	}
	l.count++
	if l.count <= l.limit {
		return true, 0
	}
	return false, l.window.Add(time.Minute).Sub(now)
}

// SetRateLimit limits Management API calls to perMinute per fixed
// one-minute window of the emulator's Clock; 0 removes the limit. Calls over
// the limit get 429 with Kinde's RateLimit-Reset header (seconds until the
// window ends).
func (e *Emulator) SetRateLimit(perMinute int) { e.limiter.set(perMinute) }

// RateLimit returns the current per-minute limit (0 = none).
func (e *Emulator) RateLimit() int { return e.limiter.get() }

func (e *Emulator) withRateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		ok, reset := e.limiter.allow()
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		secs := int(math.Ceil(reset.Seconds()))
		w.Header().Set("RateLimit-Reset", strconv.Itoa(max(secs, 1)))
		op, _ := e.operationFor(r)
		e.writeAPIError(w, op, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Request was throttled.")
	})
}
