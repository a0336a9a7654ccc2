package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/clubhouse/clubhouse/internal/metrics"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// The middleware chain, in order. handler composes the shared part around
// the router; protect composes the per-route part around each handler:
//
//	recover → request log → metrics → security headers → cross-origin
//	protection → router → session → authentication → staff view gate
//	(read-only, expiry, the viewed person's identity) → authorization →
//	handler
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.Method+" "+rt.Pattern, s.protect(rt))
	}
	mux.Handle("/", s.protect(route{Pattern: "/", Access: anyone, Handler: s.handleNotFound()}))
	return s.recoverPanics(s.logRequests(s.measure(s.secureHeaders(s.crossOrigin(mux)))))
}

// protect wraps one route's handler in what its access level needs.
func (s *Server) protect(rt route) http.Handler {
	h := rt.Handler
	if rt.Access != open {
		h = s.withSession(s.authenticate(s.viewAsGate(rt, s.authorize(rt, h))))
	}
	name := strings.TrimSpace(rt.Method + " " + rt.Pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := infoFrom(r.Context()); info != nil {
			info.route = name
		}
		if rt.Access != open {
			// Pages show personal data: never keep them in shared caches
			// or the back-forward cache after sign-out.
			w.Header().Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

// reqInfo is what the outer middleware learns about a request from the
// inner ones.
type reqInfo struct {
	id     string
	route  string
	userID string
}

type ctxKey int

const (
	infoKey ctxKey = iota
	sessionKey
	identityKey
	viewAsKey
)

func infoFrom(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(infoKey).(*reqInfo)
	return i
}

// statusWriter records the status and size of a response, and runs
// beforeWrite once, just before the header goes out.
type statusWriter struct {
	http.ResponseWriter
	status      int
	bytes       int
	beforeWrite func()
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		if w.beforeWrite != nil {
			f := w.beforeWrite
			w.beforeWrite = nil
			f()
		}
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// recoverPanics turns a panic into a logged 500 page, if nothing was
// written yet.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.logger.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if sw.status == 0 {
				s.serveError(sw, r, errors.New("web: panic"))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// logRequests logs one line per request: method, path (never the query,
// which may hold emails or codes), route, status, duration and request id.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{id: newRequestID()}
		w.Header().Set("X-Request-Id", info.id)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey, info)))
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", info.route),
			slog.Int("status", sw.code()),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", info.id),
		}
		if info.userID != "" {
			attrs = append(attrs, slog.String("user_id", info.userID))
		}
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}

// metrics are the HTTP layer's Prometheus collectors.
type httpMetrics struct {
	latency *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *httpMetrics {
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "clubhouse_http_request_duration_seconds",
		Help:    "Time to serve portal HTTP requests, by route pattern, method and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method", "status"})
	// A clash with another kind of collector leaves this one unregistered:
	// the portal still serves, its latency just goes unexported.
	latency, _ = metrics.Register(reg, latency)
	return &httpMetrics{latency: latency}
}

// measure observes request latency by route pattern (never by raw path,
// which would make a series per member id).
func (s *Server) measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		rt := "unmatched"
		if info := infoFrom(r.Context()); info != nil && info.route != "" {
			rt = info.route
		}
		s.metrics.latency.WithLabelValues(rt, r.Method, strconv.Itoa(sw.code())).Observe(time.Since(start).Seconds())
	})
}

// contentSecurityPolicy returns the CSP with a %s where each request's
// nonce goes.
func contentSecurityPolicy(kindeIssuer string) string {
	formAction := "'self'"
	if o := origin(kindeIssuer); o != "" {
		formAction += " " + o
	}
	return "default-src 'self'; script-src 'self' 'nonce-%s'; style-src 'self'; img-src 'self' data:; " +
		"frame-src 'self'; object-src 'none'; base-uri 'none'; form-action " + formAction + "; frame-ancestors 'none'"
}

// strictTransportSecurity keeps browsers on https for a year once they
// have seen the portal there.
const strictTransportSecurity = "max-age=31536000; includeSubDomains"

// secureHeaders sets the security headers and a fresh CSP nonce, which the
// views read from the context for their script tags.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		nonce := base64.RawURLEncoding.EncodeToString(b)
		h := w.Header()
		h.Set("Content-Security-Policy", fmt.Sprintf(s.csp, nonce))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if s.secure {
			// Only when browsers reach the portal over https (the same
			// switch as Secure cookies): TLS usually ends at a proxy, so
			// the request itself cannot tell, and over plain http the
			// header would lock people out of a site that has no https.
			h.Set("Strict-Transport-Security", strictTransportSecurity)
		}
		next.ServeHTTP(w, r.WithContext(templ.WithNonce(r.Context(), nonce)))
	})
}

// crossOrigin refuses cross-origin state-changing requests before any
// handler runs, with a page that says so.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	// Kinde's webhooks come from Kinde's servers, not a browser, and carry
	// no cookie: the signature on the body is their protection.
	cop.AddInsecureBypassPattern("POST " + webhookPattern)
	if o := origin(s.publicURL); o != "" {
		if err := cop.AddTrustedOrigin(o); err != nil {
			s.logger.Warn("web: public URL is not a valid trusted origin", "err", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveError(w, r, errFromAnotherSite)
	}))
	return cop.Handler(next)
}

var errFromAnotherSite = &club.Error{Code: club.EFORBIDDEN,
	Message: "This request came from another website, so it was refused. Nothing was changed. Go back to the portal and try again."}

