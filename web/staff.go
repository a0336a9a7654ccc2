package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
)

// Staff "view as": platform staff see a club as one of its members,
// read-only and for a limited time, through the same handlers and views.
// The viewed person's identity is built from the portal's directory (their
// roles in the club) and Kinde's role definitions (read with the portal's
// own M2M access); their tokens are never minted nor used. The view lives
// in the server-side session, next to the staff person's own sign-in,
// which it never changes.

// DefaultViewAsTTL is how long a staff view lasts unless configured.
const DefaultViewAsTTL = 30 * time.Minute

// The view-as routes the gate treats specially.
const (
	viewAsStartPattern = "/staff/view-as"
	viewAsStopPattern  = "/staff/view-as/stop"
)

// StaffKinde is what the staff console reads from Kinde through the
// portal's M2M application. internal/kinde's *Admin implements it.
type StaffKinde interface {
	// Clubs lists every club (Kinde organization), briefly cached.
	Clubs(ctx context.Context) ([]club.Club, error)
	// Club returns one club; errors.Is(err, club.ErrNotFound) when Kinde
	// has no club with that code.
	Club(ctx context.Context, code string) (club.Club, error)
	// RolePermissions returns the permission keys the roles grant
	// together (cached).
	RolePermissions(ctx context.Context, roleKeys []string) ([]string, error)
}

// RoleHolders lists a club's members holding a role. internal/store's *DB
// implements it.
type RoleHolders interface {
	MembersWithRole(ctx context.Context, clubCode, roleKey string, limit int) ([]club.Member, error)
}

// isStaff reports whether the verified identity is platform staff: signed
// in to the configured staff org, with staff:impersonate in that token.
// Nothing else makes someone staff.
func (s *Server) isStaff(id club.Identity) bool {
	return s.staffOrg != "" && id.UserID != "" && id.ClubCode == s.staffOrg && id.Can(club.PermImpersonate)
}

// viewAsFrom returns the staff view in progress for the request (set by
// viewAsGate), or nil.
func viewAsFrom(ctx context.Context) *session.ViewAs {
	v, _ := ctx.Value(viewAsKey).(*session.ViewAs)
	return v
}

var (
	errNotStaff = &club.Error{Code: club.EFORBIDDEN,
		Message: "This page is for Clubhouse staff only. Nothing was changed."}
	errReadOnly = &club.Error{Code: club.EFORBIDDEN,
		Message: "Staff view is read-only. Nothing was changed. Stop the staff view to act as yourself."}
	errViewAsNested = &club.Error{Code: club.ECONFLICT,
		Message: "A staff view is already running. Stop it before starting another. Nothing was changed."}
	errStopViewFirst = &club.Error{Code: club.EFORBIDDEN,
		Message: "This is not available during a staff view. Stop the staff view first. Nothing was changed."}
	errViewAsEnded = &club.Error{Code: club.ECONFLICT,
		Message: "That staff view has already ended. Nothing was changed."}
	errNoSuchClub = &club.Error{Code: club.ENOTFOUND,
		Message: "There is no club with that code. Nothing was started."}
	errNotAMember = &club.Error{Code: club.ENOTFOUND,
		Message: "That person is not a member of this club. Nothing was started."}
	errNoOwner = &club.Error{Code: club.ENOTFOUND,
		Message: "This club has no owner to view as. Choose a member instead. Nothing was started."}
	errTargetGone = errors.New("web: the viewed person left the club")
)

// staffErrorPages are the error pages of the staff refusals: a title that
// says more than the status's standard one and, for some, the start page
// as the way back.
var staffErrorPages = []struct {
	err    *club.Error
	title  string
	toHome bool
}{
	{errNotStaff, "For Clubhouse staff only", true},
	{errReadOnly, "Staff view is read-only", false},
	{errViewAsNested, "A staff view is already running", false},
	{errStopViewFirst, "Stop the staff view first", false},
	{errViewAsEnded, "That staff view has ended", true},
}

