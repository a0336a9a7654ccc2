package web

import (
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// staffMembersPageSize is how many members the staff club page lists.
const staffMembersPageSize = 50

// handleStaffClub shows one club to staff: its owners and members, with
// the form that starts a read-only view as one of them.
func (s *Server) handleStaffClub() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		staff, _ := identityFrom(ctx)
		c, err := s.staffClub(ctx, r.PathValue("code"))
		if err != nil {
			return err
		}
		s.syncedAt(ctx, staffActor(staff), c)
		q := r.URL.Query()
		page, err := s.staffClubPage(r, c, q.Get("q"), pageParam(q.Get("page")), views.ViewAsForm{})
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, staffClubView(page))
	})
}

// staffClubPage builds the staff club page with form as given.
func (s *Server) staffClubPage(r *http.Request, c club.Club, search string, pageNo int, form views.ViewAsForm) (views.StaffClubPage, error) {
	ctx := r.Context()
	search = searchParam(search)
	res, err := s.directory.Members(ctx, c.Code, club.MemberQuery{
		Search: search, Sort: club.SortNameAsc, Offset: (pageNo - 1) * staffMembersPageSize, Limit: staffMembersPageSize,
	})
	if err != nil {
		return views.StaffClubPage{}, fmt.Errorf("web: staff club members: %w", err)
	}
	owners, err := s.owners(ctx, c.Code, 10)
	if err != nil {
		return views.StaffClubPage{}, err
	}
	roles, err := s.roles.Roles(ctx)
	if err != nil {
		s.logger.WarnContext(ctx, "web: staff club: roles", "err", err)
	}
	page := views.StaffClubPage{
		Code: c.Code, Name: c.Name, Query: search, Page: pageNo, PageSize: staffMembersPageSize,
		Total: res.Total, Form: form, Now: s.now(),
	}
	// Staff see the club from outside: no row is marked as their own.
	for _, m := range owners {
		page.Owners = append(page.Owners, memberRow(m, roles, club.Identity{}))
	}
	for _, m := range res.Members {
		page.Members = append(page.Members, memberRow(m, roles, club.Identity{}))
	}
	if v := viewAsFrom(ctx); v != nil {
		page.ViewingAs = v.ClubName + " as " + v.TargetName
	}
	return page, nil
}

func staffClubView(page views.StaffClubPage) view {
	return view{
		Title: page.Name,
		Nav:   layout.NavStaff,
		Page: func(sh layout.ShellProps) templ.Component {
			page.Shell = sh
			return views.StaffClub(page)
		},
	}
}
