package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handleMembersList shows a page of the club's members from the local
// directory: search, sort and page come from the query; htmx gets the
// table alone.
func (s *Server) handleMembersList() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		q := r.URL.Query()
		roles, err := s.clubRoles(r)
		if err != nil {
			// The list still works with role keys for badges; only the add
			// form needs Kinde's roles.
			s.logger.WarnContext(r.Context(), "web: roles for members page", "err", err)
		}
		list, err := s.memberList(r.Context(), id, roles, q.Get("q"), q.Get("sort"), pageParam(q.Get("page")))
		if err != nil {
			return err
		}
		page := views.MembersPage{List: list, AddForm: blankAddForm(id, roles)}
		if list.CanEdit && !wantsFragment(r) {
			// A failed count only hides the notice; the list still shows.
			if page.FailedInvitations, err = s.invites.FailedInvitations(r.Context(), id.ClubCode); err != nil {
				s.logger.WarnContext(r.Context(), "web: failed invitations", "err", err)
			}
		}
		return s.render(w, r, http.StatusOK, view{
			Title: "Members",
			Nav:   layout.NavMembers,
			Page: func(sh layout.ShellProps) templ.Component {
				page.Shell = sh
				return views.Members(page)
			},
			Fragment: views.MembersTable(list),
		})
	})
}

// memberList reads one page of the current club's members, after a first
// sync from Kinde when the portal never read the club (see syncedAt).
func (s *Server) memberList(ctx context.Context, id club.Identity, roles []club.Role, search, sort string, page int) (views.MemberList, error) {
	synced := s.syncedAt(ctx, id.Actor(), currentClub(id))
	search = searchParam(search)
	srt := club.ParseMemberSort(sort)
	res, err := s.directory.Members(ctx, id.ClubCode, club.MemberQuery{
		Search: search, Sort: srt, Offset: (page - 1) * membersPageSize, Limit: membersPageSize,
	})
	if err != nil {
		return views.MemberList{}, fmt.Errorf("web: members: %w", err)
	}
	clubTotal := res.ClubTotal
	list := views.MemberList{
		ClubName:   clubName(id, id.ClubCode),
		Query:      search,
		Sort:       string(srt),
		Page:       page,
		PageSize:   membersPageSize,
		Total:      res.Total,
		ClubTotal:  clubTotal,
		Now:        s.now(),
		LastSynced: synced,
		CanEdit:    id.Can(club.PermMembersWrite),
	}
	for _, m := range res.Members {
		list.Rows = append(list.Rows, memberRow(m, roles, id))
	}
	return list, nil
}

// syncedAt is when the club's members were last read from Kinde: zero
// when never, or unknown. A club the portal never read is synced first,
// credited to actor, so nobody sees an empty list for a club that has
// members; a failure is logged and the caller shows what the directory
// has. During a staff view, the pages served as the viewed person never
// sync: the view changes nothing.
func (s *Server) syncedAt(ctx context.Context, actor club.Actor, c club.Club) time.Time {
	synced, err := s.fresh.LastSynced(ctx, c.Code)
	if err != nil {
		s.logger.WarnContext(ctx, "web: last synced", "club", c.Code, "err", err)
		return time.Time{}
	}
	if !synced.IsZero() {
		return synced
	}
	if viewAsFrom(ctx) != nil {
		if id, _ := identityFrom(ctx); !s.isStaff(id) {
			return synced
		}
	}
	if _, err := s.service.Sync(ctx, actor, c); err != nil {
		s.logger.WarnContext(ctx, "web: first sync of club", "club", c.Code, "err", err)
		return time.Time{}
	}
	return s.now()
}
