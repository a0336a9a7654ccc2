package web

import (
	"net/http"
	"strconv"

	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handleMembersRefresh replaces the directory's copy of the club's members
// with Kinde's.
func (s *Server) handleMembersRefresh() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, _ := identityFrom(ctx)
		n, err := s.service.Sync(ctx, id.Actor(), currentClub(id))
		if err != nil {
			return err
		}
		text := "Refreshed from Kinde: " + strconv.Itoa(n) + " members."
		if n == 1 {
			text = "Refreshed from Kinde: 1 member."
		}
		if !wantsFragment(r) {
			flash(r, flashSuccess, text)
			s.redirect(w, r, "/members")
			return nil
		}
		roles, err := s.clubRoles(r)
		if err != nil {
			s.logger.WarnContext(ctx, "web: roles after refresh", "err", err)
		}
		list, err := s.memberList(ctx, id, roles, "", "", 1)
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, view{Fragment: views.MembersUpdatedFragment(views.MembersUpdate{
			List: list, Flashes: []layout.Flash{{Kind: layout.FlashSuccess, Text: text}},
		})})
	})
}
