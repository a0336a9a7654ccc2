// Package session owns the portal's browser sessions: a gorilla/sessions
// Store whose cookie carries only an opaque random id, with the session's
// data (who is signed in, their Kinde tokens, pending sign-ins and flash
// messages) kept server-side through Records, and typed access to that data.
//
// Tokens never reach a cookie. The Records implementation only ever sees
// the SHA-256 of the cookie's id, so reading the sessions table does not
// give anyone a cookie they could use.
package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/gorilla/sessions"
)

// CookieName is the name of the portal's session cookie.
const CookieName = "clubhouse_session"

// DefaultMaxAge is how long a session lives without being used.
const DefaultMaxAge = 14 * 24 * time.Hour

// idBytes is the size of a session id: 256 random bits.
const idBytes = 32

// Records keeps session data server-side. internal/store's *DB implements
// it.
//
// LoadSession returns a record's data, expiry and version, or an error for
// which errors.Is(err, club.ErrNotFound) is true when the record is
// missing, ended or expired.
//
// SaveSession writes a record only if nobody else did since it was loaded:
// version is what LoadSession returned, or 0 for a new id, and a successful
// save leaves the record at version+1. A record that was ended or saved
// since is left alone, and the error's club.ErrorCode is ECONFLICT.
//
// DeleteSession ends a record for good: no later save, whatever its
// version, writes it again.
type Records interface {
	LoadSession(ctx context.Context, id string) (data []byte, expires time.Time, version int64, err error)
	SaveSession(ctx context.Context, id string, data []byte, expires time.Time, version int64) error
	DeleteSession(ctx context.Context, id string) error
}

// Options configure a Store.
type Options struct {
	// Secure marks the cookie Secure; set it when the portal's public URL
	// is https.
	Secure bool
	// MaxAge is how long an unused session lives (DefaultMaxAge when 0).
	MaxAge time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Store is a gorilla sessions.Store that keeps data in Records and puts
// only a random id in the cookie.
type Store struct {
	records Records
	secure  bool
	maxAge  time.Duration
	now     func() time.Time
}

var _ sessions.Store = (*Store)(nil)

// NewStore returns a Store over records.
func NewStore(records Records, opts Options) *Store {
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{records: records, secure: opts.Secure, maxAge: opts.MaxAge, now: opts.Now}
}

// Values keys. They are unexported types, so nothing outside this package
// can collide with them; only dataKey is persisted.
type (
	dataKey    struct{}
	stateKey   struct{}
	rotateKey  struct{}
	destroyKey struct{}
	dirtyKey   struct{}
)

// loadState remembers what was read, so Save writes only when something
// changed or the record is getting old, and only over the version it read.
type loadState struct {
	raw     []byte
	expires time.Time
	version int64
}

// Get returns the request's session, registered with gorilla's per-request
// registry so every Get in one request sees the same session.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie. A missing, malformed
// or unknown cookie gives a fresh, empty session and no error; only a
// failure to read the records is an error (with a fresh session).
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := s.fresh(name)
	c, err := r.Cookie(name)
	if err != nil || !validID(c.Value) {
		return sess, nil
	}
	raw, expires, version, err := s.records.LoadSession(r.Context(), recordKey(c.Value))
	switch {
	case errors.Is(err, club.ErrNotFound):
		return sess, nil
	case err != nil:
		return sess, fmt.Errorf("session: load: %w", err)
	case !expires.After(s.now()):
		return sess, nil
	}
	var d Data
	if err := json.Unmarshal(raw, &d); err != nil {
		// A record we cannot read is treated like an unknown cookie.
		return sess, nil
	}
	sess.ID = c.Value
	sess.IsNew = false
	sess.Values[dataKey{}] = &d
	sess.Values[stateKey{}] = loadState{raw: raw, expires: expires, version: version}
	return sess, nil
}

func (s *Store) fresh(name string) *sessions.Session {
	sess := sessions.NewSession(s, name)
	sess.IsNew = true
	sess.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(s.maxAge / time.Second),
		Secure:   s.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	sess.Values[dataKey{}] = &Data{}
	return sess
}

