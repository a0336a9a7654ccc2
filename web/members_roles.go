package web

import (
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/components"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handleRolesForm shows the roles editor of one member of the current club.
func (s *Server) handleRolesForm() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		m, err := s.lookupMember(r, id)
		if err != nil {
			return err
		}
		roles, err := s.clubRoles(r)
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, rolesView(rolesForm(m, roles, m.Roles, id)))
	})
}

// handleRolesChange sets a member's roles. The guard rails (the last owner,
// only owners touch the owner role) are the domain's; their messages are
// shown in the form.
func (s *Server) handleRolesChange() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, _ := identityFrom(ctx)
		if err := parseForm(w, r); err != nil {
			return err
		}
		m, err := s.lookupMember(r, id)
		if err != nil {
			return err
		}
		roles, err := s.clubRoles(r)
		if err != nil {
			return err
		}
		keys := r.PostForm["roles"]
		if len(keys) > maxRoleFields {
			keys = keys[:maxRoleFields]
		}
		updated, err := s.service.ChangeRoles(ctx, id.Actor(), currentClub(id), roles, m.UserID, keys)
		if err != nil {
			if club.ErrorCode(err) == club.ENOTFOUND {
				return err
			}
			form := rolesForm(m, roles, keys, id)
			form.Error = fieldError(err, "roles")
			if form.Error == "" {
				form.Error = club.ErrorMessage(err)
			}
			return &formError{err: err, form: rolesView(form)}
		}
		text := "Roles of " + updated.Name() + " are now " + roleList(badges(roles, updated.Roles)) + "."
		if !wantsFragment(r) {
			flash(r, flashSuccess, text)
			s.redirect(w, r, "/members")
			return nil
		}
		row := memberRow(updated, roles, id)
		row.Highlight = true
		return s.render(w, r, http.StatusOK, view{Fragment: views.RolesSavedFragment(views.RolesSaved{
			Row: row, Now: s.now(), CanEdit: id.Can(club.PermMembersWrite),
			Flashes: []layout.Flash{{Kind: layout.FlashSuccess, Text: text}},
		})})
	})
}

func rolesForm(m club.Member, roles []club.Role, selected []string, id club.Identity) views.EditRolesForm {
	return views.EditRolesForm{MemberID: m.UserID, Name: m.Name(), Email: m.Email, Roles: roleOptions(roles, selected, id)}
}

// roleOptions lists the club's roles as checkboxes. The owner role is shown
// but cannot be changed by someone who is not an owner (the domain refuses
// it anyway).
func roleOptions(roles []club.Role, selected []string, id club.Identity) []views.RoleOption {
	opts := views.RoleOptions(viewRoles(roles), selected)
	if !id.Actor().IsOwner() {
		for i := range opts {
			if opts[i].Key == club.RoleOwner {
				opts[i].Disabled = true
				opts[i].Hint = "Only owners can change this."
			}
		}
	}
	return opts
}

func rolesView(form views.EditRolesForm) view {
	return view{
		Title: "Edit roles",
		Nav:   layout.NavMembers,
		Page: func(sh layout.ShellProps) templ.Component {
			return views.EditRoles(views.EditRolesPage{Shell: sh, Form: form})
		},
		Fragment: views.EditRolesRow(form),
	}
}

func roleList(rs []components.Role) string {
	names := make([]string, 0, len(rs))
	for _, ro := range rs {
		names = append(names, ro.Label())
	}
	return strings.Join(names, ", ")
}
