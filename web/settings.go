package web

import (
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handleSettings shows the current club's settings.
func (s *Server) handleSettings() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		return s.render(w, r, http.StatusOK, s.settingsView(id, views.SettingsForm{Name: currentClub(id).Name}))
	})
}

// handleSettingsSave renames the current club (owners only).
func (s *Server) handleSettingsSave() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, _ := identityFrom(ctx)
		if err := parseForm(w, r); err != nil {
			return err
		}
		name := r.PostForm.Get("name")
		c, err := s.service.RenameClub(ctx, id.Actor(), currentClub(id), name)
		if err != nil {
			form := views.SettingsForm{Name: name, Error: fieldError(err, "name")}
			if form.Error == "" {
				form.FormError = club.ErrorMessage(err)
			}
			return &formError{err: err, form: s.settingsView(id, form)}
		}
		if c.Name == currentClub(id).Name {
			flash(r, flashInfo, "The club is already called "+c.Name+". Nothing was changed.")
		} else {
			flash(r, flashSuccess, "The club is now called "+c.Name+".")
		}
		s.redirect(w, r, "/settings")
		return nil
	})
}

func (s *Server) settingsView(id club.Identity, form views.SettingsForm) view {
	page := views.SettingsPage{
		ClubCode:  id.ClubCode,
		SignInURL: s.publicURL + "/auth/login?org_code=" + url.QueryEscape(id.ClubCode),
		Form:      form,
	}
	return view{
		Title: "Settings",
		Nav:   layout.NavSettings,
		Page: func(sh layout.ShellProps) templ.Component {
			page.Shell = sh
			return views.Settings(page)
		},
	}
}
