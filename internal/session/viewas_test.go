package session_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/session"
)

func testViewAs() session.ViewAs {
	return session.ViewAs{
		ID: "va_1", StaffID: "kp_sam", StaffName: "Sam Rivera", ClubCode: "org_1", ClubName: "Riverside Rowing Club",
		TargetID: "kp_olivia", TargetName: "Olivia Hart", TargetEmail: "olivia@example.org", AsOwner: true,
		Reason: "Ticket 4512: cannot add a coach", StartedAt: t0, ExpiresAt: t0.Add(30 * time.Minute),
	}
}

// TestViewAsLivesServerSide starts a view-as, and checks it comes back on
// the next request while the cookie carries nothing of it.
func TestViewAsLivesServerSide(t *testing.T) {
	recs := newMemRecords()
	st := session.NewStore(recs, session.Options{Now: (&clock{t: t0}).now})
	cookie := roundTrip(t, st, nil, func(s *session.Session) { s.SignIn(signedIn()) })
	next := roundTrip(t, st, cookie, func(s *session.Session) {
		if !s.StartViewAs(testViewAs()) {
			t.Error("StartViewAs = false on a session without one")
		}
	})
	// The cookie after the start (a re-issued one, or the same) holds the
	// record's key and nothing else.
	after := cookie
	if next != nil {
		after = next
	}
	if after.Value != cookie.Value {
		t.Errorf("starting a view-as changed the cookie to %q", after.Value)
	}
	if _, ok := recs.snapshot()[session.RecordKey(after.Value)]; !ok || strings.Contains(after.Value, "va_1") {
		t.Errorf("cookie %q is not just the key of the session record", after.Value)
	}
	raw := string(recs.snapshot()[session.RecordKey(cookie.Value)].data)
	if !strings.Contains(raw, `"view_as"`) || !strings.Contains(raw, "Ticket 4512") {
		t.Errorf("record lacks the view-as: %s", raw)
	}
	roundTrip(t, st, cookie, func(s *session.Session) {
		got, ok := s.ViewAs()
		if !ok || got != testViewAs() {
			t.Errorf("ViewAs = %+v, %v; want %+v", got, ok, testViewAs())
		}
		if u, ok := s.User(); !ok || u.Identity.UserID != "kp_1" || u.Tokens.AccessToken != "secret-access-token" {
			t.Errorf("the staff person's own sign-in changed: %+v", u)
		}
	})
}

func TestViewAsNeverNests(t *testing.T) {
	st := session.NewStore(newMemRecords(), session.Options{Now: (&clock{t: t0}).now})
	cookie := roundTrip(t, st, nil, func(s *session.Session) {
		s.SignIn(signedIn())
		s.StartViewAs(testViewAs())
	})
	roundTrip(t, st, cookie, func(s *session.Session) {
		other := testViewAs()
		other.ID, other.TargetID = "va_2", "kp_mia"
		if s.StartViewAs(other) {
			t.Error("a second StartViewAs succeeded")
		}
		if got, _ := s.ViewAs(); got.ID != "va_1" {
			t.Errorf("view-as = %s, want the first one kept", got.ID)
		}
	})
}

func TestEndViewAs(t *testing.T) {
	st := session.NewStore(newMemRecords(), session.Options{Now: (&clock{t: t0}).now})
	cookie := roundTrip(t, st, nil, func(s *session.Session) {
		s.SignIn(signedIn())
		s.StartViewAs(testViewAs())
	})
	roundTrip(t, st, cookie, func(s *session.Session) {
		if v, ok := s.EndViewAs(); !ok || v.ID != "va_1" {
			t.Errorf("EndViewAs = %+v, %v", v, ok)
		}
	})
	roundTrip(t, st, cookie, func(s *session.Session) {
		if _, ok := s.ViewAs(); ok {
			t.Error("view-as still there after EndViewAs")
		}
		if _, ok := s.EndViewAs(); ok {
			t.Error("a second EndViewAs found one")
		}
		if _, ok := s.User(); !ok {
			t.Error("ending the view-as signed the staff person out")
		}
	})
}

func TestSignInEndsViewAs(t *testing.T) {
	st := session.NewStore(newMemRecords(), session.Options{Now: (&clock{t: t0}).now})
	cookie := roundTrip(t, st, nil, func(s *session.Session) {
		s.SignIn(signedIn())
		s.StartViewAs(testViewAs())
	})
	cookie = roundTrip(t, st, cookie, func(s *session.Session) { s.SignIn(signedIn()) })
	roundTrip(t, st, cookie, func(s *session.Session) {
		if _, ok := s.ViewAs(); ok {
			t.Error("a view-as survived a new sign-in")
		}
	})
}

func TestViewAsExpired(t *testing.T) {
	v := testViewAs()
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"at start", t0, false},
		{"a second before", v.ExpiresAt.Add(-time.Second), false},
		{"at expiry", v.ExpiresAt, true},
		{"after", v.ExpiresAt.Add(time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := v.Expired(tt.at); got != tt.want {
				t.Errorf("Expired = %v, want %v", got, tt.want)
			}
		})
	}
}
