package club

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Club is a Kinde organization seen as a club.
type Club struct {
	Code string // Kinde org_code, e.g. "org_1a2b3c4d5e6"
	Name string
}

// Role is a role a member can hold in a club. Roles are defined once in
// Kinde and shared by every club.
type Role struct {
	ID   string // Kinde role id (UUID); some Kinde calls need it
	Key  string // e.g. "owner", "admin", "coach", "member"
	Name string // e.g. "Owner"
}

// Well-known role keys. The portal's rules (who may grant what, the last
// owner) are written in terms of these.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleCoach  = "coach"
	RoleMember = "member"
)

// Permission keys read from the verified access token.
const (
	PermMembersRead  = "members:read"
	PermMembersWrite = "members:write"
	PermClubManage   = "club:manage"
	PermImpersonate  = "staff:impersonate"
)

// Person is a Kinde identity. Identities are global: one person can be a
// member of several clubs.
type Person struct {
	ID        string // Kinde user id, "kp_" + 32 hex
	Email     string // normalised (lower case)
	FirstName string
	LastName  string
}

// Member is a person's membership of one club, with their roles there.
type Member struct {
	ClubCode  string
	UserID    string
	Email     string
	FirstName string
	LastName  string
	Roles     []string // role keys, sorted
	JoinedAt  time.Time
	// Pending marks a membership whose Kinde steps are not all done yet (the
	// person was created in the club but their roles were not yet granted).
	// Pending members are not listed; the next add for the same email
	// finishes the work.
	Pending bool
	// NamesByClub marks names this club typed (in an add or an import),
	// even empty ones. A refresh from Kinde never replaces them: names in
	// Kinde may have been typed by another club, and showing them would
	// tell this club that someone knew the person.
	NamesByClub bool
}

// Name is the member's display name, falling back to the email.
func (m Member) Name() string {
	n := strings.TrimSpace(m.FirstName + " " + m.LastName)
	if n == "" {
		return m.Email
	}
	return n
}

// HasRole reports whether the member holds the role key.
func (m Member) HasRole(key string) bool { return slices.Contains(m.Roles, key) }

// MemberSort orders a member listing.
type MemberSort string

// Member listing orders.
const (
	SortNameAsc    MemberSort = "name"
	SortNameDesc   MemberSort = "-name"
	SortJoinedAsc  MemberSort = "joined"
	SortJoinedDesc MemberSort = "-joined"
)

// ParseMemberSort returns the sort for s, or SortNameAsc for anything unknown.
func ParseMemberSort(s string) MemberSort {
	switch v := MemberSort(s); v {
	case SortNameAsc, SortNameDesc, SortJoinedAsc, SortJoinedDesc:
		return v
	}
	return SortNameAsc
}

// MemberQuery selects a page of a club's members.
type MemberQuery struct {
	Search string // matches name or email, case-insensitive substring
	Sort   MemberSort
	Offset int
	Limit  int // 1..MaxPageSize
}

// MaxPageSize bounds a member listing page.
const MaxPageSize = 100

// MemberPage is one page of members and the total that matched.
type MemberPage struct {
	Members []Member
	Total   int // members matching the query
	// ClubTotal is every listed member of the club, whatever the search;
	// implementations fill it, counting once where they can.
	ClubTotal int
}

// Actor is who performs an action: a signed-in person acting in a club.
type Actor struct {
	UserID string
	Email  string
	Name   string
	Roles  []string // their role keys in the club, from the verified token
}

// IsOwner reports whether the actor holds the owner role.
func (a Actor) IsOwner() bool { return slices.Contains(a.Roles, RoleOwner) }

// AuditEvent is one append-only row of the audit log: who did what, to whom,
// when, in which club.
type AuditEvent struct {
	ID          int64
	ClubCode    string
	ActorID     string
	ActorName   string
	Action      string // one of the Action* constants
	TargetID    string
	TargetEmail string
	Detail      string // short, human-readable, never a secret
	At          time.Time
	// IP and UserAgent say where a staff action came from. They are set
	// only on staff rows and shown only to staff, never to club owners.
	IP        string
	UserAgent string
}

// Audit actions.
const (
	ActionMemberAdded        = "member.added"
	ActionMemberRolesChanged = "member.roles_changed"
	ActionMemberRemoved      = "member.removed"
	ActionClubCreated        = "club.created"
	ActionClubSynced         = "club.synced"
	ActionClubRenamed        = "club.renamed"
	ActionInvitationSent     = "invitation.sent"
	ActionInvitationFailed   = "invitation.failed"
	ActionInvitationResent   = "invitation.resent"

	// Staff "view as": platform staff seeing a club as one of its members,
	// read-only. The actor is the staff person, the target the person
	// viewed as.
	ActionViewAsStarted      = "staff.view_as.started"
	ActionViewAsPage         = "staff.view_as.page"
	ActionViewAsStopped      = "staff.view_as.stopped"
	ActionViewAsExpired      = "staff.view_as.expired"
	ActionViewAsRefused      = "staff.view_as.refused"       // a start or stop that was refused
	ActionViewAsWriteRefused = "staff.view_as.write_refused" // a change attempted during a view-as
	ActionStaffRouteRefused  = "staff.route_refused"         // someone who is not staff on a staff page
)

