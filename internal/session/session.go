package session

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/gorilla/sessions"
)

// PendingTTL is how long a started sign-in may take to come back.
const PendingTTL = 10 * time.Minute

// MaxPending bounds the sign-ins a session may have in flight (one per open
// tab, roughly). Starting one more forgets the oldest.
const MaxPending = 5

// Why a sign-in was started. The callback uses it to decide what to do when
// Kinde answers with an error.
const (
	PurposeSignIn     = "sign-in"    // the person asked to sign in
	PurposeSwitch     = "switch"     // a silent switch to another of their clubs
	PurposeOnboarding = "onboarding" // a silent re-auth into a club just created
)

// Flash kinds.
const (
	FlashSuccess = "success"
	FlashError   = "error"
	FlashInfo    = "info"
)

// Data is everything a session keeps server-side.
type Data struct {
	User    *SignedIn       `json:"user,omitempty"`
	Pending []PendingSignIn `json:"pending,omitempty"`
	Flashes []Flash         `json:"flashes,omitempty"`
	// ViewAs is the staff "view as" in progress, if any. It lives only
	// here, server-side: the browser holds nothing but the session id.
	ViewAs *ViewAs `json:"view_as,omitempty"`
}

func (d *Data) empty() bool {
	return d.User == nil && len(d.Pending) == 0 && len(d.Flashes) == 0 && d.ViewAs == nil
}

// SignedIn is the signed-in person: who they are, as read from their
// verified tokens, the tokens themselves, and when those were last checked.
type SignedIn struct {
	Identity club.Identity `json:"identity"`
	Tokens   club.Tokens   `json:"tokens"`
	// SignedInAt is when the person signed in.
	SignedInAt time.Time `json:"signed_in_at"`
	// ClaimsCheckedAt is when Identity was last read from fresh tokens. The
	// portal refreshes the tokens when a role change happened after it.
	ClaimsCheckedAt time.Time `json:"claims_checked_at"`
}

// PendingSignIn is a sign-in sent to Kinde and not yet come back.
type PendingSignIn struct {
	State     string    `json:"state"`
	Nonce     string    `json:"nonce"`
	Verifier  string    `json:"verifier"` // PKCE code verifier
	ReturnTo  string    `json:"return_to"`
	Purpose   string    `json:"purpose"`
	ClubCode  string    `json:"club_code,omitempty"` // the club asked for, if any
	CreatedAt time.Time `json:"created_at"`
}

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Session is typed access to one request's session.
type Session struct {
	g   *sessions.Session
	now func() time.Time
}

// Load returns the request's session. A missing, tampered or unknown cookie
// gives an empty session; the error is only for a failure to read the
// records (the returned session is then empty and usable).
func (s *Store) Load(r *http.Request) (*Session, error) {
	g, err := s.Get(r, CookieName)
	if g == nil {
		g = s.fresh(CookieName)
	}
	return &Session{g: g, now: s.now}, err
}

// Save writes the session (if it changed) and sets the cookie. A write that
// lost to another request (a sign-out, or another tab's save) is dropped
// without an error; see Store.Save.
func (s *Session) Save(r *http.Request, w http.ResponseWriter) error {
	if err := s.g.Save(r, w); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

func dataOf(g *sessions.Session) *Data {
	d, ok := g.Values[dataKey{}].(*Data)
	if !ok || d == nil {
		d = &Data{}
		g.Values[dataKey{}] = d
	}
	return d
}

func (s *Session) data() *Data { return dataOf(s.g) }

// touch marks the data changed, so Save writes it.
func (s *Session) touch() { s.g.Values[dirtyKey{}] = true }

// ID returns the session's cookie value ("" for a session not saved yet).
// It is a secret: never log it.
func (s *Session) ID() string { return s.g.ID }

// User returns the signed-in person, if any.
func (s *Session) User() (SignedIn, bool) {
	u := s.data().User
	if u == nil {
		return SignedIn{}, false
	}
	return *u, true
}

// SetUser records the signed-in person (after sign-in or a token refresh).
func (s *Session) SetUser(u SignedIn) {
	s.data().User = &u
	s.touch()
}

// SignIn records a new sign-in and rotates the session id, so an id known
// before sign-in (session fixation) is worthless after it. A staff view in
// progress does not survive a new sign-in.
func (s *Session) SignIn(u SignedIn) {
	s.data().ViewAs = nil
	s.SetUser(u)
	s.Rotate()
}

// Rotate makes Save issue a new id and end the old record.
func (s *Session) Rotate() { s.g.Values[rotateKey{}] = true }

// Reset forgets everything and rotates the id. Flashes added afterwards
// survive, so a person signed out by the portal can be told why.
func (s *Session) Reset() {
	s.g.Values[dataKey{}] = &Data{}
	s.touch()
	s.Rotate()
}

// Destroy ends the session's record for good and expires its cookie on
// Save.
func (s *Session) Destroy() { s.g.Values[destroyKey{}] = true }

// AddPending remembers a sign-in sent to Kinde. Expired ones are dropped,
// and only the MaxPending most recent are kept.
func (s *Session) AddPending(p PendingSignIn) {
	d := s.data()
	now := s.now()
	d.Pending = slices.DeleteFunc(d.Pending, func(q PendingSignIn) bool {
		return q.State == p.State || now.Sub(q.CreatedAt) > PendingTTL
	})
	d.Pending = append(d.Pending, p)
	s.touch()
	if n := len(d.Pending); n > MaxPending {
		d.Pending = slices.Delete(d.Pending, 0, n-MaxPending)
	}
}

// TakePending returns and forgets the pending sign-in with state. It is
// single-use: a second call with the same state finds nothing. An expired
// one is forgotten and not returned.
func (s *Session) TakePending(state string) (PendingSignIn, bool) {
	d := s.data()
	i := slices.IndexFunc(d.Pending, func(p PendingSignIn) bool { return state != "" && p.State == state })
	if i < 0 {
		return PendingSignIn{}, false
	}
	p := d.Pending[i]
	d.Pending = slices.Delete(d.Pending, i, i+1)
	s.touch()
	if s.now().Sub(p.CreatedAt) > PendingTTL {
		return PendingSignIn{}, false
	}
	return p, true
}

// AddFlash queues a message for the next page.
func (s *Session) AddFlash(kind, text string) {
	d := s.data()
	d.Flashes = append(d.Flashes, Flash{Kind: kind, Text: text})
	s.touch()
}

// Flashes returns and forgets the queued messages.
func (s *Session) Flashes() []Flash {
	d := s.data()
	f := d.Flashes
	if len(f) > 0 {
		d.Flashes = nil
		s.touch()
	}
	return f
}