// Save writes the session's data and sets the cookie. It writes nothing
// when the data did not change and the record is not near its expiry, and
// it never creates a record (or a cookie) for an empty new session. A
// session marked by Rotate gets a new id and its old record is ended; one
// marked by Destroy is ended and its cookie expired.
//
// How long a record lives depends on what it holds (see expiry): a
// signed-in person's for MaxAge from its last write, anyone else's only as
// long as the sign-in it holds is pending. Sign-in rotates the id, so the
// signed-in record starts with the full lifetime.
//
// A write lands only on the record as this request loaded it. When another
// request got there first (a sign-out, an id rotation, or a save from
// another tab), this request's write is dropped: Save sets no cookie and
// returns nil. The other request's outcome stands, so a signed-out session
// stays signed out, and two tabs racing get no error page. What is lost is
// this request's own change: a flash message, a taken pending sign-in, or
// refreshed tokens. Lost tokens are refreshed again from the stored ones on
// a later request; if Kinde has retired those by then (it honours a
// replaced refresh token only briefly), the person is asked to sign in
// again. The session is left as loaded, so a second Save in the same
// request loses too rather than writing under a new id.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Values[destroyKey{}] != nil || sess.Options.MaxAge < 0 {
		return s.destroy(r.Context(), w, sess)
	}
	st, _ := sess.Values[stateKey{}].(loadState)
	rotate := sess.Values[rotateKey{}] != nil
	dirty := sess.Values[dirtyKey{}] != nil
	now := s.now()
	d := dataOf(sess)
	// Only a signed-in person's record is renewed past half its life, so
	// an active person stays signed in. Anyone else's lives no longer than
	// the sign-in it holds, however often it is used.
	renew := d.User != nil && st.expires.Sub(now) <= s.maxAge/2
	if sess.ID != "" && !rotate && !dirty && !renew {
		return nil // untouched and still fresh: no write
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("session: encode: %w", err)
	}
	switch {
	case sess.ID == "" && d.empty():
		return nil // nothing worth a cookie
	case sess.ID != "" && !rotate && bytes.Equal(raw, st.raw) && !renew:
		return nil // unchanged and still fresh: no write
	}
	if rotate && sess.ID != "" {
		if err := s.records.DeleteSession(r.Context(), recordKey(sess.ID)); err != nil && !errors.Is(err, club.ErrNotFound) {
			return fmt.Errorf("session: rotate: %w", err)
		}
		sess.ID = ""
	}
	return s.write(r.Context(), w, sess, raw, now, s.expiry(d, now), st.version)
}

// expiry is when a record holding d, written at now, lapses. A signed-in
// person's lives MaxAge. Anyone else's holds no more than sign-ins in
// progress and perhaps a message for the next page, so it lapses when its
// newest pending sign-in does, or PendingTTL from now when it holds
// messages (never later than MaxAge either). An anonymous visitor starting
// sign-ins costs the portal a row for minutes, not weeks.
func (s *Store) expiry(d *Data, now time.Time) time.Time {
	full := now.Add(s.maxAge)
	if d.User != nil {
		return full
	}
	end := now.Add(PendingTTL)
	if len(d.Pending) > 0 && len(d.Flashes) == 0 {
		var newest time.Time
		for _, p := range d.Pending {
			if p.CreatedAt.After(newest) {
				newest = p.CreatedAt
			}
		}
		if e := newest.Add(PendingTTL); e.Before(end) {
			end = e
		}
	}
	if full.Before(end) {
		end = full
	}
	return end
}

// write saves raw, to lapse at expires, over the record at version, under
// a new id when the session has none, and sets the cookie to lapse with
// the record.
func (s *Store) write(ctx context.Context, w http.ResponseWriter, sess *sessions.Session, raw []byte, now, expires time.Time, version int64) error {
	if sess.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		sess.ID, version = id, 0
	}
	err := s.records.SaveSession(ctx, recordKey(sess.ID), raw, expires, version)
	if club.ErrorCode(err) == club.ECONFLICT {
		return nil // another request got there first: see Save
	}
	if err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	delete(sess.Values, rotateKey{})
	delete(sess.Values, dirtyKey{})
	sess.Values[stateKey{}] = loadState{raw: raw, expires: expires, version: version + 1}
	sess.IsNew = false
	opts := *sess.Options
	opts.MaxAge = max(1, int((expires.Sub(now)+time.Second-1)/time.Second))
	http.SetCookie(w, sessions.NewCookie(sess.Name(), sess.ID, &opts))
	return nil
}

// destroy ends the session's record, expires its cookie and leaves the
// session empty and without an id.
func (s *Store) destroy(ctx context.Context, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.ID != "" {
		if err := s.records.DeleteSession(ctx, recordKey(sess.ID)); err != nil && !errors.Is(err, club.ErrNotFound) {
			return fmt.Errorf("session: delete: %w", err)
		}
	}
	opts := *sess.Options
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(sess.Name(), "", &opts))
	sess.ID = ""
	delete(sess.Values, destroyKey{})
	delete(sess.Values, stateKey{})
	sess.Values[dataKey{}] = &Data{}
	return nil
}

// newID returns 256 random bits, base64url-encoded.
func newID() (string, error) {
	b := make([]byte, idBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session: new id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// validID reports whether v looks like an id newID made, so a tampered
// cookie costs no lookup.
func validID(v string) bool {
	if len(v) != base64.RawURLEncoding.EncodedLen(idBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == idBytes
}

// recordKey is what Records sees instead of the cookie's id.
func recordKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// RecordKey returns the key under which Records keeps the session whose
// cookie value is cookieValue. Tests use it to check a record was deleted.
func RecordKey(cookieValue string) string { return recordKey(cookieValue) }
