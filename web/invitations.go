package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// invitationsPageSize is how many invitations one page shows.
const invitationsPageSize = 50

// handleInvitations lists the current club's invitation emails, newest
// first: sent, being retried, or given up on.
func (s *Server) handleInvitations() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, _ := identityFrom(ctx)
		page := pageParam(r.URL.Query().Get("page"))
		res, err := s.invites.ClubInvitations(ctx, id.ClubCode, (page-1)*invitationsPageSize, invitationsPageSize)
		if err != nil {
			return fmt.Errorf("web: invitations: %w", err)
		}
		m := views.InvitationsPage{Page: page, PageSize: invitationsPageSize, Total: res.Total, Now: s.now()}
		for _, it := range res.Items {
			m.Rows = append(m.Rows, invitationRow(it, s.now()))
		}
		return s.render(w, r, http.StatusOK, view{
			Title: "Invitations",
			Nav:   layout.NavInvitations,
			Page: func(sh layout.ShellProps) templ.Component {
				m.Shell = sh
				return views.Invitations(m)
			},
		})
	})
}

func invitationRow(it club.ClubInvitation, now time.Time) views.InvitationRow {
	row := views.InvitationRow{
		Email: it.Invitation.Email, Name: it.Invitation.Name, InvitedBy: it.Invitation.InvitedBy,
		Attempts: it.Attempts, LastError: it.LastError, Created: it.CreatedAt, Sent: it.SentAt, NextTry: it.NextAttemptAt,
		Superseded: it.Superseded, LeftClub: it.MemberID == "",
	}
	switch {
	case it.Status == club.InvitationSent:
		row.Status = views.InvitationSent
	case it.Status == club.InvitationFailed:
		row.Status = views.InvitationFailed
	case it.Attempts > 0:
		row.Status = views.InvitationRetrying
	default:
		row.Status = views.InvitationSending
	}
	// A resend is offered for a member's latest invitation when the domain
	// would take it now: given up on, or sent a while ago.
	if !row.LeftClub && !it.Superseded && club.CanResend(it.OutboxItem, now) {
		row.ResendID = it.MemberID
	}
	return row
}

// handleResendInvitation sends a member of the current club another
// invitation email, then goes back to the page it came from (members or
// invitations) with the outcome as a flash.
func (s *Server) handleResendInvitation() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, _ := identityFrom(ctx)
		if err := parseForm(w, r); err != nil {
			return err
		}
		back := "/members"
		if r.PostForm.Get("return") == "invitations" {
			back = "/invitations"
		}
		m, err := s.lookupMember(r, id)
		if err != nil {
			return err
		}
		if _, err := s.service.ResendInvitation(ctx, id.Actor(), currentClub(id), m.UserID); err != nil {
			if club.ErrorCode(err) != club.ECONFLICT {
				return err
			}
			// Not now (one is on its way, or just went): say why, change
			// nothing.
			flash(r, flashInfo, club.ErrorMessage(err))
			s.redirect(w, r, back)
			return nil
		}
		flash(r, flashSuccess, "A new invitation to "+m.Email+" is on its way.")
		s.redirect(w, r, back)
		return nil
	})
}
