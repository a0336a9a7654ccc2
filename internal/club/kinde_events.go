package club

import (
	"time"
)

// Kinde webhook event types the portal applies to its directory. Kinde has
// no "user added to organization" event: user.updated fires when a person
// joins a club or their roles change, and lists every club they are in.
const (
	EventUserCreated         = "user.created"
	EventUserUpdated         = "user.updated"
	EventUserDeleted         = "user.deleted"
	EventOrganizationCreated = "organization.created"
	EventOrganizationUpdated = "organization.updated"
	EventOrganizationDeleted = "organization.deleted"
)

// KindeEventTypes lists the event types the portal applies, sorted. It is
// what the portal subscribes its webhook to.
func KindeEventTypes() []string {
	return []string{
		EventOrganizationCreated, EventOrganizationDeleted, EventOrganizationUpdated,
		EventUserCreated, EventUserDeleted, EventUserUpdated,
	}
}

// ActionKindeSynced is the audit action of a membership changed because
// Kinde said so (a webhook), not because someone used the portal.
const ActionKindeSynced = "member.synced_from_kinde"

// KindeEvent is a change Kinde reported through a verified webhook. Exactly
// one of Person and Club is set, by the event's type.
type KindeEvent struct {
	ID   string    // Kinde's event_id
	Type string    // one of the Event* constants
	At   time.Time // Kinde's timestamp of the change
	// Person is set for user.* events.
	Person *PersonChange `json:",omitempty"`
	// Club is set for organization.* events.
	Club *ClubChange `json:",omitempty"`
}

// PersonChange is a person's state in Kinde after a user.* event.
type PersonChange struct {
	Person Person
	// Deleted is true for user.deleted: the person is gone from every club.
	Deleted bool
	// Clubs lists every club Kinde has the person in, with their role keys
	// there. A club the portal knows that is missing here is a club they
	// left.
	Clubs []ClubRoles
}

// ClubRoles is a person's role keys in one club.
type ClubRoles struct {
	Code  string
	Roles []string
}

// ClubChange is a club's state in Kinde after an organization.* event.
type ClubChange struct {
	Club    Club
	Deleted bool
}
