package web

import (
	"net/http"

	"github.com/clubhouse/clubhouse/internal/club"
)

// access is who may use a route.
type access int

const (
	open     access = iota // no session at all: probes, metrics, assets
	anyone                 // the session is read, nobody needs to be signed in
	signedIn               // a signed-in person
	inClub                 // a signed-in person whose token names a club
)

func (a access) String() string {
	return [...]string{"open", "anyone", "signed-in", "in-club"}[a]
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
// the URL or a form: the club is always the verified token's.
func (s *Server) routeTable() []route {
	rs := []route{
		{"GET", "/{$}", anyone, "", s.handleHome()},

		{"GET", "/auth/login", anyone, "", s.handleLogin()},
		{"GET", "/auth/callback", anyone, "", s.handleCallback()},
		{"POST", "/auth/logout", signedIn, "", s.handleLogout()},
		{"GET", "/auth/switch", signedIn, "", s.handleSwitch()},

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

		{"GET", "/activity", inClub, club.PermClubManage, s.handleActivity()},

		{"GET", "/healthz", open, "", s.handleHealthz()},
		{"GET", "/readyz", open, "", s.handleReadyz()},
		{"GET", "/metrics", open, "", s.handleMetrics()},
		{"GET", "/static/", open, "", s.assets.Handler()},
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
