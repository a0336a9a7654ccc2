package views

import (
	"time"

	"github.com/clubhouse/clubhouse/views/components"
	"github.com/clubhouse/clubhouse/views/layout"
)

// Role is one of the club's roles, as a badge shows it.
type Role = components.Role

// RoleOption is one role checkbox in a form.
type RoleOption = components.RoleOption

// RoleOptions lists roles as checkboxes, checking the keys in selected.
func RoleOptions(roles []Role, selected []string) []RoleOption {
	return components.RoleOptions(roles, selected)
}

// RelativeTime describes t relative to now ("3 days ago").
func RelativeTime(now, t time.Time) string { return components.RelativeTime(now, t) }

// Initials returns a person's initials for an avatar ("Mia Chen" -> "MC").
func Initials(name string) string { return components.Initials(name) }

// FieldErrors maps a form field name ("email", "first_name", "last_name",
// "roles", "name") to the message shown next to it. It has the shape of
// club.Error.Fields, so a handler can pass those straight through.
type FieldErrors map[string]string

// Get returns the message for field, or "".
func (e FieldErrors) Get(field string) string { return e[field] }

// LandingPage is the signed-out home page.
type LandingPage struct {
	Shell layout.ShellProps
}

// OnboardingForm is the "Create your club" form: the typed name and its error.
type OnboardingForm struct {
	Name      string
	Error     string // next to the name field
	FormError string // about the whole form, e.g. Kinde did not answer
}

// OnboardingPage is shown to a signed-in person who has no club yet.
type OnboardingPage struct {
	Shell layout.ShellProps
	Form  OnboardingForm
}

// SettingsPage is the club's settings, for its owners: its name and how
// members reach it.
type SettingsPage struct {
	Shell    layout.ShellProps
	ClubCode string // the Kinde organization code, for support and configuration
	// SignInURL signs a member straight into this club: the link the
	// invitation emails carry, without a login hint.
	SignInURL string
	Form      SettingsForm
}

// SettingsForm is the club name form with its value and errors.
type SettingsForm struct {
	Name      string
	Error     string // next to the name field
	FormError string // about the whole form, e.g. Kinde did not answer
}

// ClubHomePage is what a member sees of a club.
type ClubHomePage struct {
	Shell    layout.ShellProps
	ClubName string
	Roles    []Role // the person's roles here
	// OtherClubs are the person's other clubs, with switch links.
	OtherClubs []layout.ClubLink
	// CanManageMembers shows owners and admins the way to the members page.
	CanManageMembers bool
}

// MembersPage is the members screen: title and count, search, the table,
// and the add-member dialog.
type MembersPage struct {
	Shell layout.ShellProps
	List  MemberList
	// AddForm is the add-member form in the dialog; normally blank with
	// "member" preselected (see BlankAddMemberForm). Shown when List.CanEdit.
	AddForm AddMemberForm
	// FailedInvitations is how many members' invitations were given up
	// on; the page points the owner at them.
	FailedInvitations int
}

// MemberList is one page of a club's members: the region htmx swaps on
// search, sort and page (the MembersTable fragment).
type MemberList struct {
	ClubName  string
	Rows      []MemberRow
	Query     string // the search as typed
	Sort      string // "name", "-name", "joined" or "-joined"
	Page      int    // 1-based
	PageSize  int
	Total     int // members matching Query
	ClubTotal int // all members of the club
	Now       time.Time
	// LastSynced is when the list was last refreshed from Kinde; zero if never.
	LastSynced time.Time
	// CanEdit shows Add member, the row actions and Refresh from Kinde.
	CanEdit bool
}

// MemberRow is one member in the table.
type MemberRow struct {
	ID     string // the member's id in URLs such as /members/{id}/roles
	Name   string
	Email  string
	Roles  []Role
	Joined time.Time
	// Highlight marks a row that was just added or changed; it fades.
	Highlight bool
	// You marks the signed-in person's own row.
	You bool
}

// AddMemberForm is the add-member form with typed values and errors.
type AddMemberForm struct {
	ClubName  string
	Email     string
	FirstName string
	LastName  string
	Roles     []RoleOption
	Errors    FieldErrors
	FormError string // e.g. "Kinde did not answer. Nothing was changed. Try again in a minute."
	// Standalone renders the form for the full page at /members/new: a plain
	// POST with a Cancel link, no htmx.
	Standalone bool
}

// BlankAddMemberForm is an empty add-member form with the "member" role
// preselected.
func BlankAddMemberForm(clubName string, roles []Role) AddMemberForm {
	return AddMemberForm{ClubName: clubName, Roles: RoleOptions(roles, []string{"member"})}
}

// AddMemberPage is the full-page add-member form (the no-JavaScript path).
type AddMemberPage struct {
	Shell layout.ShellProps
	Form  AddMemberForm
}

// MemberAdded is the htmx answer to a successful add: a blank form (which
// closes the dialog), the table with the new row highlighted at the top,
// the new count and a flash, the last three out of band.
type MemberAdded struct {
	Form    AddMemberForm
	List    MemberList
	Flashes []layout.Flash
}

