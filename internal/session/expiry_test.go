package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/session"
)

// expiresAt returns when the record behind cookie lapses, as Records keeps
// it.
func expiresAt(t *testing.T, recs session.Records, cookie *http.Cookie) time.Time {
	t.Helper()
	if cookie == nil {
		t.Fatal("no session cookie set")
	}
	_, expires, _, err := recs.LoadSession(t.Context(), session.RecordKey(cookie.Value))
	if err != nil {
		t.Fatalf("LoadSession: %v", err)
	}
	return expires
}

// within reports whether got is want, give or take the store's timestamp
// precision.
func within(got, want time.Time) bool {
	d := got.Sub(want)
	return d > -time.Millisecond && d < time.Millisecond
}

// TestAnonymousRecordsLapseWithTheirSignIn is issue 12: 300 cookie-less
// GET /auth/login made 300 session rows kept for 14 days, although the
// pending sign-in in each is good for 10 minutes. A record holding only a
// pending sign-in now lapses with it, and its cookie with it.
func TestAnonymousRecordsLapseWithTheirSignIn(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			recs := be.open(t)
			c := realClock()
			st := session.NewStore(recs, session.Options{Now: c.now})
			for i := range 300 {
				cookie := roundTrip(t, st, nil, func(s *session.Session) {
					s.AddPending(session.PendingSignIn{State: "s", CreatedAt: c.t})
				})
				if got, want := expiresAt(t, recs, cookie), c.t.Add(session.PendingTTL); !within(got, want) {
					t.Fatalf("sign-in %d: record expires %v after it was made, want %v", i, got.Sub(c.t), session.PendingTTL)
				}
				if got, want := cookie.MaxAge, int(session.PendingTTL/time.Second); got != want {
					t.Fatalf("sign-in %d: cookie Max-Age = %d, want %d", i, got, want)
				}
			}
		})
	}
}

// TestRecordLifetimeFollowsItsContent walks one visitor from a first
// sign-in started to signed in: the record lives as long as its newest
// pending sign-in, is not renewed by being read, and gets the full
// lifetime once it holds a signed-in person.
func TestRecordLifetimeFollowsItsContent(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			recs := be.open(t)
			c := realClock()
			start := c.t
			st := session.NewStore(recs, session.Options{Now: c.now})
			cookie := roundTrip(t, st, nil, func(s *session.Session) {
				s.AddPending(session.PendingSignIn{State: "first", CreatedAt: c.t})
			})

			// Read, untouched, it is neither written nor renewed.
			c.t = start.Add(4 * time.Minute)
			if got := roundTrip(t, st, cookie, func(s *session.Session) { s.Flashes() }); got != nil {
				t.Errorf("reading a pending sign-in's session set a cookie: %+v", got)
			}
			if got, want := expiresAt(t, recs, cookie), start.Add(session.PendingTTL); !within(got, want) {
				t.Errorf("after a read: expires %v after the start, want %v", got.Sub(start), session.PendingTTL)
			}

			// A second tab's sign-in keeps it as long as that one.
			second := c.t
			roundTrip(t, st, cookie, func(s *session.Session) {
				s.AddPending(session.PendingSignIn{State: "second", CreatedAt: c.t})
			})
			if got, want := expiresAt(t, recs, cookie), second.Add(session.PendingTTL); !within(got, want) {
				t.Errorf("after a second sign-in: expires %v after it, want %v", got.Sub(second), session.PendingTTL)
			}

			// Signed in, the person gets the full lifetime.
			c.t = start.Add(5 * time.Minute)
			signed := roundTrip(t, st, cookie, func(s *session.Session) {
				if _, ok := s.TakePending("second"); !ok {
					t.Fatal("pending sign-in lost")
				}
				s.SignIn(signedIn())
			})
			if got, want := expiresAt(t, recs, signed), c.t.Add(session.DefaultMaxAge); !within(got, want) {
				t.Errorf("signed in: expires %v after sign-in, want %v", got.Sub(c.t), session.DefaultMaxAge)
			}
			if got, want := signed.MaxAge, int(session.DefaultMaxAge/time.Second); got != want {
				t.Errorf("signed in: cookie Max-Age = %d, want %d", got, want)
			}
		})
	}
}

// TestRecordLifetimes checks the lifetime of a record written with each
// kind of content.
func TestRecordLifetimes(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *session.Session, now time.Time)
		want   time.Duration // from the write
	}{
		{"pending sign-in", func(s *session.Session, now time.Time) {
			s.AddPending(session.PendingSignIn{State: "a", CreatedAt: now})
		}, session.PendingTTL},
		{"pending sign-in started earlier", func(s *session.Session, now time.Time) {
			s.AddPending(session.PendingSignIn{State: "a", CreatedAt: now.Add(-3 * time.Minute)})
		}, session.PendingTTL - 3*time.Minute},
		{"a message for the next page", func(s *session.Session, _ time.Time) {
			s.AddFlash(session.FlashInfo, "Your session has ended. Please sign in again.")
		}, session.PendingTTL},
		{"signed in", func(s *session.Session, _ time.Time) { s.SignIn(signedIn()) }, session.DefaultMaxAge},
		{"signed in without a new id", func(s *session.Session, _ time.Time) { s.SetUser(signedIn()) }, session.DefaultMaxAge},
		{"signed in, starting a club switch", func(s *session.Session, now time.Time) {
			s.SignIn(signedIn())
			s.AddPending(session.PendingSignIn{State: "a", Purpose: session.PurposeSwitch, CreatedAt: now})
		}, session.DefaultMaxAge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := newMemRecords()
			c := &clock{t: t0}
			st := session.NewStore(recs, session.Options{Now: c.now})
			cookie := roundTrip(t, st, nil, func(s *session.Session) { tt.change(s, c.t) })
			if got := expiresAt(t, recs, cookie); got.Sub(t0) != tt.want {
				t.Errorf("record expires %v after the write, want %v", got.Sub(t0), tt.want)
			}
			if got, want := cookie.MaxAge, int(tt.want/time.Second); got != want {
				t.Errorf("cookie Max-Age = %d, want %d", got, want)
			}
		})
	}
}

// TestShortMaxAgeCapsAnonymousRecords: no record outlives MaxAge, not even
// a pending sign-in's.
func TestShortMaxAgeCapsAnonymousRecords(t *testing.T) {
	recs := newMemRecords()
	c := &clock{t: t0}
	st := session.NewStore(recs, session.Options{Now: c.now, MaxAge: time.Minute})
	cookie := roundTrip(t, st, nil, func(s *session.Session) {
		s.AddPending(session.PendingSignIn{State: "a", CreatedAt: c.t})
	})
	if got := expiresAt(t, recs, cookie); got.Sub(t0) != time.Minute {
		t.Errorf("record expires %v after the write, want 1m", got.Sub(t0))
	}
}

// TestPendingRecordGoneAfterTTL: once its sign-in has lapsed, the cookie
// of a visitor who never came back finds nothing.
func TestPendingRecordGoneAfterTTL(t *testing.T) {
	recs := newMemRecords()
	c := &clock{t: t0}
	st := session.NewStore(recs, session.Options{Now: c.now})
	cookie := roundTrip(t, st, nil, func(s *session.Session) {
		s.AddPending(session.PendingSignIn{State: "a", CreatedAt: c.t})
	})
	c.t = t0.Add(session.PendingTTL)
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
	r.AddCookie(cookie)
	sess, err := st.Load(r)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if sess.ID() != "" {
		t.Error("a lapsed pending sign-in's record still loads")
	}
}
