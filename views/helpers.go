package views

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/clubhouse/clubhouse/views/components"
)

// Member list sort orders, as they appear in the URL.
const (
	SortName       = "name"
	SortNameDesc   = "-name"
	SortJoined     = "joined"
	SortJoinedDesc = "-joined"
)

// normSort returns s if it is a known sort, else SortName.
func normSort(s string) string {
	switch s {
	case SortName, SortNameDesc, SortJoined, SortJoinedDesc:
		return s
	}
	return SortName
}

// MembersURL is the members list URL for a search, sort and page, leaving
// out defaults: MembersURL("mia", "-joined", 2) is
// "/members?page=2&q=mia&sort=-joined".
func MembersURL(q, sort string, page int) string {
	if sort = normSort(sort); sort == SortName {
		sort = ""
	}
	return listURL("/members", page, "q", strings.TrimSpace(q), "sort", sort)
}

// listURL is a list page's URL: path with the non-empty values of the
// key-value pairs kv, and page when past the first, in a stable order.
func listURL(path string, page int, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// MemberRolesURL is the roles editor of one member.
func MemberRolesURL(id string) string { return "/members/" + url.PathEscape(id) + "/roles" }

// MemberRemoveURL is the remove confirmation (GET) and action (POST) of one member.
func MemberRemoveURL(id string) string { return "/members/" + url.PathEscape(id) + "/remove" }

// MemberInviteURL sends a member another invitation email (POST).
func MemberInviteURL(id string) string { return "/members/" + url.PathEscape(id) + "/invite" }

// InvitationsURL is a page of the club's invitations.
func InvitationsURL(page int) string { return listURL("/invitations", page) }

// ActivityURL is the activity page for a person filter and page.
func ActivityURL(person string, page int) string { return listURL("/activity", page, "person", person) }

// MailURL is one message in the development mailbox.
func MailURL(id int64) string { return "/dev/mailbox/" + strconv.FormatInt(id, 10) }

// sortHeader is a sortable column header: its link and its aria-sort.
type sortHeader struct {
	URL      string
	AriaSort string // "ascending", "descending" or "" (not sorted by this column)
}

// headerFor returns the header of column ("name" or "joined") for the list.
// Clicking the sorted column flips its direction; clicking another sorts
// names A to Z and joined dates newest first.
func headerFor(l MemberList, column string) sortHeader {
	cur := normSort(l.Sort)
	asc, desc := column, "-"+column
	switch cur {
	case asc:
		return sortHeader{URL: MembersURL(l.Query, desc, 1), AriaSort: "ascending"}
	case desc:
		return sortHeader{URL: MembersURL(l.Query, asc, 1), AriaSort: "descending"}
	}
	first := asc
	if column == "joined" {
		first = desc
	}
	return sortHeader{URL: MembersURL(l.Query, first, 1)}
}

func sortDescription(sort string) string {
	switch normSort(sort) {
	case SortNameDesc:
		return "sorted by name, Z to A"
	case SortJoined:
		return "sorted by joined date, oldest first"
	case SortJoinedDesc:
		return "sorted by joined date, newest first"
	}
	return "sorted by name, A to Z"
}

// pages is the pagination of a list: page (1-based) of size rows out of
// total, with link giving the URL of another page.
func pages(page, size, total int, label string, link func(page int) string) components.PaginationProps {
	if size <= 0 {
		size = 50
	}
	page = max(page, 1)
	p := components.PaginationProps{Page: page, Size: size, Total: total, Label: label}
	if page > 1 {
		p.PrevURL = link(page - 1)
	}
	if page < components.PageCount(size, total) {
		p.NextURL = link(page + 1)
	}
	return p
}

func (l MemberList) pagination() components.PaginationProps {
	p := pages(l.Page, l.PageSize, l.Total, "Member pages", func(n int) string { return MembersURL(l.Query, l.Sort, n) })
	p.HXTarget = "#members-table"
	return p
}

// failedInvitationsText tells the owner how many invitations never
// arrived.
func failedInvitationsText(n int) string {
	if n == 1 {
		return "1 member's invitation could not be sent, so they have no sign-in link."
	}
	return components.FormatCount(n) + " members' invitations could not be sent, so they have no sign-in link."
}

func (l MemberList) clubEmpty() bool { return l.ClubTotal == 0 && len(l.Rows) == 0 && l.Query == "" }

func (l MemberList) noHits() bool { return len(l.Rows) == 0 && !l.clubEmpty() }

func (a ActivityPage) pagination() components.PaginationProps {
	return pages(a.Page, a.PageSize, a.Total, "Activity pages", func(n int) string { return ActivityURL(a.Person, n) })
}

func (p InvitationsPage) pagination() components.PaginationProps {
	return pages(p.Page, p.PageSize, p.Total, "Invitation pages", InvitationsURL)
}

// state names where an invitation is, in words, with the class of its
// status pill.
func (r InvitationRow) state() (label, class string) {
	switch r.Status {
	case InvitationSent:
		return "Sent", "status status--ok"
	case InvitationRetrying:
		return "Retrying", "status status--wait"
	case InvitationFailed:
		return "Not sent", "status status--bad"
	}
	return "Sending", "status status--wait"
}

// attempts says how many sends failed: "1 attempt failed".
func (r InvitationRow) attempts() string {
	return attemptCount(r.Attempts) + " failed"
}

// attemptCount says n attempts: "1 attempt", "2 attempts".
func attemptCount(n int) string {
	return components.FormatCount(n) + " " + plural(n, "attempt", "attempts")
}

func (a ActivityPage) personName() string {
	for _, p := range a.People {
		if p.ID == a.Person {
			return p.Name
		}
	}
	return ""
}

// focus names the field that should take focus: the first one with an
// error, else the email.
func (f AddMemberForm) focus() string {
	for _, field := range []string{"email", "first_name", "last_name", "roles"} {
		if f.Errors.Get(field) != "" {
			return field
		}
	}
	return "email"
}

func cancelURL(u string) string {
	if u == "" {
		return "/members"
	}
	return u
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// ActionLabel describes an audit action key in words: "member.added" reads
// "Added a member". Unknown keys are shown as they are.
func ActionLabel(action string) string {
	switch action {
	case "member.added":
		return "Added a member"
	case "member.roles_changed":
		return "Changed roles"
	case "member.removed":
		return "Removed a member"
	case "club.created":
		return "Created the club"
	case "club.synced":
		return "Refreshed members from Kinde"
	case "club.renamed":
		return "Renamed the club"
	case "invitation.sent":
		return "Sent an invitation"
	case "invitation.failed":
		return "Invitation could not be sent"
	case "invitation.resent":
		return "Sent the invitation again"
	case "staff.view_as.started":
		return "Staff view started (read-only)"
	case "staff.view_as.page":
		return "Staff viewed a page"
	case "staff.view_as.stopped":
		return "Staff view stopped"
	case "staff.view_as.expired":
		return "Staff view ended: time limit"
	case "staff.view_as.refused":
		return "Staff view refused"
	case "staff.view_as.write_refused":
		return "Staff change refused: the view is read-only"
	case "staff.route_refused":
		return "Staff page refused: not staff"
	}
	return action
}

func mailStatusLabel(s MailStatus) string {
	switch s {
	case MailSent:
		return "Sent"
	case MailFailed:
		return "Failed"
	case MailRetrying:
		return "Retrying"
	case MailQueued:
		return "Queued"
	}
	return string(s)
}

func mailStatusClass(s MailStatus) string {
	switch s {
	case MailSent:
		return "status status--ok"
	case MailFailed:
		return "status status--bad"
	}
	return "status status--wait"
}

// MailLinks returns the http(s) links in a plain-text email body, in order
// and without duplicates, so the mailbox can show them as real links.
func MailLinks(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Fields(text) {
		i := strings.Index(f, "https://")
		if j := strings.Index(f, "http://"); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i < 0 {
			continue
		}
		l := f[i:]
		if k := strings.IndexAny(l, `<>"'()[]`); k >= 0 {
			l = l[:k]
		}
		l = strings.TrimRight(l, ".,;:!?")
		if strings.HasSuffix(l, "//") || seen[l] {
			continue
		}
		seen[l] = true
		out = append(out, l)
	}
	return out
}