// withSession loads the session into the context and saves it just before
// the response header is written, so every handler's changes (sign-in,
// flashes, refreshed tokens) are kept without each handler saving.
func (s *Server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.sessions.Load(r)
		if err != nil {
			s.serveError(w, r, &club.Error{Code: club.EUNAVAILABLE, Err: err,
				Message: "The portal could not read your session. Nothing was changed. Try again in a minute."})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey, sess))
		sw := &statusWriter{ResponseWriter: w}
		sw.beforeWrite = func() {
			if err := sess.Save(r, sw.ResponseWriter); err != nil {
				s.logger.ErrorContext(r.Context(), "web: save session", "err", err)
			}
		}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.WriteHeader(http.StatusOK)
		}
	})
}

func sessionFrom(ctx context.Context) *session.Session {
	sess, _ := ctx.Value(sessionKey).(*session.Session)
	return sess
}

// identityFrom returns the signed-in person's verified identity.
func identityFrom(ctx context.Context) (club.Identity, bool) {
	id, ok := ctx.Value(identityKey).(club.Identity)
	return id, ok
}

// refreshSoon is how close to its expiry an access token is refreshed.
const refreshSoon = 2 * time.Minute

// authenticate reads the signed-in person from the session and makes sure
// their claims are current before anything is authorized: tokens about to
// expire, or read before the person's roles last changed, are refreshed
// through Kinde first. A request whose claims are current costs no Kinde
// call.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := sessionFrom(r.Context())
		u, ok := sess.User()
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		fresh, err := s.ensureFresh(r.Context(), sess, u)
		if err != nil {
			if errors.Is(err, club.ErrSessionEnded) {
				s.endSession(w, r, sess, err)
				return
			}
			s.serveError(w, r, err)
			return
		}
		if info := infoFrom(r.Context()); info != nil {
			info.userID = fresh.Identity.UserID
		}
		if u.Identity.ClubCode != "" && fresh.Identity.ClubCode != u.Identity.ClubCode {
			// The refreshed tokens no longer carry the club: the person
			// was removed from it.
			sess.AddFlash(session.FlashInfo, "You are no longer a member of "+clubLabel(u.Identity)+".")
			s.redirect(w, r.WithContext(context.WithValue(r.Context(), identityKey, fresh.Identity)), "/")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey, fresh.Identity)))
	})
}

// ensureFresh refreshes u's tokens when they expire soon or when their
// claims were read before the person's roles last changed.
func (s *Server) ensureFresh(ctx context.Context, sess *session.Session, u session.SignedIn) (session.SignedIn, error) {
	now := s.now()
	due := u.Tokens.Expiry.Sub(now) < refreshSoon
	if !due {
		stale, err := s.fresh.ClaimsStaleSince(ctx, u.Identity.UserID)
		if err != nil && !errors.Is(err, club.ErrNotFound) {
			return u, fmt.Errorf("web: claims freshness: %w", err)
		}
		// Stores keep timestamps at millisecond precision or better; a mark
		// in the same millisecond as the last check counts as newer, so a
		// role change is never missed (at worst one extra refresh).
		due = !stale.IsZero() && !stale.Before(u.ClaimsCheckedAt.Truncate(time.Millisecond))
	}
	if !due {
		return u, nil
	}
	res, err := s.refreshes.do(sess.ID(), func() (refreshed, error) {
		id, tok, err := s.auth.Refresh(ctx, u.Tokens)
		return refreshed{id, tok}, err
	})
	if err != nil {
		return u, err
	}
	u.Identity, u.Tokens, u.ClaimsCheckedAt = res.identity, res.tokens, now
	sess.SetUser(u)
	return u, nil
}

// endSession signs out a person Kinde refused to refresh, and tells them
// why on the landing page.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, sess *session.Session, cause error) {
	sess.Reset()
	sess.AddFlash(session.FlashInfo, club.ErrorMessage(cause))
	s.redirect(w, r, "/")
}

type refreshed struct {
	identity club.Identity
	tokens   club.Tokens
}

// refreshGroup makes concurrent requests of one session share one token
// refresh, so a rotated refresh token is used once.
type refreshGroup struct{ g singleflight.Group }

func newRefreshGroup() *refreshGroup { return &refreshGroup{} }

func (g *refreshGroup) do(key string, f func() (refreshed, error)) (refreshed, error) {
	if key == "" {
		return f()
	}
	v, err, _ := g.g.Do(session.RecordKey(key), func() (any, error) { return f() })
	res, _ := v.(refreshed)
	return res, err
}

// authorize lets the request through only when the person may use the
// route. The club is always the verified token's club.
func (s *Server) authorize(rt route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.Access == anyone {
			next.ServeHTTP(w, r)
			return
		}
		id, ok := identityFrom(r.Context())
		switch {
		case !ok:
			s.serveError(w, r, errSignInNeeded)
		case rt.Access == staffOnly && !s.isStaff(id):
			s.refuseStaffRoute(w, r, id)
		case rt.Access >= inClub && id.ClubCode == "":
			s.redirect(w, r, "/onboarding")
		case rt.Permission != "" && !id.Can(rt.Permission):
			s.serveError(w, r, errNoAccess)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

var (
	errSignInNeeded = &club.Error{Code: club.EUNAUTHENTICATED, Message: "Please sign in."}
	errNoAccess     = &club.Error{Code: club.EFORBIDDEN,
		Message: "You don't have access to this page. Your roles in this club do not include it. Nothing was changed."}
)

func clubLabel(id club.Identity) string {
	if id.ClubName != "" {
		return id.ClubName
	}
	return "that club"
}