// viewAsGate is the one place that enforces a staff view. While one is in
// the session it: ends it once expired (audited) and sends staff back to
// the console; refuses every request that is not a GET or HEAD, except the
// Stop, with the same read-only answer (audited); keeps the staff person's
// own identity on the staff pages; refuses the sign-in and onboarding
// pages, which act on the staff person's own Kinde session; and serves
// every other page as the viewed person, recording each page viewed.
func (s *Server) viewAsGate(rt route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		sess := sessionFrom(ctx)
		v, active := sess.ViewAs()
		if !active {
			next.ServeHTTP(w, r)
			return
		}
		staff, signedIn := identityFrom(ctx)
		if !signedIn || staff.UserID != v.StaffID || !s.isStaff(staff) {
			// The staff person signed out, or lost staff access since the
			// view started: it ends, and the request goes on as them.
			sess.EndViewAs()
			s.appendAudit(r, s.viewAsEvent(r, v, club.ActionViewAsStopped, "Ended: the staff person no longer has staff access."))
			next.ServeHTTP(w, r)
			return
		}
		if v.Expired(s.now()) {
			sess.EndViewAs()
			s.appendAudit(r, s.viewAsEvent(r, v, club.ActionViewAsExpired, "Ended after "+minutes(v.ExpiresAt.Sub(v.StartedAt))+"."))
			flash(r, flashInfo, "Your read-only view of "+v.ClubName+" as "+v.TargetName+" ended: staff views last "+
				minutes(v.ExpiresAt.Sub(v.StartedAt))+". Nothing was changed.")
			s.redirect(w, r, "/staff")
			return
		}
		r = r.WithContext(context.WithValue(ctx, viewAsKey, &v))
		switch {
		case rt.Pattern == viewAsStopPattern:
			next.ServeHTTP(w, r)
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			s.refuseWrite(w, r, rt, v)
		case isStaffRoute(rt):
			next.ServeHTTP(w, r) // the staff person's own pages, as themselves
		case strings.HasPrefix(rt.Pattern, "/auth/") || strings.HasPrefix(rt.Pattern, "/onboarding"):
			s.serveError(w, r, errStopViewFirst)
		default:
			s.serveAsViewed(w, r, v, next)
		}
	})
}

// serveAsViewed serves a page as the viewed person, after recording it.
func (s *Server) serveAsViewed(w http.ResponseWriter, r *http.Request, v session.ViewAs, next http.Handler) {
	ctx := r.Context()
	id, err := s.viewAsIdentity(ctx, v)
	if errors.Is(err, errTargetGone) {
		sessionFrom(ctx).EndViewAs()
		s.appendAudit(r, s.viewAsEvent(r, v, club.ActionViewAsStopped, "Ended: "+v.TargetName+" is no longer a member."))
		flash(r, flashInfo, "Your view of "+v.ClubName+" ended: "+v.TargetName+" is no longer a member. Nothing was changed.")
		s.redirect(w, r, "/staff")
		return
	}
	if err != nil {
		s.serveError(w, r, err)
		return
	}
	// Recorded before the page is served: a page that cannot be recorded
	// is not shown.
	if err := s.audit.Append(ctx, s.viewAsEvent(r, v, club.ActionViewAsPage, pageLabel(r))); err != nil {
		s.serveError(w, r, &club.Error{Code: club.EUNAVAILABLE, Err: fmt.Errorf("web: audit page view: %w", err),
			Message: "The portal could not record this staff view, so the page is not shown. Nothing was changed. Try again in a minute."})
		return
	}
	next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, identityKey, id)))
}

// viewAsIdentity builds the viewed person's identity in the viewed club:
// their profile and roles from the directory, what the roles allow from
// Kinde's role definitions. It names only the viewed club.
func (s *Server) viewAsIdentity(ctx context.Context, v session.ViewAs) (club.Identity, error) {
	m, err := s.directory.Member(ctx, v.ClubCode, v.TargetID)
	switch {
	case errors.Is(err, club.ErrNotFound) || (err == nil && m.Pending):
		return club.Identity{}, errTargetGone
	case err != nil:
		return club.Identity{}, fmt.Errorf("web: view as: member: %w", err)
	}
	perms, err := s.staffKinde.RolePermissions(ctx, m.Roles)
	if err != nil {
		return club.Identity{}, fmt.Errorf("web: view as: role permissions: %w", err)
	}
	// Whatever a club role grants, staff access never comes with it.
	perms = slices.DeleteFunc(slices.Clone(perms), func(p string) bool { return p == club.PermImpersonate })
	c := club.Club{Code: v.ClubCode, Name: v.ClubName}
	return club.Identity{
		UserID: m.UserID, Email: m.Email, GivenName: m.FirstName, FamilyName: m.LastName,
		ClubCode: c.Code, ClubName: c.Name, Roles: slices.Clone(m.Roles), Permissions: perms,
		Clubs: []club.Club{c},
	}, nil
}

// refuseWrite answers a state-changing request during a staff view: it is
// refused, nothing is changed, and the attempt is audited.
func (s *Server) refuseWrite(w http.ResponseWriter, r *http.Request, rt route, v session.ViewAs) {
	if rt.Pattern == viewAsStartPattern {
		s.appendAudit(r, s.viewAsEvent(r, v, club.ActionViewAsRefused, "Refused: a staff view was already running."))
		s.serveError(w, r, errViewAsNested)
		return
	}
	s.appendAudit(r, s.viewAsEvent(r, v, club.ActionViewAsWriteRefused, "Refused: "+r.Method+" "+safeText(r.URL.Path, 100)))
	s.serveError(w, r, errReadOnly)
}

