package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handleHome shows the landing page to visitors and sends signed-in people
// where they belong: staff to the staff console, admins to their members,
// members to their club home, people without a club to onboarding.
func (s *Server) handleHome() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, ok := identityFrom(r.Context())
		switch {
		case !ok:
			return s.render(w, r, http.StatusOK, view{
				Page: func(sh layout.ShellProps) templ.Component { return views.Landing(views.LandingPage{Shell: sh}) },
			})
		case id.ClubCode == "":
			s.redirect(w, r, "/onboarding")
		case s.isStaff(id):
			s.redirect(w, r, "/staff")
		case id.Can(club.PermMembersRead):
			s.redirect(w, r, "/members")
		default:
			s.redirect(w, r, "/club")
		}
		return nil
	})
}

// handleNotFound answers any URL outside the route table.
func (s *Server) handleNotFound() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return club.ErrNotFound
	})
}