// Invitation is the email a person gets after being added to a club. The
// sign-in link carries the club's org_code and the person's email as
// login_hint through the portal's own login route.
type Invitation struct {
	ClubCode  string
	ClubName  string
	Email     string
	Name      string
	InvitedBy string
}

// Identity is who a signed-in person is, read only from tokens whose
// signatures were verified: the ID token for the profile and their clubs,
// the access token for the current club, roles and permissions.
type Identity struct {
	UserID      string
	Email       string
	GivenName   string
	FamilyName  string
	ClubCode    string   // access token org_code; "" when they belong to no club
	ClubName    string   // access token org_name
	Roles       []string // role keys in ClubCode
	Permissions []string // permission keys in ClubCode
	Clubs       []Club   // every club they belong to (ID token org_codes / organizations)
}

// Name is the person's display name, falling back to the email.
func (id Identity) Name() string {
	n := strings.TrimSpace(id.GivenName + " " + id.FamilyName)
	if n == "" {
		return id.Email
	}
	return n
}

// Can reports whether the identity holds the permission in its club.
func (id Identity) Can(perm string) bool { return slices.Contains(id.Permissions, perm) }

// Actor returns the identity as the actor of a change in its club.
func (id Identity) Actor() Actor {
	return Actor{UserID: id.UserID, Email: id.Email, Name: id.Name(), Roles: slices.Clone(id.Roles)}
}

// Tokens are a signed-in person's Kinde tokens. They live only in the
// server-side session store, never in a cookie.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	Expiry       time.Time // of the access token
}

// AuditQuery selects a page of a club's audit log, newest first.
type AuditQuery struct {
	ClubCode string // "" means every club (staff only)
	Person   string // actor or target user id; "" means anyone
	Offset   int
	Limit    int
}

// AuditPage is one page of audit events and the total that matched.
type AuditPage struct {
	Events []AuditEvent
	Total  int
}

// InvitationStatus is where an invitation email is in its delivery.
type InvitationStatus string

// Invitation delivery states.
const (
	InvitationQueued InvitationStatus = "queued"
	InvitationSent   InvitationStatus = "sent"
	InvitationFailed InvitationStatus = "failed"
)

// OutboxItem is an invitation waiting in (or gone through) the outbox.
type OutboxItem struct {
	ID            int64
	Invitation    Invitation
	Status        InvitationStatus
	Attempts      int
	LastError     string // short and safe: no secrets, no server names
	NextAttemptAt time.Time
	CreatedAt     time.Time
	SentAt        time.Time
}

// SyncChanges is what replacing a club's members with Kinde's list changed
// in the directory. Pending memberships (an add still under way) count
// neither as joined nor as left.
type SyncChanges struct {
	Joined       int // listed now, not before
	Left         int // listed before, not now
	RolesChanged int // listed before and now, with other roles
	Updated      int // listed before and now, same roles, another email
}

// None reports whether nothing changed.
func (c SyncChanges) None() bool { return c == SyncChanges{} }

// Count adds what happened to one membership listed by Kinde: before is it
// as it was (known is false when there was none), after as it is now.
// Members who left are counted by the caller, who knows who is gone.
func (c *SyncChanges) Count(before Member, known bool, after Member) {
	switch was, is := known && !before.Pending, !after.Pending; {
	case !was && is:
		c.Joined++
	case was && is && !slices.Equal(before.Roles, after.Roles):
		c.RolesChanged++
	case was && is && before.Email != after.Email:
		c.Updated++
	}
}

// String says what changed: "2 joined, 1 left" or "no changes".
func (c SyncChanges) String() string {
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	add(c.Joined, "joined", "joined")
	add(c.Left, "left", "left")
	add(c.RolesChanged, "with changed roles", "with changed roles")
	add(c.Updated, "with a changed email", "with a changed email")
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, ", ")
}

// ClubInvitation is an invitation as the club's admins see it: the outbox
// item and, while the person is still a listed member of the club, their
// user id (for the resend action).
type ClubInvitation struct {
	OutboxItem
	MemberID string // "" once they are no longer a member
	// Superseded is true when a newer invitation went to the same address.
	Superseded bool
}

// InvitationPage is one page of a club's invitations, newest first.
type InvitationPage struct {
	Items []ClubInvitation
	Total int
}

// Mail is one message as delivered to the development mailbox.
type Mail struct {
	ID      int64
	To      string
	Subject string
	HTML    string
	Text    string
	At      time.Time
}

// SignInRequest says how to send a person to Kinde to sign in.
type SignInRequest struct {
	ClubCode   string // sign straight into this club (Kinde org_code)
	Prompt     string // "", PromptNone, PromptLogin or PromptCreate
	LoginHint  string // email to pre-fill
	CreateClub bool   // create a new club (Kinde is_create_org) named ClubName
	ClubName   string
}

// Kinde prompt values.
const (
	PromptNone   = "none"
	PromptLogin  = "login"
	PromptCreate = "create"
)
