package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

var (
	errNotYourClub = &club.Error{Code: club.EFORBIDDEN,
		Message: "You are not a member of that club, so you cannot switch to it. Nothing was changed."}
	errSwitchFromAnotherSite = &club.Error{Code: club.EFORBIDDEN,
		Message: "This link to switch clubs came from another website, so it was refused. Nothing was changed. " +
			"Switch clubs from the club menu at the top of the portal."}
)

// handleSwitch moves the person to another of their clubs: a silent
// authorize (prompt=none) with that club's org_code. Only clubs listed in
// their verified ID token are allowed.
//
// It is a GET, so the portal's switch links work, and the session cookie
// (SameSite=Lax) comes along on links from any website too. So it switches
// only when the browser says, in Sec-Fetch-Site, that the link was on one
// of the portal's own pages (same-origin) or that the person typed it or
// opened a bookmark (none). A link on another site, even a sibling
// subdomain (same-site), is refused. A browser too old to send the header
// gets a page that asks to confirm, whose form posts to
// handleSwitchConfirmed under the same cross-origin protection as every
// other POST.
func (s *Server) handleSwitch() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		site := r.Header.Get("Sec-Fetch-Site")
		switch site {
		case "same-origin", "none", "":
		default:
			return errSwitchFromAnotherSite
		}
		id, _ := identityFrom(r.Context())
		to, err := switchTarget(id, r.URL.Query().Get("org_code"))
		if err != nil {
			return err
		}
		if to.Code == id.ClubCode {
			s.redirect(w, r, "/")
			return nil
		}
		if site == "" {
			return s.render(w, r, http.StatusOK, switchView(id, to))
		}
		return s.startSwitch(w, r, to)
	})
}

// handleSwitchConfirmed switches after the person confirmed on the page
// handleSwitch shows to browsers that do not send Sec-Fetch-Site.
func (s *Server) handleSwitchConfirmed() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if err := parseForm(w, r); err != nil {
			return err
		}
		id, _ := identityFrom(r.Context())
		to, err := switchTarget(id, r.PostForm.Get("org_code"))
		if err != nil {
			return err
		}
		if to.Code == id.ClubCode {
			s.redirect(w, r, "/")
			return nil
		}
		return s.startSwitch(w, r, to)
	})
}

// switchTarget returns the club code names among the person's clubs, as
// their verified ID token lists them.
func switchTarget(id club.Identity, code string) (club.Club, error) {
	for _, c := range id.Clubs {
		if c.Code == code {
			return c, nil
		}
	}
	return club.Club{}, errNotYourClub
}

func (s *Server) startSwitch(w http.ResponseWriter, r *http.Request, to club.Club) error {
	return s.startSignIn(w, r, session.PurposeSwitch, club.SignInRequest{ClubCode: to.Code, Prompt: club.PromptNone}, "/")
}

func switchView(id club.Identity, to club.Club) view {
	page := views.SwitchClubPage{ClubCode: to.Code, ClubName: to.Name}
	if page.ClubName == "" {
		page.ClubName = to.Code // as the club switcher names it
	}
	if id.ClubCode != "" {
		page.CurrentClubName = clubName(id, id.ClubCode)
	}
	return view{
		Title: "Switch club",
		Page: func(sh layout.ShellProps) templ.Component {
			page.Shell = sh
			return views.SwitchClub(page)
		},
	}
}
