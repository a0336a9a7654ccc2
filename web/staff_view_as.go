package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
	"github.com/clubhouse/clubhouse/views"
)

// handleViewAsStart starts a read-only view of a club as one of its
// members ("owner" picks the club's first owner by name). Every refusal is
// audited: an unknown club, a missing or short reason, a target who is not
// a member of that club. A view already running is refused by viewAsGate
// before this handler runs.
func (s *Server) handleViewAsStart() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		staff, _ := identityFrom(ctx)
		if err := parseForm(w, r); err != nil {
			return err
		}
		code := strings.TrimSpace(r.PostForm.Get("club"))
		target := strings.TrimSpace(r.PostForm.Get("target"))
		refused := func(clubCode, targetID, why string) {
			s.appendAudit(r, s.stamped(r, club.AuditEvent{
				ClubCode: clubCode, ActorID: staff.UserID, ActorName: staffLabel(staff.Name()),
				Action: club.ActionViewAsRefused, TargetID: safeText(targetID, 64), Detail: "Refused: " + why,
			}))
		}
		c, err := s.staffClub(ctx, code)
		if err != nil {
			if errors.Is(err, errNoSuchClub) {
				refused("", "", "no club with code "+strconv.Quote(safeText(code, 40))+".")
			}
			return err
		}
		reason, err := club.ValidateViewAsReason(r.PostForm.Get("reason"))
		if err != nil {
			refused(c.Code, target, "the reason was missing or too short or long.")
			form := views.ViewAsForm{Target: safeText(target, 64), Reason: r.PostForm.Get("reason"),
				Errors: fieldErrors(err)}
			page, perr := s.staffClubPage(r, c, "", 1, form)
			if perr != nil {
				return perr
			}
			return &formError{err: err, form: staffClubView(page)}
		}
		s.syncedAt(ctx, staffActor(staff), c)
		m, asOwner, err := s.viewAsTarget(r, c, target)
		if err != nil {
			if errors.Is(err, errNotAMember) || errors.Is(err, errNoOwner) {
				refused(c.Code, target, club.ErrorMessage(err))
			}
			return err
		}
		id, err := newViewAsID()
		if err != nil {
			return err
		}
		now := s.now().UTC()
		v := session.ViewAs{
			ID: id, StaffID: staff.UserID, StaffName: staff.Name(), ClubCode: c.Code, ClubName: c.Name,
			TargetID: m.UserID, TargetName: m.Name(), TargetEmail: m.Email, AsOwner: asOwner,
			Reason: reason, StartedAt: now, ExpiresAt: now.Add(s.viewAsTTL),
		}
		sess := sessionFrom(ctx)
		if !sess.StartViewAs(v) {
			return errViewAsNested
		}
		// The start is recorded before anything is shown: no record, no view.
		if err := s.audit.Append(ctx, s.viewAsEvent(r, v, club.ActionViewAsStarted, "Reason: "+reason)); err != nil {
			sess.EndViewAs()
			return &club.Error{Code: club.EUNAVAILABLE, Err: fmt.Errorf("web: audit view-as start: %w", err),
				Message: "The portal could not record the staff view, so it was not started. Try again in a minute."}
		}
		flash(r, flashInfo, "You are viewing "+c.Name+" as "+v.TargetName+", read-only, for "+minutes(s.viewAsTTL)+".")
		s.redirect(w, r, "/")
		return nil
	})
}

// viewAsTarget resolves whom to view as: "owner" is the club's first owner
// by name; anything else must be the id of a (not pending) member of that
// club, so a forged or stale id is refused.
func (s *Server) viewAsTarget(r *http.Request, c club.Club, target string) (club.Member, bool, error) {
	ctx := r.Context()
	if target == "" || target == club.ViewAsOwner {
		owners, err := s.owners(ctx, c.Code, 1)
		if err != nil {
			return club.Member{}, false, err
		}
		if len(owners) == 0 {
			return club.Member{}, false, errNoOwner
		}
		return owners[0], true, nil
	}
	if len(target) > 64 {
		return club.Member{}, false, errNotAMember
	}
	m, err := s.directory.Member(ctx, c.Code, target)
	switch {
	case errors.Is(err, club.ErrNotFound) || (err == nil && m.Pending):
		return club.Member{}, false, errNotAMember
	case err != nil:
		return club.Member{}, false, fmt.Errorf("web: view-as target: %w", err)
	}
	return m, false, nil
}

// handleViewAsStop ends the staff view named by the form and returns staff
// to the console. A stop of a view that is not running (replayed, or from
// an old page) is refused and audited.
func (s *Server) handleViewAsStop() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		staff, _ := identityFrom(ctx)
		if err := parseForm(w, r); err != nil {
			return err
		}
		sess := sessionFrom(ctx)
		id := r.PostForm.Get("view_as")
		v, ok := sess.ViewAs()
		if !ok || id == "" || id != v.ID {
			ev := s.stamped(r, club.AuditEvent{
				ActorID: staff.UserID, ActorName: staffLabel(staff.Name()), Action: club.ActionViewAsRefused,
				Detail: "Refused: a stop of a staff view that is not running (replayed or out of date).",
			})
			if ok {
				ev.ClubCode, ev.TargetID, ev.TargetEmail = v.ClubCode, v.TargetID, v.TargetEmail
			}
			s.appendAudit(r, ev)
			return errViewAsEnded
		}
		sess.EndViewAs()
		s.appendAudit(r, s.viewAsEvent(r, v, club.ActionViewAsStopped, "Stopped after "+minutes(s.now().Sub(v.StartedAt))+"."))
		flash(r, flashSuccess, "Stopped viewing "+v.ClubName+" as "+v.TargetName+".")
		s.redirect(w, r, "/staff")
		return nil
	})
}
