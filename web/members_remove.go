package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handleRemoveConfirm asks to confirm removing a member of the current club.
func (s *Server) handleRemoveConfirm() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		m, err := s.lookupMember(r, id)
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, removeView(removePage(m, id, "")))
	})
}

// handleRemove removes a member from the current club (never the last
// owner; only owners remove owners).
func (s *Server) handleRemove() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, _ := identityFrom(ctx)
		m, err := s.lookupMember(r, id)
		if err != nil {
			return err
		}
		removed, err := s.service.RemoveMember(ctx, id.Actor(), currentClub(id), m.UserID)
		if err != nil {
			if club.ErrorCode(err) == club.ENOTFOUND {
				return err
			}
			return &formError{err: err, form: removeView(removePage(m, id, club.ErrorMessage(err)))}
		}
		flash(r, flashSuccess, "Removed "+removed.Email+" from "+clubName(id, id.ClubCode)+".")
		s.redirect(w, r, "/members")
		return nil
	})
}

func removePage(m club.Member, id club.Identity, errMsg string) views.RemoveMemberPage {
	return views.RemoveMemberPage{
		MemberID: m.UserID, Name: m.Name(), Email: m.Email,
		ClubName: clubName(id, id.ClubCode), Error: errMsg,
	}
}

func removeView(page views.RemoveMemberPage) view {
	return view{
		Title: "Remove member",
		Nav:   layout.NavMembers,
		Page: func(sh layout.ShellProps) templ.Component {
			page.Shell = sh
			return views.RemoveMember(page)
		},
	}
}
