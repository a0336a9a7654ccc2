package club

import (
	"context"
	"time"
)

// Directory is Clubhouse's own record of who is in which club. It is kept
// current by the portal's writes, by a refresh from Kinde, and (later) by
// Kinde's webhooks. Implementations: internal/store (SQLite, PostgreSQL).
//
// Lookups that find nothing return an error for which errors.Is(err,
// ErrNotFound) is true.
type Directory interface {
	// PersonByEmail returns the Kinde user the directory knows under email,
	// whichever club it learned it from. It never tells the caller which.
	PersonByEmail(ctx context.Context, email string) (Person, error)
	// Member returns userID's membership of the club, pending ones included.
	Member(ctx context.Context, clubCode, userID string) (Member, error)
	// Members lists a club's members (pending ones excluded).
	Members(ctx context.Context, clubCode string, q MemberQuery) (MemberPage, error)
	// CountWithRole counts a club's members holding roleKey.
	CountWithRole(ctx context.Context, clubCode, roleKey string) (int, error)
	// SaveMember writes the person (id and email) and the membership as the
	// portal's own change, known as of version v (taken once Kinde did the
	// change; 0 means now), unless the directory knows something newer. In
	// the same transaction it appends ev (when non-nil) to the audit log and
	// queues inv (when non-nil) for sending.
	SaveMember(ctx context.Context, v Version, m Member, ev *AuditEvent, inv *Invitation) error
	// DeleteMember removes a membership as of version v (0: now), unless
	// the directory knows something newer, and appends ev, in one
	// transaction. Deleting a membership that does not exist is not an
	// error.
	DeleteMember(ctx context.Context, v Version, clubCode, userID string, ev AuditEvent) error
	// ReplaceMembers writes a snapshot of the club's members, ms, as a read
	// of Kinde that started at version v listed them, and records when that
	// happened, in one transaction that also appends the audit row event
	// returns for what changed (none when it returns nil). Memberships
	// written after v, and adds under way, are kept as they are. It
	// returns what changed.
	ReplaceMembers(ctx context.Context, c Club, ms []Member, v Version, syncedAt time.Time, event func(SyncChanges) *AuditEvent) (SyncChanges, error)
	// BeginRead returns the version of a read of Kinde that starts now:
	// what it finds is newer than every write recorded before.
	BeginRead(ctx context.Context) (Version, error)
	// ApplyPerson writes what a re-read of one person in Kinde, started at
	// version v, found, where it is newer than what the directory has.
	// stale is true when it passed over facts that differ from the
	// directory's because another read overlapped this one: the caller
	// reads again.
	ApplyPerson(ctx context.Context, v Version, f PersonFacts) (stale bool, err error)
	// ApplyClub writes what a re-read of a club in Kinde, started at
	// version v, found: its name, or that it is gone (deleted).
	ApplyClub(ctx context.Context, v Version, c Club, deleted bool) error
	// KeptClubs returns those of codes whose members the portal keeps.
	KeptClubs(ctx context.Context, codes []string) ([]string, error)
	// StartAdd records that an add of email to the club is under way, so
	// that what Kinde shows of it meanwhile stays unlisted.
	StartAdd(ctx context.Context, clubCode, email string) error
	// StartChange records that the portal is changing userID's membership
	// of the club (roles, removal), so that what Kinde shows of it before
	// the portal saves it writes no activity row of Kinde's.
	StartChange(ctx context.Context, clubCode, userID string) error
	// FinishAdd lists m as a member once Kinde has them with their roles,
	// appends ev and queues inv (when non-nil), in one transaction. Exactly
	// one caller finishes an add: finished is false, and nothing is
	// written, when m was listed already.
	// v is the version once Kinde had them with their roles (0: now).
	FinishAdd(ctx context.Context, v Version, m Member, ev AuditEvent, inv *Invitation) (finished bool, err error)
	// Lock takes the lock named key, shared by every portal instance,
	// waiting for whoever holds it, and returns its release.
	Lock(ctx context.Context, key string) (unlock func(), err error)
	// SaveClub records a club created through the portal by creatorID, and
	// appends ev.
	SaveClub(ctx context.Context, c Club, creatorID string, ev AuditEvent) error
	// RenameClub records the club's new name and appends ev, in one
	// transaction.
	RenameClub(ctx context.Context, c Club, ev AuditEvent) error
	// RecentClubByCreator returns a club named name that creatorID created
	// at or after since. It is how a double-submitted "create club" form
	// creates one club.
	RecentClubByCreator(ctx context.Context, creatorID, name string, since time.Time) (Club, error)
	// QueueInvitation sends userID another invitation to the club, in one
	// transaction that locks the membership: it returns ErrNotFound unless
	// userID is a listed member of inv.ClubCode, passes allow the latest
	// invitation to inv.Email in the club (the zero OutboxItem when there is
	// none), and when allow returns nil queues inv and appends ev. An error
	// from allow is returned as is and nothing is written.
	QueueInvitation(ctx context.Context, userID string, inv Invitation, ev AuditEvent, allow func(last OutboxItem) error) error
	// MarkClaimsStale records that userID's tokens no longer match their
	// roles, so the portal refreshes them before authorizing their next
	// request.
	MarkClaimsStale(ctx context.Context, userID string, at time.Time) error
}

