package session

import "time"

// ViewAs is a staff person seeing a club as one of its members, read-only
// and for a limited time. It records who started it, whom they view as,
// why, and until when. The staff person's own identity and tokens stay in
// SignedIn, untouched.
type ViewAs struct {
	// ID is random; it names this view-as in the Stop form, so a stop
	// replayed after the view-as ended is recognised and refused.
	ID        string `json:"id"`
	StaffID   string `json:"staff_id"`
	StaffName string `json:"staff_name"`
	ClubCode  string `json:"club_code"`
	ClubName  string `json:"club_name"`
	// TargetID is the person viewed as; when staff chose "an owner" it is
	// the owner that choice resolved to.
	TargetID    string    `json:"target_id"`
	TargetName  string    `json:"target_name"`
	TargetEmail string    `json:"target_email"`
	AsOwner     bool      `json:"as_owner,omitempty"`
	Reason      string    `json:"reason"`
	StartedAt   time.Time `json:"started_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// Expired reports whether the view-as is over at now.
func (v ViewAs) Expired(now time.Time) bool { return !now.Before(v.ExpiresAt) }

// ViewAs returns the staff view in progress, if any, expired or not: the
// caller decides what an expired one means.
func (s *Session) ViewAs() (ViewAs, bool) {
	v := s.data().ViewAs
	if v == nil {
		return ViewAs{}, false
	}
	return *v, true
}

// StartViewAs records a staff view. It never nests: it returns false, and
// changes nothing, when one is already recorded.
func (s *Session) StartViewAs(v ViewAs) bool {
	d := s.data()
	if d.ViewAs != nil {
		return false
	}
	d.ViewAs = &v
	s.touch()
	return true
}

// EndViewAs forgets the staff view in progress and returns it; ok is false
// when there was none.
func (s *Session) EndViewAs() (ViewAs, bool) {
	d := s.data()
	v := d.ViewAs
	if v == nil {
		return ViewAs{}, false
	}
	d.ViewAs = nil
	s.touch()
	return *v, true
}
