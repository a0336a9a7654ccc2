package web

import (
	"net/http"
)

// handleLogout deletes the session and sends the browser through Kinde's
// sign-out, which ends the Kinde session too and comes back to the landing
// page.
func (s *Server) handleLogout() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		sessionFrom(r.Context()).Destroy()
		s.redirect(w, r, s.auth.LogoutURL(s.publicURL+"/"))
		return nil
	})
}
