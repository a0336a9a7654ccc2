package web

import (
	"net/http"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
)

var (
	errBadState = &club.Error{Code: club.EINVALID,
		Message: "This sign-in was already used, has expired, or was started in another browser. Nothing was changed. Sign in again."}
	errKindeRefused = &club.Error{Code: club.EINVALID,
		Message: "Kinde did not sign you in. Nothing was changed. Try signing in again."}
	errNotClubMember = &club.Error{Code: club.EFORBIDDEN,
		Message: "Kinde says you are not a member of that club, so you were not signed in to it. Nothing was changed."}
	errExchange = &club.Error{Code: club.EINVALID,
		Message: "We could not confirm your sign-in with Kinde. Nothing was changed. Try signing in again."}
)

// handleCallback finishes a sign-in: the state must match one of this
// session's pending sign-ins (each usable once), the code is exchanged for
// tokens Kinde signed (nonce and PKCE checked), and the session gets a new
// id before the person is stored in it.
func (s *Server) handleCallback() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		q := r.URL.Query()
		sess := sessionFrom(ctx)
		p, ok := sess.TakePending(q.Get("state"))
		if !ok {
			return errBadState
		}
		switch e := q.Get("error"); {
		case e == "login_required" && p.Purpose != session.PurposeSignIn && p.ClubCode != "":
			// A silent switch or re-auth found no Kinde session: ask the
			// person to sign in to that club.
			return s.startSignIn(w, r, session.PurposeSignIn, club.SignInRequest{ClubCode: p.ClubCode}, p.ReturnTo)
		case e == "access_denied":
			return errNotClubMember
		case e != "":
			return errKindeRefused
		}
		code := q.Get("code")
		if code == "" {
			return errKindeRefused
		}
		id, tok, err := s.auth.Exchange(ctx, code, p.Verifier, p.Nonce)
		if err != nil {
			if club.ErrorCode(err) == club.EUNAVAILABLE {
				return err
			}
			s.logger.WarnContext(ctx, "web: sign-in exchange refused", "err", club.LogError(err))
			return errExchange
		}
		now := s.now()
		sess.SignIn(session.SignedIn{Identity: id, Tokens: tok, SignedInAt: now, ClaimsCheckedAt: now})
		switch {
		case p.Purpose == session.PurposeOnboarding && id.ClubCode != "":
			flash(r, flashSuccess, clubName(id, id.ClubCode)+" is ready. You are its owner.")
		case p.Purpose == session.PurposeSwitch && id.ClubCode != "":
			flash(r, flashInfo, "You are now in "+clubName(id, id.ClubCode)+".")
		}
		target := p.ReturnTo
		if target == "" {
			target = "/"
		}
		s.redirect(w, r, target)
		return nil
	})
}