// refuseStaffRoute answers someone who is not staff on a staff page, and
// audits it.
func (s *Server) refuseStaffRoute(w http.ResponseWriter, r *http.Request, id club.Identity) {
	s.appendAudit(r, s.stamped(r, club.AuditEvent{
		ActorID: id.UserID, ActorName: id.Name(), Action: club.ActionStaffRouteRefused,
		Detail: "Refused: " + r.Method + " " + safeText(r.URL.Path, 100),
	}))
	s.serveError(w, r, errNotStaff)
}

// viewAsEvent is an audit row about a staff view: the staff person acts,
// the viewed person is the target, in the viewed club.
func (s *Server) viewAsEvent(r *http.Request, v session.ViewAs, action, detail string) club.AuditEvent {
	return s.stamped(r, club.AuditEvent{
		ClubCode: v.ClubCode, ActorID: v.StaffID, ActorName: staffLabel(v.StaffName), Action: action,
		TargetID: v.TargetID, TargetEmail: v.TargetEmail, Detail: detail,
	})
}

// stamped is ev with when it happened and where the request came from.
func (s *Server) stamped(r *http.Request, ev club.AuditEvent) club.AuditEvent {
	ev.At, ev.IP, ev.UserAgent = s.now().UTC(), clientIP(r), safeText(r.UserAgent(), 200)
	return ev
}

// appendAudit records ev; a failure is logged (the refusal it records
// stands either way).
func (s *Server) appendAudit(r *http.Request, ev club.AuditEvent) {
	if err := s.audit.Append(r.Context(), ev); err != nil {
		s.logger.ErrorContext(r.Context(), "web: audit", "action", ev.Action, "err", err)
	}
}

// staffLabel is how a staff person appears in a club's activity.
func staffLabel(name string) string { return name + " (Clubhouse staff)" }

func isStaffRoute(rt route) bool {
	return rt.Pattern == "/staff" || strings.HasPrefix(rt.Pattern, "/staff/")
}

// pageLabel names a viewed page in the audit log: the path, and the query
// only as far as it is short and printable.
func pageLabel(r *http.Request) string {
	p := safeText(r.URL.Path, 100)
	if q := r.URL.RawQuery; q != "" && len(q) <= 100 {
		p += "?" + safeText(q, 100)
	}
	return p
}

// clientIP is the address the request came from. Forwarded headers are not
// trusted: a client could write anything in them.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return safeText(r.RemoteAddr, 64)
	}
	return host
}

// safeText makes client-supplied text fit for an audit row: valid UTF-8,
// no control characters, at most n characters.
func safeText(s string, n int) string {
	s = strings.ToValidUTF8(s, "�")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}

// minutes says a duration in whole minutes, rounded, and "less than a
// minute" when that is none.
func minutes(d time.Duration) string {
	switch n := int(d.Round(time.Minute) / time.Minute); {
	case n < 1:
		return "less than a minute"
	case n == 1:
		return "1 minute"
	default:
		return strconv.Itoa(n) + " minutes"
	}
}

// minutesLeft is the banner's count: whole minutes, rounded up, and 0
// in the last minute ("less than a minute").
func minutesLeft(d time.Duration) int {
	if d < time.Minute {
		return 0
	}
	return int((d + time.Minute - 1) / time.Minute)
}

func newViewAsID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("web: view-as id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// owners lists up to limit of the club's owners.
func (s *Server) owners(ctx context.Context, code string, limit int) ([]club.Member, error) {
	ms, err := s.roleHolders.MembersWithRole(ctx, code, club.RoleOwner, limit)
	if err != nil {
		return nil, fmt.Errorf("web: owners: %w", err)
	}
	return ms, nil
}

// staffActor is the staff person as the actor of a change they cause
// outside a view (refreshing a club from Kinde).
func staffActor(id club.Identity) club.Actor {
	return club.Actor{UserID: id.UserID, Email: id.Email, Name: staffLabel(id.Name())}
}

// staffClub finds a club staff may view by its code: one Kinde knows, and
// not the staff org itself.
func (s *Server) staffClub(ctx context.Context, code string) (club.Club, error) {
	if !validClubCode(code) || code == s.staffOrg {
		return club.Club{}, errNoSuchClub
	}
	c, err := s.staffKinde.Club(ctx, code)
	switch {
	case errors.Is(err, club.ErrNotFound):
		return club.Club{}, errNoSuchClub
	case err != nil:
		return club.Club{}, fmt.Errorf("web: staff club: %w", err)
	}
	c.Name = nameOrCode(c)
	return c, nil
}

// nameOrCode is how a club is named to staff: its name, or its code when
// Kinde has no name for it.
func nameOrCode(c club.Club) string {
	if c.Name == "" {
		return c.Code
	}
	return c.Name
}
