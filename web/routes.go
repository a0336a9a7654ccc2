package web

import (
	"net/http"

	"github.com/clubhouse/clubhouse/internal/club"
)

// access is who may use a route.
type access int

const (
	open     access = iota // no session at all: probes, assets
	anyone                 // the session is read, nobody needs to be signed in
	signedIn               // a signed-in person
	inClub                 // a signed-in person whose token names a club
	// staffOnly is platform staff: signed in to the configured staff org
	// with staff:impersonate in their verified token. Anyone else is
	// refused, and the refusal is audited.
	staffOnly
)

func (a access) String() string {
	return [...]string{"open", "anyone", "signed-in", "in-club", "staff"}[a]
}

// route is one entry of the URL surface.
type route struct {
	Method     string
	Pattern    string // net/http ServeMux pattern, without the method
	Access     access
	Permission string // from the verified token, in the token's club ("" = none)
	Handler    http.Handler
}

// routeTable is the portal's whole URL surface. No route takes a club from
// the URL or a form: the club is always the verified token's (or, during a
// staff view, the viewed club's). Only the staff routes name a club.
func (s *Server) routeTable() []route {
	rs := []route{
		{"GET", "/{$}", anyone, "", s.handleHome()},

		{"GET", "/auth/login", anyone, "", s.handleLogin()},
		{"GET", "/auth/callback", anyone, "", s.handleCallback()},
		{"POST", "/auth/logout", signedIn, "", s.handleLogout()},
		{"GET", "/auth/switch", signedIn, "", s.handleSwitch()},
		{"POST", "/auth/switch", signedIn, "", s.handleSwitchConfirmed()},

		{"GET", "/onboarding", signedIn, "", s.handleOnboardingForm()},
		{"POST", "/onboarding", signedIn, "", s.handleOnboardingCreate()},

		{"GET", "/club", inClub, "", s.handleClubHome()},

		{"GET", "/members", inClub, club.PermMembersRead, s.handleMembersList()},
		{"GET", "/members/new", inClub, club.PermMembersWrite, s.handleMembersNew()},
		{"POST", "/members", inClub, club.PermMembersWrite, s.handleMembersAdd()},
		{"POST", "/members/refresh", inClub, club.PermMembersWrite, s.handleMembersRefresh()},
		{"GET", "/members/{id}/roles", inClub, club.PermMembersWrite, s.handleRolesForm()},
		{"POST", "/members/{id}/roles", inClub, club.PermMembersWrite, s.handleRolesChange()},
		{"GET", "/members/{id}/remove", inClub, club.PermMembersWrite, s.handleRemoveConfirm()},
		{"POST", "/members/{id}/remove", inClub, club.PermMembersWrite, s.handleRemove()},
		{"POST", "/members/{id}/invite", inClub, club.PermMembersWrite, s.handleResendInvitation()},

		{"GET", "/invitations", inClub, club.PermMembersWrite, s.handleInvitations()},

		{"GET", "/activity", inClub, club.PermClubManage, s.handleActivity()},
		{"GET", "/settings", inClub, club.PermClubManage, s.handleSettings()},
		{"POST", "/settings", inClub, club.PermClubManage, s.handleSettingsSave()},

		// Platform staff. These are the only routes that name a club in
		// the URL or a form: staff look at any club, read-only.
		{"GET", "/staff", staffOnly, "", s.handleStaffConsole()},
		{"GET", "/staff/clubs/{code}", staffOnly, "", s.handleStaffClub()},
		{"POST", viewAsStartPattern, staffOnly, "", s.handleViewAsStart()},
		{"POST", viewAsStopPattern, staffOnly, "", s.handleViewAsStop()},
		{"GET", "/staff/audit", staffOnly, "", s.handleStaffAudit()},

		{"GET", "/healthz", open, "", s.handleHealthz()},
		{"GET", "/readyz", open, "", s.handleReadyz()},
		{"GET", "/static/", open, "", s.assets.Handler()},
	}
	if s.webhooks != nil {
		// Kinde posts here server to server: no session, no cookie, and
		// exempt from cross-origin protection (crossOrigin); the signed
		// JWT in the body is what is checked.
		rs = append(rs, route{"POST", webhookPattern, open, "", s.handleKindeWebhook()})
	}
	if s.importer != nil {
		// Bulk member import. The import id in a URL is looked up in the
		// token's club only.
		rs = append(rs,
			route{"GET", "/members/import", inClub, club.PermMembersWrite, s.handleImportForm()},
			route{"POST", "/members/import", inClub, club.PermMembersWrite, s.handleImportPreview()},
			route{"POST", "/members/import/start", inClub, club.PermMembersWrite, s.handleImportStart()},
			route{"GET", "/imports/{id}", inClub, club.PermMembersWrite, s.handleImportProgress()},
			route{"GET", "/imports/{id}/results.csv", inClub, club.PermMembersWrite, s.handleImportResults()},
		)
	}
	if s.mailbox != nil {
		// Development only: the mail the portal would have sent.
		rs = append(rs,
			route{"GET", "/dev/mailbox", anyone, "", s.handleMailbox()},
			route{"GET", "/dev/mailbox/{id}", anyone, "", s.handleMailboxMessage()},
		)
	}
	return rs
}
