package web

import (
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// activityPageSize is how many audit events one page shows.
const activityPageSize = 50

// handleActivity shows the current club's audit log, newest first,
// optionally for one person.
func (s *Server) handleActivity() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, _ := identityFrom(ctx)
		q := r.URL.Query()
		person := q.Get("person")
		if len(person) > 64 {
			person = ""
		}
		page := pageParam(q.Get("page"))
		res, err := s.audit.Events(ctx, club.AuditQuery{
			ClubCode: id.ClubCode, Person: person, Offset: (page - 1) * activityPageSize, Limit: activityPageSize,
		})
		if err != nil {
			return fmt.Errorf("web: activity: %w", err)
		}
		people, err := s.directory.Members(ctx, id.ClubCode, club.MemberQuery{Sort: club.SortNameAsc, Limit: club.MaxPageSize})
		if err != nil {
			return fmt.Errorf("web: activity people: %w", err)
		}
		m := views.ActivityPage{Person: person, Page: page, PageSize: activityPageSize, Total: res.Total, Now: s.now()}
		for _, p := range people.Members {
			m.People = append(m.People, views.PersonOption{ID: p.UserID, Name: p.Name()})
		}
		for _, ev := range res.Events {
			m.Rows = append(m.Rows, activityRow(ev))
		}
		return s.render(w, r, http.StatusOK, view{
			Title: "Activity",
			Nav:   layout.NavActivity,
			Page: func(sh layout.ShellProps) templ.Component {
				m.Shell = sh
				return views.Activity(m)
			},
		})
	})
}

// activityRow is one audit event as the activity pages show it.
func activityRow(ev club.AuditEvent) views.ActivityRow {
	return views.ActivityRow{
		At: ev.At, ActorID: ev.ActorID, ActorName: ev.ActorName, Action: ev.Action,
		TargetID: ev.TargetID, Target: ev.TargetEmail, Detail: ev.Detail,
	}
}
