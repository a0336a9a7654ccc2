package web

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
)

// handleLogin sends the browser to Kinde to sign in. It takes the Kinde
// parameters an invitation link or the landing page carry: org_code,
// login_hint, prompt=create (or login), and a local return_to.
func (s *Server) handleLogin() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		var req club.SignInRequest
		if code := q.Get("org_code"); validClubCode(code) {
			req.ClubCode = code
		}
		if hint := q.Get("login_hint"); hint != "" {
			if email, err := club.NormalizeEmail(hint); err == nil {
				req.LoginHint = email
			}
		}
		switch p := q.Get("prompt"); p {
		case club.PromptCreate, club.PromptLogin:
			req.Prompt = p
		}
		return s.startSignIn(w, r, session.PurposeSignIn, req, localPath(q.Get("return_to")))
	})
}

// startSignIn remembers a new pending sign-in (state, nonce and PKCE
// verifier, all fresh and random) and sends the browser to Kinde.
func (s *Server) startSignIn(w http.ResponseWriter, r *http.Request, purpose string, req club.SignInRequest, returnTo string) error {
	state, err := randomToken()
	if err != nil {
		return err
	}
	nonce, err := randomToken()
	if err != nil {
		return err
	}
	verifier, err := randomToken()
	if err != nil {
		return err
	}
	sessionFrom(r.Context()).AddPending(session.PendingSignIn{
		State: state, Nonce: nonce, Verifier: verifier,
		ReturnTo: returnTo, Purpose: purpose, ClubCode: req.ClubCode, CreatedAt: s.now(),
	})
	s.redirect(w, r, s.auth.AuthCodeURL(state, nonce, verifier, req))
	return nil
}

// randomToken returns 256 random bits, base64url-encoded (43 characters,
// which also makes a valid PKCE verifier).
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("web: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// validClubCode reports whether code looks like a Kinde org_code. Anything
// else is dropped rather than passed on to Kinde.
func validClubCode(code string) bool {
	if !strings.HasPrefix(code, "org_") || len(code) > 64 || len(code) < 5 {
		return false
	}
	for _, c := range code[4:] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// localPath returns p when it is a path on this site, and "" otherwise, so
// a return_to can never send anyone elsewhere.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return p
}
