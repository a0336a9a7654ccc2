package session_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
)

// memRecords is an in-memory Records that counts its calls. Like the
// store, it saves only over the version loaded and never writes an ended
// id again.
type memRecords struct {
	mu      sync.Mutex
	rows    map[string]memRow
	ended   map[string]bool
	loads   int
	saves   int
	deletes []string
	loadErr error
}

type memRow struct {
	data    []byte
	expires time.Time
	version int64
}

func newMemRecords() *memRecords {
	return &memRecords{rows: map[string]memRow{}, ended: map[string]bool{}}
}

func (m *memRecords) LoadSession(_ context.Context, id string) ([]byte, time.Time, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	if m.loadErr != nil {
		return nil, time.Time{}, 0, m.loadErr
	}
	r, ok := m.rows[id]
	if !ok {
		return nil, time.Time{}, 0, club.ErrNotFound
	}
	return r.data, r.expires, r.version, nil
}

func (m *memRecords) SaveSession(_ context.Context, id string, data []byte, expires time.Time, version int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	// A missing row is at version 0, so only a new id creates one.
	if m.ended[id] || m.rows[id].version != version {
		return club.Errorf(club.ECONFLICT, "stale session")
	}
	m.rows[id] = memRow{data: append([]byte(nil), data...), expires: expires, version: version + 1}
	return nil
}

func (m *memRecords) DeleteSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deletes = append(m.deletes, id)
	delete(m.rows, id)
	m.ended[id] = true
	return nil
}

func (m *memRecords) snapshot() map[string]memRow {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.rows)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// roundTrip loads the session for a request carrying cookie (if any), lets
// change edit it, saves it and returns the Set-Cookie it produced (nil when
// none).
func roundTrip(t *testing.T, st *session.Store, cookie *http.Cookie, change func(*session.Session)) *http.Cookie {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	sess, err := st.Load(r)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if change != nil {
		change(sess)
	}
	w := httptest.NewRecorder()
	if err := sess.Save(r, w); err != nil {
		t.Fatalf("Save: %v", err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == session.CookieName {
			return c
		}
	}
	return nil
}

func signedIn() session.SignedIn {
	return session.SignedIn{
		Identity:   club.Identity{UserID: "kp_1", Email: "olivia@example.org", ClubCode: "org_1", Roles: []string{"owner"}},
		Tokens:     club.Tokens{AccessToken: "secret-access-token", RefreshToken: "secret-refresh", Expiry: t0.Add(time.Hour)},
		SignedInAt: t0,
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[secure], func(t *testing.T) {
			recs := newMemRecords()
			c := &clock{t: t0}
			st := session.NewStore(recs, session.Options{Secure: secure, Now: c.now})
			got := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
			if got == nil {
				t.Fatal("no session cookie set")
			}
			if !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Path != "/" || got.Secure != secure {
				t.Errorf("cookie = HttpOnly %v SameSite %v Path %q Secure %v; want true, Lax, /, %v", got.HttpOnly, got.SameSite, got.Path, got.Secure, secure)
			}
			if strings.Contains(got.Value, "secret") || len(got.Value) != 43 {
				t.Errorf("cookie value %q: want an opaque 43-character id", got.Value)
			}
			rows := recs.snapshot()
			if _, ok := rows[session.RecordKey(got.Value)]; !ok || len(rows) != 1 {
				t.Errorf("records = %d rows, want 1 under the hash of the id", len(rows))
			}
			if _, ok := rows[got.Value]; ok {
				t.Error("the raw cookie id is stored as a record key")
			}
		})
	}
}

func TestLoadRoundTrip(t *testing.T) {
	recs := newMemRecords()
	c := &clock{t: t0}
	st := session.NewStore(recs, session.Options{Now: c.now})
	cookie := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
	var got session.SignedIn
	var ok bool
	roundTrip(t, st, cookie, func(s *session.Session) { got, ok = s.User() })
	if !ok || got.Identity.UserID != "kp_1" || got.Tokens.RefreshToken != "secret-refresh" {
		t.Errorf("User() = %+v, %v; want the signed-in person", got, ok)
	}
}

