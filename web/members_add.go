package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handleMembersNew shows the add-member form as a page of its own: the
// path for browsers without JavaScript.
func (s *Server) handleMembersNew() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		roles, err := s.clubRoles(r)
		if err != nil {
			return err
		}
		form := blankAddForm(id, roles)
		return s.render(w, r, http.StatusOK, addMemberView(form))
	})
}

// maxRoleFields bounds how many role values a form may carry.
const maxRoleFields = 20

// parseAddMemberForm reads and validates the add-member form against the
// club's roles. Only input it returns without an error may reach the
// domain service; the error is an EINVALID *club.Error naming each bad
// field.
func parseAddMemberForm(form url.Values, clubRoles []club.Role) (club.AddMemberInput, error) {
	in := club.AddMemberInput{
		Email:     form.Get("email"),
		FirstName: form.Get("first_name"),
		LastName:  form.Get("last_name"),
		Roles:     form["roles"],
	}
	if len(in.Roles) > maxRoleFields {
		return club.AddMemberInput{}, &club.Error{Code: club.EINVALID, Message: "Check the highlighted fields. Nothing was changed.",
			Fields: map[string]string{"roles": "Choose roles from the list."}}
	}
	return in.Validate(clubRoles)
}

// handleMembersAdd adds a person to the club by email. The confirmation is
// the same whether Kinde knew the person (from another club) or not;
// someone already in this club gets a message of its own.
func (s *Server) handleMembersAdd() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, _ := identityFrom(ctx)
		c := currentClub(id)
		if err := parseForm(w, r); err != nil {
			return err
		}
		roles, err := s.clubRoles(r)
		if err != nil {
			return err
		}
		in, err := parseAddMemberForm(r.PostForm, roles)
		if err == nil {
			var res club.AddResult
			res, err = s.service.AddMember(ctx, id.Actor(), c, roles, in)
			if err == nil {
				return s.memberAdded(w, r, id, roles, res)
			}
		}
		form := views.AddMemberForm{
			ClubName:  c.Name,
			Email:     r.PostForm.Get("email"),
			FirstName: r.PostForm.Get("first_name"),
			LastName:  r.PostForm.Get("last_name"),
			Roles:     roleOptions(roles, r.PostForm["roles"], id),
			Errors:    fieldErrors(err),
			FormError: formLevelError(err),
		}
		return &formError{err: err, form: addMemberView(form)}
	})
}

// memberAdded answers a successful add: for htmx, the table with the
// person's row highlighted at the top and the flash; otherwise a flash and
// a redirect to the members page.
func (s *Server) memberAdded(w http.ResponseWriter, r *http.Request, id club.Identity, roles []club.Role, res club.AddResult) error {
	c := currentClub(id)
	text, kind := "Added "+res.Member.Email+" to "+c.Name, flashSuccess
	if res.AlreadyMember {
		text, kind = res.Member.Email+" is already a member of "+c.Name+". Nothing was changed.", flashInfo
	}
	if !wantsFragment(r) {
		flash(r, kind, text)
		s.redirect(w, r, "/members")
		return nil
	}
	list, err := s.memberList(r.Context(), id, roles, "", "", 1)
	if err != nil {
		return err
	}
	row := memberRow(res.Member, roles, id)
	row.Highlight = true
	list.Rows = slices.DeleteFunc(list.Rows, func(m views.MemberRow) bool { return m.ID == row.ID })
	list.Rows = append([]views.MemberRow{row}, list.Rows...)
	if len(list.Rows) > membersPageSize {
		list.Rows = list.Rows[:membersPageSize]
	}
	added := views.MemberAdded{
		Form:    blankAddForm(id, roles),
		List:    list,
		Flashes: []layout.Flash{{Kind: layout.FlashKind(kind), Text: text}},
	}
	return s.render(w, r, http.StatusOK, view{Fragment: views.MemberAddedFragment(added)})
}

// blankAddForm is an empty add-member form with "member" preselected.
func blankAddForm(id club.Identity, roles []club.Role) views.AddMemberForm {
	f := views.BlankAddMemberForm(clubName(id, id.ClubCode), viewRoles(roles))
	f.Roles = roleOptions(roles, []string{club.RoleMember}, id)
	return f
}

func addMemberView(form views.AddMemberForm) view {
	page := form
	page.Standalone = true
	return view{
		Title: "Add member",
		Nav:   layout.NavMembers,
		Page: func(sh layout.ShellProps) templ.Component {
			return views.AddMember(views.AddMemberPage{Shell: sh, Form: page})
		},
		Fragment: views.AddMemberFragment(form),
	}
}
