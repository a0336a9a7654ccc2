package emulator

import (
	"net/http"
	"strings"
	"time"
)

// userProfileV2 is GET /oauth2/v2/user_profile's body (spec: user_profile_v2).
type userProfileV2 struct {
	Sub               string  `json:"sub"`
	ProvidedID        *string `json:"provided_id"`
	Name              string  `json:"name"`
	GivenName         string  `json:"given_name"`
	FamilyName        string  `json:"family_name"`
	UpdatedAt         int64   `json:"updated_at"`
	Email             string  `json:"email"`
	EmailVerified     bool    `json:"email_verified"`
	Picture           *string `json:"picture"`
	PreferredUsername *string `json:"preferred_username"`
	ID                string  `json:"id"`
}

// userProfileV1 is the legacy GET /oauth2/user_profile body (spec: user_profile).
type userProfileV1 struct {
	ID             string  `json:"id"`
	PreferredEmail string  `json:"preferred_email"`
	Username       string  `json:"username"`
	ProvidedID     *string `json:"provided_id"`
	LastName       string  `json:"last_name"`
	FirstName      string  `json:"first_name"`
	Picture        string  `json:"picture"`
}

// bearerUser authenticates a user-profile call by its bearer access token.
// Kinde's spec answers 403 without a body for bad credentials.
func (p *oidcProvider) bearerUser(w http.ResponseWriter, r *http.Request) (User, bool) {
	deny := func() (User, bool) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusForbidden)
		return User{}, false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return deny()
	}
	v, err := p.verifyAccessToken(strings.TrimSpace(token))
	if err != nil || v.sub == "" {
		return deny()
	}
	u, found := p.e.World().UserByID(v.sub)
	if !found || u.IsSuspended {
		return deny()
	}
	NoteClientID(r, v.azp)
	return u, true
}

func (p *oidcProvider) handleUserProfile(w http.ResponseWriter, r *http.Request) {
	u, ok := p.bearerUser(w, r)
	if !ok {
		return
	}
	p.writeJSON(w, http.StatusOK, userProfileV2{
		Sub:               u.ID,
		ProvidedID:        optional(u.ProvidedID),
		Name:              u.FullName(),
		GivenName:         u.FirstName,
		FamilyName:        u.LastName,
		UpdatedAt:         u.CreatedOn.Unix(),
		Email:             u.Email,
		EmailVerified:     u.Email != "",
		Picture:           optional(u.Picture),
		PreferredUsername: optional(u.Username),
		ID:                u.ID,
	})
}

func (p *oidcProvider) handleUserProfileV1(w http.ResponseWriter, r *http.Request) {
	u, ok := p.bearerUser(w, r)
	if !ok {
		return
	}
	p.writeJSON(w, http.StatusOK, userProfileV1{
		ID:             u.ID,
		PreferredEmail: u.Email,
		Username:       u.Username,
		ProvidedID:     optional(u.ProvidedID),
		LastName:       u.LastName,
		FirstName:      u.FirstName,
		Picture:        u.Picture,
	})
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// introspection is POST /oauth2/introspect's body (spec: token_introspect).
// An inactive token gets only {"active":false}, as RFC 7662 recommends.
type introspection struct {
	Active   bool     `json:"active"`
	Aud      []string `json:"aud"`
	ClientID string   `json:"client_id"`
	Exp      int64    `json:"exp"`
	Iat      int64    `json:"iat"`
}

// inactive is the introspection answer for a token that is not active.
type inactive struct {
	Active bool `json:"active"`
}

// handleIntrospect tells an authenticated client whether a token (access or
// refresh) is active.
func (p *oidcProvider) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	if f := parseOAuthForm(w, r); f != nil {
		p.writeFailure(w, f)
		return
	}
	app, f := p.authenticateClient(w, r)
	if f != nil {
		p.writeFailure(w, f)
		return
	}
	NoteClientID(r, app.ClientID)
	token := r.PostForm.Get("token")
	if token == "" {
		p.writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, "The request is missing the token parameter.")
		return
	}
	if out, isRefresh := p.introspectRefresh(token); isRefresh {
		if !out.Active {
			p.writeJSON(w, http.StatusOK, inactive{})
			return
		}
		p.writeJSON(w, http.StatusOK, out)
		return
	}
	v, err := p.verifyAccessToken(token)
	if err != nil {
		p.writeJSON(w, http.StatusOK, inactive{})
		return
	}
	p.writeJSON(w, http.StatusOK, introspection{Active: true, Aud: v.aud, ClientID: v.azp, Exp: v.exp, Iat: v.iat})
}

// introspectRefresh answers for a refresh token, when token is one.
func (p *oidcProvider) introspectRefresh(token string) (introspection, bool) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, ok := p.refresh[token]
	if !ok {
		return introspection{}, false
	}
	fam := p.families[rec.familyID]
	if fam == nil || fam.revoked || now.After(rec.expires) ||
		(!rec.replacedAt.IsZero() && now.After(rec.replacedAt.Add(p.life.RefreshOverlap))) {
		return introspection{Active: false}, true
	}
	return introspection{
		Active:   true,
		Aud:      nonNil(fam.grant.audience),
		ClientID: rec.clientID,
		Exp:      rec.expires.Unix(),
		Iat:      rec.expires.Add(-p.life.RefreshToken).Unix(),
	}, true
}

// handleRevoke revokes a refresh token (with its whole family) or an access
// token. Per RFC 7009 it answers 200 even for unknown tokens.
func (p *oidcProvider) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if f := parseOAuthForm(w, r); f != nil {
		p.writeFailure(w, f)
		return
	}
	app, f := p.authenticateClient(w, r)
	if f != nil {
		p.writeFailure(w, f)
		return
	}
	NoteClientID(r, app.ClientID)
	token := r.PostForm.Get("token")
	if token == "" {
		p.writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, "The request is missing the token parameter.")
		return
	}
	p.mu.Lock()
	rec, isRefresh := p.refresh[token]
	if isRefresh && rec.clientID == app.ClientID {
		p.revokeFamilyLocked(rec.familyID)
	}
	p.mu.Unlock()
	if !isRefresh {
		if v, err := p.verifyAccessToken(token); err == nil && v.azp == app.ClientID {
			p.mu.Lock()
			p.revoked[v.jti] = timeFromUnix(v.exp)
			p.mu.Unlock()
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// signedOutPage is the view model of the page shown after a logout without
// a redirect.
type signedOutPage struct{}

// handleLogout ends the SSO session, revokes the refresh tokens issued in
// it, and redirects to ?redirect= when that is a registered logout URL of
// some application.
func (p *oidcProvider) handleLogout(w http.ResponseWriter, r *http.Request) {
	redirect := r.URL.Query().Get("redirect")
	if redirect != "" {
		if _, ok := p.e.World().AppByLogoutURI(redirect); !ok {
			p.renderError(w, r, http.StatusBadRequest, "Sign-out redirect not allowed",
				"The redirect URL is not one of the applications' allowed logout URLs. You are still signed in.")
			return
		}
	}
	if sid := p.endSession(w, r); sid != "" {
		p.mu.Lock()
		for id, fam := range p.families {
			if fam.sessionID == sid {
				p.revokeFamilyLocked(id)
			}
		}
		p.mu.Unlock()
	}
	if redirect == "" {
		p.render(w, r, http.StatusOK, "signedout.html", signedOutPage{})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, redirect, http.StatusFound)
}

func timeFromUnix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
