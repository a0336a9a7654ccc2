package club

import (
	"time"
)

// Kinds of IdentityEvent, in the domain's words. The identity provider's
// adapter maps its own event types onto them (internal/kinde: Kinde's
// user.* and organization.* webhooks).
const (
	// EventPersonChanged: a person was created or changed, or joined or
	// left a club, or their roles in one changed.
	EventPersonChanged = "person.changed"
	// EventPersonDeleted: a person is gone, from every club.
	EventPersonDeleted = "person.deleted"
	// EventClubChanged: a club was created or renamed.
	EventClubChanged = "club.changed"
	// EventClubDeleted: a club is gone.
	EventClubDeleted = "club.deleted"
)

// ActionSyncedFromProvider is the audit action of a membership changed
// because the identity provider said so (a webhook), not because someone
// used the portal. Its stored value predates the name and stays: audit rows
// already hold it.
const ActionSyncedFromProvider = "member.synced_from_kinde"

// IdentityEvent is a change the identity provider (Kinde) reported through
// a verified webhook. Exactly one of Person and Club is set, by its kind.
// Queued jobs keep it as JSON, so its field names are part of the job
// format and stay as they are.
type IdentityEvent struct {
	ID   string    // the provider's id of the event
	Type string    // one of the Event* kinds; see Kind
	At   time.Time // the provider's timestamp of the change
	// Person is set for EventPerson* events.
	Person *PersonChange `json:",omitempty"`
	// Club is set for EventClub* events.
	Club *ClubChange `json:",omitempty"`
}

// Kind returns the event's kind (one of the Event* constants), or "" when
// it names no person or club. It goes by what the event names, not by
// Type: events queued by an earlier version carry the provider's own type
// there (Kinde's "user.updated"), and they must still apply.
func (ev IdentityEvent) Kind() string {
	switch {
	case ev.Person != nil && ev.Person.Person.ID != "":
		if ev.Person.Deleted {
			return EventPersonDeleted
		}
		return EventPersonChanged
	case ev.Club != nil && ev.Club.Club.Code != "":
		if ev.Club.Deleted {
			return EventClubDeleted
		}
		return EventClubChanged
	}
	return ""
}

// PersonChange is a person's state at the provider after an EventPerson*
// event.
type PersonChange struct {
	Person Person
	// Deleted is true for EventPersonDeleted: the person is gone from every
	// club.
	Deleted bool
	// Clubs lists every club the provider has the person in, with their
	// role keys there. A club the portal knows that is missing here is a
	// club they left.
	Clubs []ClubRoles
}

// ClubRoles is a person's role keys in one club.
type ClubRoles struct {
	Code  string
	Roles []string
}

// ClubChange is a club's state at the provider after an EventClub* event.
type ClubChange struct {
	Club    Club
	Deleted bool
}
