package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
	"github.com/clubhouse/clubhouse/internal/store"
)

// backends gives each lost-save test the in-memory fake and the real store,
// so the fake cannot drift from the contract it stands in for.
var backends = []struct {
	name string
	open func(t *testing.T) session.Records
}{
	{"fake", func(*testing.T) session.Records { return newMemRecords() }},
	{"store", func(t *testing.T) session.Records {
		t.Helper()
		db, err := store.Open(t.Context(), "sqlite::memory:", nil)
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
}

// inFlight is a request that has loaded the session and not yet saved it.
type inFlight struct {
	r    *http.Request
	sess *session.Session
}

func load(t *testing.T, st *session.Store, cookie *http.Cookie) inFlight {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
	r.AddCookie(cookie)
	sess, err := st.Load(r)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return inFlight{r: r, sess: sess}
}

// save saves the request's session and returns the session cookie it set,
// if any.
func (f inFlight) save(t *testing.T) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if err := f.sess.Save(f.r, w); err != nil {
		t.Fatalf("Save: %v; want no error", err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == session.CookieName {
			return c
		}
	}
	return nil
}

// The store's clock is the real one, so the sessions here live in real
// time.
func realClock() *clock { return &clock{t: time.Now().UTC()} }

func TestLostSaveLeavesSessionEnded(t *testing.T) {
	other := signedIn()
	other.Identity.UserID = "kp_2"
	ends := []struct {
		name   string
		change func(*session.Session)
	}{
		{"sign-out", func(s *session.Session) { s.Destroy() }},
		{"sign-in rotates the id", func(s *session.Session) { s.SignIn(other) }},
		{"portal ends the session", func(s *session.Session) {
			s.Reset()
			s.AddFlash(session.FlashInfo, "Your session has ended. Please sign in again.")
		}},
	}
	for _, b := range backends {
		for _, tt := range ends {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				st := session.NewStore(b.open(t), session.Options{Now: realClock().now})
				cookie := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
				// Request A loads the session and is still working when
				// request B ends it.
				a := load(t, st, cookie)
				roundTrip(t, st, cookie, tt.change)
				u, _ := a.sess.User()
				u.Tokens.AccessToken = "refreshed-by-a"
				a.sess.SetUser(u)
				a.sess.AddFlash(session.FlashSuccess, "Saved.")
				if got := a.save(t); got != nil {
					t.Errorf("the lost save set cookie %v, want none", got)
				}
				roundTrip(t, st, cookie, func(s *session.Session) {
					if s.ID() != "" {
						t.Error("the ended id loads as a saved session")
					}
					if _, ok := s.User(); ok {
						t.Error("the ended session is signed in again")
					}
					if f := s.Flashes(); len(f) != 0 {
						t.Errorf("flashes = %v, want none from the lost save", f)
					}
				})
			})
		}
	}
}

func TestTwoTabsRacingKeepTheFirstSave(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := session.NewStore(b.open(t), session.Options{Now: realClock().now})
			cookie := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
			tab1, tab2 := load(t, st, cookie), load(t, st, cookie)
			tab1.sess.AddFlash(session.FlashSuccess, "From tab 1.")
			if got := tab1.save(t); got == nil || got.Value != cookie.Value {
				t.Errorf("first save cookie = %v, want the same id", got)
			}
			// The second tab's flash is dropped: the documented cost of
			// not merging concurrent writes.
			tab2.sess.AddFlash(session.FlashSuccess, "From tab 2.")
			if got := tab2.save(t); got != nil {
				t.Errorf("losing save set cookie %v, want none", got)
			}
			roundTrip(t, st, cookie, func(s *session.Session) {
				if _, ok := s.User(); !ok {
					t.Error("the race signed the person out")
				}
				got, want := s.Flashes(), []session.Flash{{Kind: session.FlashSuccess, Text: "From tab 1."}}
				if !slices.Equal(got, want) {
					t.Errorf("flashes = %v, want %v", got, want)
				}
			})
		})
	}
}

func TestSavesInOneRequestFollowTheirOwnVersion(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := session.NewStore(b.open(t), session.Options{Now: realClock().now})
			cookie := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
			req := load(t, st, cookie)
			for i, text := range []string{"one", "two"} {
				req.sess.AddFlash(session.FlashInfo, text)
				if got := req.save(t); got == nil {
					t.Fatalf("save %d set no cookie: it lost to its own request", i+1)
				}
			}
			roundTrip(t, st, cookie, func(s *session.Session) {
				if got := s.Flashes(); len(got) != 2 {
					t.Errorf("flashes = %v, want both saves", got)
				}
			})
		})
	}
}

// TestFailedSaveIsAnError checks that only ECONFLICT counts as a lost
// save: any other failure to write is still reported.
func TestFailedSaveIsAnError(t *testing.T) {
	st := session.NewStore(failingRecords{err: club.Unavailable(nil)}, session.Options{})
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
	sess, _ := st.Load(r)
	sess.AddFlash(session.FlashInfo, "hello")
	if err := sess.Save(r, httptest.NewRecorder()); err == nil {
		t.Error("a failing store gave no error")
	}
}

// failingRecords fails every save with err.
type failingRecords struct {
	session.Records
	err error
}

func (f failingRecords) SaveSession(context.Context, string, []byte, time.Time, int64) error {
	return f.err
}