// MembersUpdate is the htmx answer to a change that re-renders the table,
// such as Refresh from Kinde: the table, plus the count and a flash out of
// band.
type MembersUpdate struct {
	List    MemberList
	Flashes []layout.Flash
}

// EditRolesForm is the roles editor for one member, inline in the table
// row or as a full page.
type EditRolesForm struct {
	MemberID string
	Name     string
	Email    string
	Roles    []RoleOption
	// Error is a guard-rail or validation message about the roles, shown
	// next to them, e.g. "A club needs at least one owner."
	Error string
	// FormError is about the whole change, e.g. Kinde did not answer.
	FormError string
	// CancelURL is where Cancel goes: the members list as it was
	// ("/members" when empty).
	CancelURL string
}

// EditRolesPage is the full-page roles editor.
type EditRolesPage struct {
	Shell layout.ShellProps
	Form  EditRolesForm
}

// RolesSaved is the htmx answer to a successful role change: the member's
// row (usually highlighted) and a flash out of band.
type RolesSaved struct {
	Row     MemberRow
	Now     time.Time
	CanEdit bool
	Flashes []layout.Flash
}

// RemoveMemberPage asks to confirm removing a member from the club.
type RemoveMemberPage struct {
	Shell    layout.ShellProps
	MemberID string
	Name     string
	Email    string
	ClubName string
	Error    string // e.g. "A club needs at least one owner."
	// CancelURL is where Cancel goes ("/members" when empty).
	CancelURL string
}

// InvitationsPage is the club's invitation emails, newest first, for its
// admins: what went out, what is being retried, what was given up on.
type InvitationsPage struct {
	Shell    layout.ShellProps
	Rows     []InvitationRow
	Page     int
	PageSize int
	Total    int
	Now      time.Time
}

// InvitationState is where an invitation email is.
type InvitationState string

// Invitation states.
const (
	InvitationSending  InvitationState = "sending"  // queued, not tried yet
	InvitationRetrying InvitationState = "retrying" // a send failed; another is scheduled
	InvitationSent     InvitationState = "sent"
	InvitationFailed   InvitationState = "failed" // given up on
)

// InvitationRow is one invitation email.
type InvitationRow struct {
	Email     string
	Name      string
	InvitedBy string
	Status    InvitationState
	Attempts  int    // failed sends so far
	LastError string // short and safe
	Created   time.Time
	Sent      time.Time
	NextTry   time.Time
	// ResendID, when set, is the member a resend goes to: the person is
	// still a member and this is their latest invitation.
	ResendID string
	// Superseded: a newer invitation went to the same address.
	Superseded bool
	// LeftClub: the person is no longer a member of the club.
	LeftClub bool
}

// ActivityPage is the club's audit log, newest first.
type ActivityPage struct {
	Shell layout.ShellProps
	Rows  []ActivityRow
	// People fill the person filter; Person is the selected id ("" = all).
	People   []PersonOption
	Person   string
	Page     int
	PageSize int
	Total    int
	Now      time.Time
}

// ActivityRow is one audit event: when, who, what, to whom.
type ActivityRow struct {
	At        time.Time
	ActorID   string
	ActorName string
	Action    string // an audit action key such as "member.added"
	TargetID  string
	Target    string // the target's name or email
	Detail    string // short and human-readable
}

// PersonOption is one person in the activity filter.
type PersonOption struct {
	ID   string
	Name string
}

// MailStatus is where an email is in its delivery.
type MailStatus string

// Mail delivery states.
const (
	MailSent     MailStatus = "sent"
	MailFailed   MailStatus = "failed"
	MailRetrying MailStatus = "retrying"
	MailQueued   MailStatus = "queued"
)

// MailboxPage lists the messages in the development mailbox, newest first.
type MailboxPage struct {
	Shell    layout.ShellProps
	Messages []MailSummary
	Now      time.Time
}

// MailSummary is one message in the mailbox list.
type MailSummary struct {
	ID      int64
	To      string
	Subject string
	At      time.Time
	Status  MailStatus // "" when unknown
}

// MailMessagePage shows one message from the development mailbox.
type MailMessagePage struct {
	Shell   layout.ShellProps
	ID      int64
	From    string
	To      string
	Subject string
	At      time.Time
	Status  MailStatus
	HTML    string // shown in a sandboxed frame, never in the page itself
	Text    string
	Now     time.Time
}

// ErrorPage explains a failure: what happened, whether anything changed,
// what to do, and a way back. ErrorFor fills it for a status.
type ErrorPage struct {
	Shell     layout.ShellProps
	Status    int
	Title     string
	Message   string
	BackURL   string
	BackLabel string
}

// InvitationEmail is the email a person gets after being added to a club.
type InvitationEmail struct {
	ClubName   string
	PersonName string // may be empty
	InvitedBy  string // may be empty
	SignInURL  string // the portal's login route with org_code and login_hint
}
