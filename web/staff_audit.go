package web

import (
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handleStaffAudit shows staff every audit row, newest first, for every
// club or one, with where each staff action came from.
func (s *Server) handleStaffAudit() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		q := r.URL.Query()
		code := q.Get("club")
		if len(code) > 64 {
			code = ""
		}
		page := views.StaffAuditPage{Club: code, Page: pageParam(q.Get("page")), PageSize: activityPageSize, Now: s.now()}
		res, err := s.audit.Events(ctx, club.AuditQuery{ClubCode: code, Offset: (page.Page - 1) * activityPageSize, Limit: activityPageSize})
		if err != nil {
			return fmt.Errorf("web: staff audit: %w", err)
		}
		names := map[string]string{}
		clubs, err := s.staffKinde.Clubs(ctx)
		if err != nil {
			s.logger.WarnContext(ctx, "web: staff audit: clubs", "err", err)
		}
		for _, c := range clubs {
			names[c.Code] = c.Name
			page.Clubs = append(page.Clubs, views.StaffClubOption{Code: c.Code, Name: c.Name})
		}
		page.Total = res.Total
		for _, ev := range res.Events {
			page.Rows = append(page.Rows, views.StaffAuditRow{
				ActivityRow: activityRow(ev),
				ClubName:    nameOrCode(club.Club{Code: ev.ClubCode, Name: names[ev.ClubCode]}),
				IP:          ev.IP,
				UserAgent:   ev.UserAgent,
			})
		}
		return s.render(w, r, http.StatusOK, view{
			Title: "Staff audit log",
			Nav:   layout.NavStaff,
			Page: func(sh layout.ShellProps) templ.Component {
				page.Shell = sh
				return views.StaffAudit(page)
			},
		})
	})
}