func TestUnknownOrTamperedCookieGivesEmptySession(t *testing.T) {
	recs := newMemRecords()
	c := &clock{t: t0}
	st := session.NewStore(recs, session.Options{Now: c.now})
	good := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
	tests := []struct {
		name      string
		value     string
		wantLoads int // lookups the tampered value costs
	}{
		{"garbage", "not-a-session", 0},
		{"too long", good.Value + "A", 0},
		{"bad characters", strings.Repeat("!", 43), 0},
		{"unknown id", flip(good.Value[0]) + good.Value[1:], 1},
		{"flipped last char", good.Value[:42] + flip(good.Value[42]), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := recs.loads
			r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
			r.AddCookie(&http.Cookie{Name: session.CookieName, Value: tt.value})
			sess, err := st.Load(r)
			if err != nil {
				t.Fatalf("Load: %v; want no error", err)
			}
			if _, ok := sess.User(); ok {
				t.Error("tampered cookie gave a signed-in session")
			}
			if got := recs.loads - before; got != tt.wantLoads {
				t.Errorf("lookups = %d, want %d", got, tt.wantLoads)
			}
		})
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestExpiredRecordGivesEmptySession(t *testing.T) {
	recs := newMemRecords()
	c := &clock{t: t0}
	st := session.NewStore(recs, session.Options{Now: c.now, MaxAge: time.Hour})
	cookie := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
	c.t = c.t.Add(time.Hour + time.Second)
	roundTrip(t, st, cookie, func(s *session.Session) {
		if _, ok := s.User(); ok {
			t.Error("expired session is still signed in")
		}
	})
}

func TestRotateIssuesNewIDAndDeletesOld(t *testing.T) {
	recs := newMemRecords()
	c := &clock{t: t0}
	st := session.NewStore(recs, session.Options{Now: c.now})
	// A pending sign-in gives the visitor a session before they sign in.
	before := roundTrip(t, st, nil, func(s *session.Session) {
		s.AddPending(session.PendingSignIn{State: "s1", CreatedAt: t0})
	})
	after := roundTrip(t, st, before, func(s *session.Session) {
		if _, ok := s.TakePending("s1"); !ok {
			t.Fatal("pending sign-in lost")
		}
		s.SignIn(signedIn())
	})
	if after == nil || after.Value == before.Value {
		t.Fatalf("session id after sign-in = %v, want a new one", after)
	}
	rows := recs.snapshot()
	if _, ok := rows[session.RecordKey(before.Value)]; ok {
		t.Error("the pre-sign-in record still exists")
	}
	if _, ok := rows[session.RecordKey(after.Value)]; !ok {
		t.Error("no record for the new id")
	}
	// The old cookie no longer signs anyone in.
	roundTrip(t, st, before, func(s *session.Session) {
		if _, ok := s.User(); ok {
			t.Error("old id still signed in")
		}
	})
}

func TestUnchangedSessionIsNotWritten(t *testing.T) {
	recs := newMemRecords()
	c := &clock{t: t0}
	st := session.NewStore(recs, session.Options{Now: c.now, MaxAge: 10 * time.Hour})
	cookie := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
	saves := recs.saves
	if got := roundTrip(t, st, cookie, func(s *session.Session) { s.User() }); got != nil {
		t.Errorf("unchanged session set a cookie again")
	}
	if recs.saves != saves {
		t.Errorf("unchanged session written %d times", recs.saves-saves)
	}
	// Past half its life, it is written again so an active person stays
	// signed in.
	c.t = c.t.Add(6 * time.Hour)
	if got := roundTrip(t, st, cookie, nil); got == nil || got.Value != cookie.Value {
		t.Errorf("renewal cookie = %v, want the same id", got)
	}
	if recs.saves != saves+1 {
		t.Errorf("renewal saves = %d, want 1", recs.saves-saves)
	}
}

func TestEmptySessionSetsNoCookie(t *testing.T) {
	recs := newMemRecords()
	st := session.NewStore(recs, session.Options{})
	if got := roundTrip(t, st, nil, nil); got != nil {
		t.Errorf("empty session set cookie %v", got)
	}
	if recs.saves != 0 {
		t.Errorf("empty session saved %d times", recs.saves)
	}
}

func TestDestroy(t *testing.T) {
	recs := newMemRecords()
	c := &clock{t: t0}
	st := session.NewStore(recs, session.Options{Now: c.now})
	cookie := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
	got := roundTrip(t, st, cookie, func(s *session.Session) { s.Destroy() })
	if got == nil || got.MaxAge >= 0 || got.Value != "" {
		t.Errorf("cookie after Destroy = %+v, want an expired empty cookie", got)
	}
	if len(recs.snapshot()) != 0 {
		t.Error("record survived Destroy")
	}
}

func TestResetKeepsLaterFlash(t *testing.T) {
	recs := newMemRecords()
	c := &clock{t: t0}
	st := session.NewStore(recs, session.Options{Now: c.now})
	cookie := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
	next := roundTrip(t, st, cookie, func(s *session.Session) {
		s.Reset()
		s.AddFlash(session.FlashInfo, "Your session has ended. Please sign in again.")
	})
	if next == nil || next.Value == cookie.Value {
		t.Fatal("Reset did not rotate the id")
	}
	roundTrip(t, st, next, func(s *session.Session) {
		if _, ok := s.User(); ok {
			t.Error("still signed in after Reset")
		}
		got := s.Flashes()
		if len(got) != 1 || got[0].Text != "Your session has ended. Please sign in again." {
			t.Errorf("Flashes() = %v", got)
		}
		if again := s.Flashes(); len(again) != 0 {
			t.Errorf("second Flashes() = %v, want none", again)
		}
	})
	// Taking the flashes is saved: the next page does not show them again.
	roundTrip(t, st, next, func(s *session.Session) {
		if got := s.Flashes(); len(got) != 0 {
			t.Errorf("flashes shown twice: %v", got)
		}
	})
}

func TestPendingSignIns(t *testing.T) {
	c := &clock{t: t0}
	st := session.NewStore(newMemRecords(), session.Options{Now: c.now})
	tests := []struct {
		name  string
		setup func(s *session.Session)
		after time.Duration
		take  []string
		want  []bool
	}{
		{"two tabs both complete", func(s *session.Session) {
			s.AddPending(session.PendingSignIn{State: "a", CreatedAt: t0})
			s.AddPending(session.PendingSignIn{State: "b", CreatedAt: t0})
		}, 0, []string{"b", "a"}, []bool{true, true}},
		{"single use", func(s *session.Session) {
			s.AddPending(session.PendingSignIn{State: "a", CreatedAt: t0})
		}, 0, []string{"a", "a"}, []bool{true, false}},
		{"unknown state", func(s *session.Session) {
			s.AddPending(session.PendingSignIn{State: "a", CreatedAt: t0})
		}, 0, []string{"x", ""}, []bool{false, false}},
		{"expires after ten minutes", func(s *session.Session) {
			s.AddPending(session.PendingSignIn{State: "a", CreatedAt: t0})
		}, session.PendingTTL + time.Second, []string{"a"}, []bool{false}},
		{"oldest dropped past the limit", func(s *session.Session) {
			for i := range session.MaxPending + 1 {
				s.AddPending(session.PendingSignIn{State: string(rune('a' + i)), CreatedAt: t0})
			}
		}, 0, []string{"a", "b", string(rune('a' + session.MaxPending))}, []bool{false, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t0
			cookie := roundTrip(t, st, nil, tt.setup)
			c.t = t0.Add(tt.after)
			for i, state := range tt.take {
				roundTrip(t, st, cookie, func(s *session.Session) {
					_, ok := s.TakePending(state)
					if ok != tt.want[i] {
						t.Errorf("TakePending(%q) #%d = %v, want %v", state, i, ok, tt.want[i])
					}
				})
			}
		})
	}
}

func TestRecordsFailureIsAnError(t *testing.T) {
	recs := newMemRecords()
	st := session.NewStore(recs, session.Options{})
	cookie := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
	recs.loadErr = errors.New("disk on fire")
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
	r.AddCookie(cookie)
	sess, err := st.Load(r)
	if err == nil {
		t.Fatal("Load with failing records: no error")
	}
	if _, ok := sess.User(); ok || sess == nil {
		t.Error("failed load gave a signed-in session")
	}
}
