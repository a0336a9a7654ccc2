package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
)

// maxLoginPeople caps the people listed on the login page; a business with
// thousands of people is still usable by typing an email.
const maxLoginPeople = 50

// maxFormBytes bounds the sign-in pages' form bodies.
const maxFormBytes = 64 << 10

// loginForm is what the person typed, kept when the page is shown again.
type loginForm struct {
	Email       string
	FirstName   string
	LastName    string
	Create      bool   // show the sign-up fields
	Message     string // an inline problem to fix
	OfferCreate bool   // the email is unknown: offer to create an account
}

// loginPage is the view model of the dev sign-in page.
type loginPage struct {
	RequestID   string
	Action      string
	AppName     string
	OrgNotice   string
	Form        loginForm
	People      []personView
	MorePeople  int
	HintMatched bool
}

// personView is one seeded person the developer can sign in as.
type personView struct {
	ID     string
	Name   string
	Email  string
	Clubs  []clubView
	Hinted bool
}

// clubView is one of a person's clubs and their roles in it.
type clubView struct {
	Name  string
	Roles string
}

// orgChooserPage is the view model of the org chooser.
type orgChooserPage struct {
	RequestID string
	Action    string
	AppName   string
	Person    string
	Orgs      []Org
	Message   string
}

// showLogin renders the sign-in page for a pending request.
func (p *oidcProvider) showLogin(w http.ResponseWriter, r *http.Request, req *authRequest, form loginForm) {
	world := p.e.World()
	hint := strings.TrimSpace(req.loginHint)
	if strings.HasPrefix(hint, "phone:") || strings.HasPrefix(hint, "username:") {
		hint = ""
	}
	if form.Email == "" && hint != "" && !form.Create {
		form.Email = hint
	}
	if req.prompt == "create" {
		form.Create = true
	}
	page := loginPage{
		RequestID: req.id,
		Action:    pathLogin,
		AppName:   req.app.Name,
		Form:      form,
	}
	switch {
	case req.isCreateOrg:
		page.OrgNotice = fmt.Sprintf("A new club, %q, will be created and you will be its owner.", req.orgName)
	case req.orgCode != "":
		if org, ok := world.OrgByCode(req.orgCode); ok {
			page.OrgNotice = "You are signing in to " + org.Name + "."
		}
	}

	people := world.People()
	shown := people
	if len(shown) > maxLoginPeople {
		shown = shown[:maxLoginPeople]
		page.MorePeople = len(people) - maxLoginPeople
	}
	if hint != "" {
		if u, ok := world.UserByEmail(hint); ok {
			page.HintMatched = true
			listed := false
			for _, s := range shown {
				if s.ID == u.ID {
					listed = true
					break
				}
			}
			if !listed {
				shown = append([]User{u}, shown...)
			}
		}
	}
	for _, u := range shown {
		pv := personView{
			ID:     u.ID,
			Name:   u.FullName(),
			Email:  u.Email,
			Hinted: hint != "" && strings.EqualFold(u.Email, hint),
		}
		if pv.Name == "" {
			pv.Name = u.Email
		}
		for _, o := range world.OrgsOfUser(u.ID) {
			var keys []string
			for _, role := range world.MemberRoles(o.Code, u.ID) {
				keys = append(keys, role.Key)
			}
			pv.Clubs = append(pv.Clubs, clubView{Name: o.Name, Roles: strings.Join(keys, ", ")})
		}
		page.People = append(page.People, pv)
	}
	p.render(w, r, http.StatusOK, "login.html", page)
}

