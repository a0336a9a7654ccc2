package web

import (
	"net/http"
	"slices"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
)

var errNotYourClub = &club.Error{Code: club.EFORBIDDEN,
	Message: "You are not a member of that club, so you cannot switch to it. Nothing was changed."}

// handleSwitch moves the person to another of their clubs: a silent
// authorize (prompt=none) with that club's org_code. Only clubs listed in
// their verified ID token are allowed.
func (s *Server) handleSwitch() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		code := r.URL.Query().Get("org_code")
		if !slices.ContainsFunc(id.Clubs, func(c club.Club) bool { return c.Code == code }) {
			return errNotYourClub
		}
		if code == id.ClubCode {
			s.redirect(w, r, "/")
			return nil
		}
		return s.startSignIn(w, r, session.PurposeSwitch, club.SignInRequest{ClubCode: code, Prompt: club.PromptNone}, "/")
	})
}
