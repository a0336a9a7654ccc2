package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handleClubHome shows what a member sees of their club: its name, their
// roles there and their other clubs.
func (s *Server) handleClubHome() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		page := views.ClubHomePage{
			ClubName:         clubName(id, id.ClubCode),
			Roles:            s.roleBadges(r, id.Roles),
			CanManageMembers: id.Can(club.PermMembersRead),
		}
		for _, c := range id.Clubs {
			if c.Code != id.ClubCode {
				page.OtherClubs = append(page.OtherClubs, layout.ClubLink{Name: c.Name, SwitchURL: switchURL(c.Code)})
			}
		}
		return s.render(w, r, http.StatusOK, view{
			Title: page.ClubName,
			Nav:   layout.NavHome,
			Page: func(sh layout.ShellProps) templ.Component {
				page.Shell = sh
				return views.ClubHome(page)
			},
		})
	})
}