// Identities is the management side of the identity provider (Kinde), the
// source of truth for people, clubs, memberships and roles: the part of it
// the domain needs. Implementation: internal/kinde (Kinde's Management
// API). Errors: ErrNotFound for lookups that find nothing, ErrEmailInUse
// from CreatePerson, and an EUNAVAILABLE error when the provider did not
// answer after retries.
type Identities interface {
	// FindPersonByEmail looks a person up by exact email.
	FindPersonByEmail(ctx context.Context, email string) (Person, error)
	// CreatePerson creates a person with an email identity, as a member of
	// the club (no roles yet).
	CreatePerson(ctx context.Context, p Person, clubCode string) (Person, error)
	// AddMember adds an existing person to the club with roles, in one call.
	// added is false when they already were a member (nothing changed then).
	AddMember(ctx context.Context, clubCode, userID string, roles []string) (added bool, err error)
	// GrantRoles adds roles to a member (roles they hold already are kept).
	GrantRoles(ctx context.Context, clubCode, userID string, roles []string) error
	// RevokeRole takes one role away from a member.
	RevokeRole(ctx context.Context, clubCode, userID, roleKey string) error
	// MemberRoles lists a member's role keys in the club.
	MemberRoles(ctx context.Context, clubCode, userID string) ([]string, error)
	// RemoveMember removes a person from the club.
	RemoveMember(ctx context.Context, clubCode, userID string) error
	// RefreshClaims tells Kinde that userID's token claims are out of date.
	RefreshClaims(ctx context.Context, userID string) error
	// CreateClub creates a club (a Kinde organization).
	CreateClub(ctx context.Context, name string) (Club, error)
	// RenameClub changes a club's name.
	RenameClub(ctx context.Context, clubCode, name string) error
	// PersonClubs re-reads a person: who they are and the codes of every
	// club they are in. ErrNotFound when Kinde no longer has them.
	PersonClubs(ctx context.Context, userID string) (Person, []string, error)
	// Club re-reads a club. ErrNotFound when Kinde no longer has it.
	Club(ctx context.Context, code string) (Club, error)
	// ClubMembers lists all of a club's members, following every page.
	ClubMembers(ctx context.Context, clubCode string) ([]Member, error)
	// Roles lists the roles defined in Kinde (shared by every club).
	Roles(ctx context.Context) ([]Role, error)
}

// AuditLog reads the append-only audit log. Rows are appended by the
// Directory's writes (and by the web layer for sign-in and staff events).
type AuditLog interface {
	Append(ctx context.Context, ev AuditEvent) error
	Events(ctx context.Context, q AuditQuery) (AuditPage, error)
}

// Outbox holds invitation emails until they are sent. The Directory writes
// an item, and queues the background job that sends it, in the transaction
// that adds the member (or resends); each attempt of that job reads the item
// and records its outcome. Implementation: internal/store.
//
// The marks are fenced by attempt, the job's attempt number (counting from
// 1): one changes the item only while it is queued and no attempt numbered
// attempt or later has recorded an outcome. Otherwise nothing changes and
// recorded is false: the attempt is stale, and a newer one owns the item.
// Marking an item that does not exist returns ErrNotFound.
type Outbox interface {
	// OutboxItem returns an item; ErrNotFound when there is none.
	OutboxItem(ctx context.Context, id int64) (OutboxItem, error)
	// MarkSent records that attempt sent the item at at.
	MarkSent(ctx context.Context, id int64, attempt int, at time.Time) (recorded bool, err error)
	// MarkRetry records that attempt failed for reason and when the next
	// one is due.
	MarkRetry(ctx context.Context, id int64, attempt int, next time.Time, reason string) (recorded bool, err error)
	// MarkFailed records that attempt, the last, failed for reason: the
	// item is given up on and ev appended, in one transaction (ev only when
	// recorded).
	MarkFailed(ctx context.Context, id int64, attempt int, reason string, ev AuditEvent) (recorded bool, err error)
}

// Invitations is what a club's admins see of its invitation emails.
// Implementation: internal/store.
type Invitations interface {
	// ClubInvitations lists a page of the club's invitations, newest first,
	// with the member each was for while they are still one.
	ClubInvitations(ctx context.Context, clubCode string, offset, limit int) (InvitationPage, error)
	// FailedInvitations counts the club's current members whose latest
	// invitation was given up on: what the owner should look at.
	FailedInvitations(ctx context.Context, clubCode string) (int, error)
}

// DevMailbox keeps the mail sent under `make run`, for the development
// mailbox page. Nothing in it ever leaves the machine.
type DevMailbox interface {
	Deliver(ctx context.Context, m Mail) error
	Messages(ctx context.Context, limit int) ([]Mail, error)
	Message(ctx context.Context, id int64) (Mail, error)
}
