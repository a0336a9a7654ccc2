package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
	"github.com/clubhouse/clubhouse/static"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handlerFunc is a handler that returns its error to the one error
// responder instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc to http.Handler.
func (s *Server) handle(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.serveError(w, r, err)
		}
	})
}

// view is what a handler renders: the full page, built around the shell's
// model, and, when the page has one, the fragment htmx swaps instead.
type view struct {
	Title string
	Nav   layout.Nav
	// Page returns the whole document for the shell's model.
	Page func(shell layout.ShellProps) templ.Component
	// Fragment is nil when the page has no fragment.
	Fragment templ.Component
}

// render writes v with status: the fragment for htmx requests that are not
// boosted or history restores, else the full page. It renders into a buffer
// first, so a failing component becomes an error page rather than half a
// page with a 200. Flash messages are taken only by full pages.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, v view) error {
	w.Header().Add("Vary", HXRequest)
	var buf bytes.Buffer
	ctx := r.Context()
	if v.Fragment != nil && wantsFragment(r) {
		if err := v.Fragment.Render(ctx, &buf); err != nil {
			return fmt.Errorf("web: render fragment: %w", err)
		}
	} else {
		if err := v.Page(s.shell(r, v.Title, v.Nav)).Render(ctx, &buf); err != nil {
			return fmt.Errorf("web: render page: %w", err)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	// A write error means the client went away; nothing more can be sent.
	_, _ = buf.WriteTo(w)
	return nil
}

// shell builds the app shell's model for the request's person.
func (s *Server) shell(r *http.Request, title string, nav layout.Nav) layout.ShellProps {
	p := layout.ShellProps{
		Title:      title,
		Active:     nav,
		Flashes:    s.takeFlashes(r),
		DevMailbox: s.mailbox != nil,
		Assets: layout.Assets{
			CSS:   s.assets.URL(static.CSS),
			HTMX:  s.assets.URL(static.HTMX),
			AppJS: s.assets.URL(static.AppJS),
			Icon:  s.assets.URL(static.Icon),
		},
	}
	if v := viewAsFrom(r.Context()); v != nil {
		p.StaffBanner = &layout.StaffBanner{
			StaffName: v.StaffName, PersonName: v.TargetName, ClubName: v.ClubName,
			MinutesLeft: minutesLeft(v.ExpiresAt.Sub(s.now())),
			StopAction:  viewAsStopPattern, ViewAsID: v.ID,
		}
	}
	id, ok := identityFrom(r.Context())
	if !ok {
		return p
	}
	p.StaffConsole = s.isStaff(id)
	p.Person = &layout.Person{Name: id.Name(), Email: id.Email}
	p.ClubName = id.ClubName
	if p.ClubName == "" && id.ClubCode != "" {
		p.ClubName = clubName(id, id.ClubCode)
	}
	p.AdminNav = id.Can(club.PermMembersRead)
	p.InvitationsNav = id.Can(club.PermMembersWrite)
	if id.Can(club.PermClubManage) {
		p.SettingsURL = "/settings"
	}
	for _, c := range id.Clubs {
		name := c.Name
		if name == "" {
			name = c.Code
		}
		p.Clubs = append(p.Clubs, layout.ClubLink{
			Name:      name,
			SwitchURL: switchURL(c.Code),
			Current:   c.Code == id.ClubCode,
		})
	}
	return p
}

func switchURL(code string) string { return "/auth/switch?org_code=" + url.QueryEscape(code) }

// clubName finds a club's name among the person's clubs.
func clubName(id club.Identity, code string) string {
	if code == id.ClubCode && id.ClubName != "" {
		return id.ClubName
	}
	for _, c := range id.Clubs {
		if c.Code == code && c.Name != "" {
			return c.Name
		}
	}
	return "your club"
}

// takeFlashes pops the session's flash messages.
func (s *Server) takeFlashes(r *http.Request) []layout.Flash {
	sess := sessionFrom(r.Context())
	if sess == nil {
		return nil
	}
	var out []layout.Flash
	for _, f := range sess.Flashes() {
		out = append(out, layout.Flash{Kind: layout.FlashKind(f.Kind), Text: f.Text})
	}
	return out
}

// flash queues a message for the next page.
func flash(r *http.Request, kind, text string) {
	if sess := sessionFrom(r.Context()); sess != nil {
		sess.AddFlash(kind, text)
	}
}

// redirect sends the browser to target: with HX-Redirect for htmx (a full
// page load), else a 303 so a POST is followed by a GET.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, target string) {
	if isHTMX(r) {
		w.Header().Set(HXRedirect, target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// Flash kinds, re-exported for handler brevity.
const (
	flashSuccess = session.FlashSuccess
	flashInfo    = session.FlashInfo
	flashError   = session.FlashError
)
