package web

import (
	"container/list"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
	"golang.org/x/time/rate"
)

// How many sign-ins one client may start. Each one started keeps a session
// record for session.PendingTTL, so this bounds what one address can make
// the portal store. The burst is enough for a family or a club room behind
// one address; after it, one more every loginEvery.
const (
	loginBurst = 20
	loginEvery = 3 * time.Second
	// loginClients is how many clients the limit remembers.
	loginClients = 10_000
)

var errTooManySignIns = &club.Error{Code: club.ERATELIMITED,
	Message: "Too many sign-ins were started from your network in a short time, so this one was not. Nothing was changed. Wait a minute, then sign in again."}

// handleLogin sends the browser to Kinde to sign in. It takes the Kinde
// parameters an invitation link or the landing page carry: org_code,
// login_hint, prompt=create (or login), and a local return_to. A client
// starting sign-ins faster than loginBurst and loginEvery allow gets a 429
// instead, and no session record.
func (s *Server) handleLogin() http.Handler {
	limit := newClientLimiter(rate.Every(loginEvery), loginBurst, loginClients)
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if wait, ok := limit.allow(clientKey(r), s.now()); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int((wait+time.Second-1)/time.Second))))
			return errTooManySignIns
		}
		q := r.URL.Query()
		var req club.SignInRequest
		if code := q.Get("org_code"); validClubCode(code) {
			req.ClubCode = code
		}
		if hint := q.Get("login_hint"); hint != "" {
			if email, err := club.NormalizeEmail(hint); err == nil {
				req.LoginHint = email
			}
		}
		switch p := q.Get("prompt"); p {
		case club.PromptCreate, club.PromptLogin:
			req.Prompt = p
		}
		return s.startSignIn(w, r, session.PurposeSignIn, req, localPath(q.Get("return_to")))
	})
}

// startSignIn remembers a new pending sign-in (state, nonce and PKCE
// verifier, all fresh and random) and sends the browser to Kinde.
func (s *Server) startSignIn(w http.ResponseWriter, r *http.Request, purpose string, req club.SignInRequest, returnTo string) error {
	state, err := randomToken()
	if err != nil {
		return err
	}
	nonce, err := randomToken()
	if err != nil {
		return err
	}
	verifier, err := randomToken()
	if err != nil {
		return err
	}
	sessionFrom(r.Context()).AddPending(session.PendingSignIn{
		State: state, Nonce: nonce, Verifier: verifier,
		ReturnTo: returnTo, Purpose: purpose, ClubCode: req.ClubCode, CreatedAt: s.now(),
	})
	s.redirect(w, r, s.auth.AuthCodeURL(state, nonce, verifier, req))
	return nil
}

// randomToken returns 256 random bits, base64url-encoded (43 characters,
// which also makes a valid PKCE verifier).
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("web: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// validClubCode reports whether code looks like a Kinde org_code. Anything
// else is dropped rather than passed on to Kinde.
func validClubCode(code string) bool {
	if !strings.HasPrefix(code, "org_") || len(code) > 64 || len(code) < 5 {
		return false
	}
	for _, c := range code[4:] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// localPath returns p when it is a path on this site, and "" otherwise, so
// a return_to can never send anyone elsewhere.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return p
}

// clientKey is what a per-client limit counts against: the client's IP
// address (forwarded headers are not trusted, see clientIP), and for IPv6
// its /64, which a single host or household usually gets whole.
func clientKey(r *http.Request) string {
	ip := clientIP(r)
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// clientLimiter is a token bucket per client for the clients seen most
// recently. It remembers at most size of them and forgets the one seen
// longest ago first, so a flood of addresses cannot grow it without bound;
// a forgotten client starts again with a full bucket, as an idle one would
// have anyway. The caller passes the time, so tests need no sleeps.
type clientLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	size    int                      // how many clients it remembers
	recent  *list.List               // of *clientBucket, most recently seen first
	clients map[string]*list.Element // by key, into recent
}

type clientBucket struct {
	key    string
	bucket *rate.Limiter
}

func newClientLimiter(limit rate.Limit, burst, size int) *clientLimiter {
	return &clientLimiter{limit: limit, burst: burst, size: size, recent: list.New(), clients: map[string]*list.Element{}}
}

// allow takes one token from key's bucket at now. When there is none it
// returns false and how long until there is.
func (l *clientLimiter) allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c *clientBucket
	if el, ok := l.clients[key]; ok {
		l.recent.MoveToFront(el)
		c = el.Value.(*clientBucket)
	} else {
		c = &clientBucket{key: key, bucket: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = l.recent.PushFront(c)
		for l.recent.Len() > l.size {
			oldest := l.recent.Back()
			l.recent.Remove(oldest)
			delete(l.clients, oldest.Value.(*clientBucket).key)
		}
	}
	if c.bucket.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - c.bucket.TokensAt(now)
	return time.Duration(missing / float64(l.limit) * float64(time.Second)), false
}
