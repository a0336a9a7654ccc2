package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// staffClubsPageSize is how many clubs one console page lists. Each club
// never read before is synced from Kinde when listed, so pages stay small.
const staffClubsPageSize = 20

// handleStaffConsole lists every club (from Kinde, briefly cached), found
// by a substring of its name or code, with its owners and member count
// from the directory.
func (s *Server) handleStaffConsole() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		staff, _ := identityFrom(ctx)
		q := r.URL.Query()
		search := searchParam(q.Get("q"))
		page := views.StaffConsolePage{Query: search, Page: pageParam(q.Get("page")), PageSize: staffClubsPageSize}
		clubs, err := s.staffKinde.Clubs(ctx)
		if err != nil {
			s.logger.WarnContext(ctx, "web: staff console: clubs", "err", err)
			page.Error = "The club list could not be read from Kinde. " + views.KindeUnavailableMessage
		}
		needle := strings.ToLower(search)
		clubs = slices.DeleteFunc(clubs, func(c club.Club) bool {
			return c.Code == s.staffOrg ||
				(needle != "" && !strings.Contains(strings.ToLower(c.Name), needle) && !strings.Contains(strings.ToLower(c.Code), needle))
		})
		page.Total = len(clubs)
		lo := min((page.Page-1)*staffClubsPageSize, len(clubs))
		for _, c := range clubs[lo:min(lo+staffClubsPageSize, len(clubs))] {
			page.Clubs = append(page.Clubs, s.clubSummary(r, staff, c))
		}
		return s.render(w, r, http.StatusOK, view{
			Title: "Clubs",
			Nav:   layout.NavStaff,
			Page: func(sh layout.ShellProps) templ.Component {
				page.Shell = sh
				return views.StaffConsole(page)
			},
		})
	})
}

// clubSummary reads a club's owners and member count from the directory,
// after a first sync from Kinde when the portal never read the club.
func (s *Server) clubSummary(r *http.Request, staff club.Identity, c club.Club) views.StaffClubSummary {
	ctx := r.Context()
	sum := views.StaffClubSummary{Code: c.Code, Name: nameOrCode(c)}
	if s.syncedAt(ctx, staffActor(staff), c).IsZero() {
		return sum
	}
	owners, err := s.owners(ctx, c.Code, 3)
	if err != nil {
		s.logger.WarnContext(ctx, "web: staff console: owners", "err", err)
		return sum
	}
	all, err := s.directory.Members(ctx, c.Code, club.MemberQuery{Limit: 1})
	if err != nil {
		s.logger.WarnContext(ctx, "web: staff console: count", "err", err)
		return sum
	}
	for _, o := range owners {
		sum.Owners = append(sum.Owners, o.Name())
	}
	sum.MemberCount, sum.Synced = all.Total, true
	return sum
}
