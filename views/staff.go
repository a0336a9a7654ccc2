package views

import (
	"net/url"
	"strings"
	"time"

	"github.com/clubhouse/clubhouse/views/components"
	"github.com/clubhouse/clubhouse/views/layout"
)

// StaffConsolePage is the staff console: every club, searchable by name or
// code, with its owners and member count.
type StaffConsolePage struct {
	Shell    layout.ShellProps
	Query    string
	Clubs    []StaffClubSummary
	Page     int
	PageSize int
	Total    int // clubs matching Query
	// Error says the club list could not be read (Kinde did not answer).
	Error string
}

// StaffClubSummary is one club in the staff console.
type StaffClubSummary struct {
	Code        string
	Name        string
	Owners      []string // owners' names
	MemberCount int
	// Synced is false when the club's members could not be read from
	// Kinde yet; Owners and MemberCount are then unknown.
	Synced bool
}

// StaffClubPage is one club as staff see it before a view-as: its owners
// and members, and the form that starts a view-as.
type StaffClubPage struct {
	Shell    layout.ShellProps
	Code     string
	Name     string
	Owners   []MemberRow
	Members  []MemberRow // one page of members
	Query    string
	Page     int
	PageSize int
	Total    int // members matching Query
	Form     ViewAsForm
	Now      time.Time
	// ViewingAs is set when a view-as is already running: no new one can
	// start until it is stopped.
	ViewingAs string
}

// ViewAsForm starts a view-as: whom to view as ("owner" or a member's id)
// and why.
type ViewAsForm struct {
	Target string // "owner" or a member id
	Reason string
	Errors FieldErrors
}

// StaffAuditPage is the whole audit log for staff: every club, or one.
type StaffAuditPage struct {
	Shell    layout.ShellProps
	Club     string // club code filter; "" = every club
	Clubs    []StaffClubOption
	Rows     []StaffAuditRow
	Page     int
	PageSize int
	Total    int
	Now      time.Time
}

// StaffClubOption is one club in the audit filter.
type StaffClubOption struct {
	Code string
	Name string
}

// StaffAuditRow is one audit event with where it came from.
type StaffAuditRow struct {
	ActivityRow
	ClubName  string
	IP        string
	UserAgent string
}

// StaffURL is the staff console for a search and page.
func StaffURL(q string, page int) string { return listURL("/staff", page, "q", q) }

// StaffClubURL is one club in the staff console, for a member search and
// page.
func StaffClubURL(code, q string, page int) string {
	return listURL("/staff/clubs/"+url.PathEscape(code), page, "q", q)
}

// StaffAuditURL is the staff audit log for a club filter and page.
func StaffAuditURL(clubCode string, page int) string {
	return listURL("/staff/audit", page, "club", clubCode)
}

func (p StaffConsolePage) pagination() components.PaginationProps {
	return pages(p.Page, p.PageSize, p.Total, "Club pages", func(n int) string { return StaffURL(p.Query, n) })
}

func (p StaffClubPage) pagination() components.PaginationProps {
	return pages(p.Page, p.PageSize, p.Total, "Member pages", func(n int) string { return StaffClubURL(p.Code, p.Query, n) })
}

func (p StaffAuditPage) pagination() components.PaginationProps {
	return pages(p.Page, p.PageSize, p.Total, "Audit pages", func(n int) string { return StaffAuditURL(p.Club, n) })
}

func (f ViewAsForm) targetIs(id string) bool {
	if f.Target == "" {
		return id == "owner"
	}
	return f.Target == id
}

func ownersLabel(names []string) string {
	if len(names) == 0 {
		return "No owner"
	}
	return strings.Join(names, ", ")
}

func orAll(s string) string {
	if s == "" {
		return "Every club"
	}
	return s
}

func staffNames(ps []MemberRow) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, orDash(p.Name))
	}
	return out
}