// handleLoginPost signs someone in from the login page: as a listed person,
// by email, or by signing up.
func (p *oidcProvider) handleLoginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.renderError(w, r, http.StatusBadRequest, "Bad request", "The sign-in form could not be read.")
		return
	}
	req, ok := p.pendingRequest(r.PostForm.Get("auth_request"))
	if !ok {
		p.renderExpired(w, r)
		return
	}
	world := p.e.World()
	form := loginForm{
		Email:     strings.TrimSpace(r.PostForm.Get("email")),
		FirstName: strings.TrimSpace(r.PostForm.Get("first_name")),
		LastName:  strings.TrimSpace(r.PostForm.Get("last_name")),
	}

	var u User
	switch r.PostForm.Get("action") {
	case "person":
		u, ok = world.UserByID(r.PostForm.Get("user_id"))
		if !ok {
			form.Message = "That person no longer exists. Choose someone else."
			p.showLogin(w, r, req, form)
			return
		}
	case "email":
		if form.Email == "" {
			form.Message = "Enter an email address."
			p.showLogin(w, r, req, form)
			return
		}
		u, ok = world.UserByEmail(form.Email)
		if !ok {
			form.Message = "There is no account for " + form.Email + "."
			form.OfferCreate = true
			p.showLogin(w, r, req, form)
			return
		}
	case "show_signup":
		form.Create = true
		p.showLogin(w, r, req, form)
		return
	case "signup":
		form.Create = true
		if msg := validateSignUp(form); msg != "" {
			form.Message = msg
			p.showLogin(w, r, req, form)
			return
		}
		created, err := world.CreateUser(User{Email: form.Email, FirstName: form.FirstName, LastName: form.LastName}, "", SourceUser)
		if errors.Is(err, ErrEmailInUse) {
			form.Message = "An account with this email already exists. Sign in with it instead."
			form.Create = false
			p.showLogin(w, r, req, form)
			return
		}
		if err != nil {
			p.serverError(w, r, err)
			return
		}
		u = created
	default:
		p.renderError(w, r, http.StatusBadRequest, "Bad request", "The sign-in form was not recognised.")
		return
	}
	if u.IsSuspended {
		form.Message = "This account is suspended. Choose someone else."
		p.showLogin(w, r, req, form)
		return
	}
	p.finish(w, r, req, u, p.now(), true)
}

// validateSignUp returns a message for the first problem with a sign-up, or
// "" when it is fine.
func validateSignUp(f loginForm) string {
	if f.Email == "" {
		return "Enter an email address."
	}
	if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email {
		return "Enter a valid email address, like name@example.org."
	}
	if f.FirstName == "" {
		return "Enter a first name."
	}
	if f.LastName == "" {
		return "Enter a last name."
	}
	return ""
}

// showOrgChooser renders the list of the person's orgs to sign in to.
func (p *oidcProvider) showOrgChooser(w http.ResponseWriter, r *http.Request, req *authRequest, u User, orgs []Org, message string) {
	name := u.FullName()
	if name == "" {
		name = u.Email
	}
	p.render(w, r, http.StatusOK, "orgs.html", orgChooserPage{
		RequestID: req.id,
		Action:    pathChooseOrg,
		AppName:   req.app.Name,
		Person:    name,
		Orgs:      orgs,
		Message:   message,
	})
}

// handleChooseOrg finishes a sign-in with the org the person picked.
func (p *oidcProvider) handleChooseOrg(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.renderError(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	req, ok := p.pendingRequest(r.PostForm.Get("auth_request"))
	if !ok || req.userID == "" {
		p.renderExpired(w, r)
		return
	}
	world := p.e.World()
	u, ok := world.UserByID(req.userID)
	if !ok || u.IsSuspended {
		p.forget(req.id)
		p.renderExpired(w, r)
		return
	}
	code := r.PostForm.Get("org_code")
	if !world.IsMember(code, u.ID) {
		p.showOrgChooser(w, r, req, u, world.OrgsOfUser(u.ID), "Choose one of your clubs.")
		return
	}
	req.orgCode = code
	p.finish(w, r, req, u, req.authTime, req.fresh)
}

func (p *oidcProvider) renderExpired(w http.ResponseWriter, r *http.Request) {
	p.renderError(w, r, http.StatusBadRequest, "Sign-in expired",
		"This sign-in has expired or was already used. Go back to the app and sign in again.")
}
