package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// handleOnboardingForm shows the "Create your club" form.
func (s *Server) handleOnboardingForm() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return s.render(w, r, http.StatusOK, onboardingView(views.OnboardingForm{}))
	})
}

// handleOnboardingCreate creates the club with the person as its owner,
// then signs them in again silently into it, so their token carries the
// new club. A double submit finds the club made by the first.
func (s *Server) handleOnboardingCreate() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		if err := parseForm(w, r); err != nil {
			return err
		}
		name := r.PostForm.Get("name")
		c, err := s.service.CreateClub(r.Context(), id.Actor(), name)
		if err != nil {
			form := views.OnboardingForm{Name: name, Error: fieldError(err, "name")}
			if form.Error == "" {
				form.FormError = club.ErrorMessage(err)
			}
			return &formError{err: err, form: onboardingView(form)}
		}
		return s.startSignIn(w, r, session.PurposeOnboarding, club.SignInRequest{ClubCode: c.Code, Prompt: club.PromptNone}, "/")
	})
}

func onboardingView(form views.OnboardingForm) view {
	return view{
		Title: "Create your club",
		Page: func(sh layout.ShellProps) templ.Component {
			return views.Onboarding(views.OnboardingPage{Shell: sh, Form: form})
		},
		Fragment: views.OnboardingFragment(form),
	}
}
