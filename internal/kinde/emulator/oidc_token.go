package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Token-endpoint error codes, RFC 6749 §5.2.
const (
	errInvalidClient        = "invalid_client"
	errInvalidGrant         = "invalid_grant"
	errUnauthorizedClient   = "unauthorized_client"
	errUnsupportedGrantType = "unsupported_grant_type"
	errInvalidScope         = "invalid_scope"
)

// Kinde's documented wording for a failed client authentication.
const invalidClientDescription = "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)."

// The generic RFC 6749 wording for invalid_grant, as Kinde's OAuth server
// (Ory Hydra-style) phrases it.
const invalidGrantDescription = "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."

// tokenResponse is the token endpoint's success body.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
}

// tokenFamily is every token descended from one authorization code: the
// refresh-token chain and the access tokens minted along it. Revoking the
// family (code replay, revocation, logout) kills all of them.
type tokenFamily struct {
	grant     grantContext
	sessionID string
	clientID  string
	revoked   bool
	expires   time.Time

	accessJTIs map[string]time.Time // jti -> exp

	// The latest access token, handed out again by a refresh while it is
	// unexpired and its claims still match the world.
	lastAccess      string
	lastAccessJTI   string
	lastAccessExp   time.Time
	lastFingerprint string
}

// refreshRecord is one refresh token of a family.
type refreshRecord struct {
	familyID   string
	clientID   string
	expires    time.Time
	replacedAt time.Time // when its successor was issued; zero until then
}

// oauthFailure is a token-endpoint error answer.
type oauthFailure struct {
	status      int
	code        string
	description string
}

func (f *oauthFailure) Error() string { return "emulator: " + f.code + ": " + f.description }

func grantError(description string) *oauthFailure {
	return &oauthFailure{status: http.StatusBadRequest, code: errInvalidGrant, description: description}
}

func (p *oidcProvider) handleToken(w http.ResponseWriter, r *http.Request) {
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

	var resp tokenResponse
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		if app.Type != AppTypeRegular {
			f = &oauthFailure{http.StatusBadRequest, errUnauthorizedClient, "The client is not authorized to request a token using this method."}
			break
		}
		resp, f = p.exchangeCode(app, r.PostForm)
	case "refresh_token":
		if app.Type != AppTypeRegular {
			f = &oauthFailure{http.StatusBadRequest, errUnauthorizedClient, "The client is not authorized to request a token using this method."}
			break
		}
		resp, f = p.refreshTokens(app, r.PostForm)
	case "client_credentials":
		if app.Type != AppTypeM2M {
			f = &oauthFailure{http.StatusBadRequest, errUnauthorizedClient, "The client is not authorized to request a token using this method."}
			break
		}
		resp, f = p.clientCredentials(app, r.PostForm)
	case "":
		f = &oauthFailure{http.StatusBadRequest, errInvalidRequest, "The request is missing the grant_type parameter."}
	default:
		f = &oauthFailure{http.StatusBadRequest, errUnsupportedGrantType, "The authorization grant type is not supported by the authorization server."}
	}
	if f != nil {
		p.writeFailure(w, f)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	p.writeJSON(w, http.StatusOK, resp)
}

func (p *oidcProvider) writeFailure(w http.ResponseWriter, f *oauthFailure) {
	if f.status == http.StatusInternalServerError {
		p.logger().Error("emulator: token endpoint", "err", f.description)
	}
	p.writeOAuthError(w, f.status, f.code, f.description)
}

// parseOAuthForm reads an application/x-www-form-urlencoded body.
func parseOAuthForm(w http.ResponseWriter, r *http.Request) *oauthFailure {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return &oauthFailure{http.StatusBadRequest, errInvalidRequest, "The request body must be application/x-www-form-urlencoded."}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return &oauthFailure{http.StatusBadRequest, errInvalidRequest, "The request body could not be parsed."}
	}
	for _, k := range []string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "client_id", "client_secret", "token"} {
		if len(r.PostForm[k]) > 1 {
			return &oauthFailure{http.StatusBadRequest, errInvalidRequest, fmt.Sprintf("The %s parameter was sent more than once.", k)}
		}
	}
	return nil
}

// authenticateClient identifies the calling app by HTTP Basic or by the
// client_id and client_secret form fields (one method only), comparing
// secrets in constant time. Every app in the business is confidential, so a
// secret is always required.
func (p *oidcProvider) authenticateClient(w http.ResponseWriter, r *http.Request) (App, *oauthFailure) {
	fail := func(basic bool) (App, *oauthFailure) {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="kinde-emulator"`)
		}
		return App{}, &oauthFailure{http.StatusUnauthorized, errInvalidClient, invalidClientDescription}
	}
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: both parts are form-encoded before Base64.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return fail(true)
		}
		if formSecret != "" {
			return App{}, &oauthFailure{http.StatusBadRequest, errInvalidRequest, "The client used more than one authentication method."}
		}
		if formID != "" && formID != id {
			return fail(true)
		}
	} else {
		id, secret = formID, formSecret
	}
	app, ok := p.e.World().App(id)
	if id == "" || !ok || secret == "" || !secretsEqual(secret, app.ClientSecret) {
		return fail(basic)
	}
	return app, nil
}

// secretsEqual compares secrets in constant time, also hiding their lengths.
func secretsEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// exchangeCode redeems an authorization code. A code works once: a second
// attempt fails and revokes every token issued from the first.
func (p *oidcProvider) exchangeCode(app App, form url.Values) (tokenResponse, *oauthFailure) {
	code := form.Get("code")
	if code == "" {
		return tokenResponse{}, &oauthFailure{http.StatusBadRequest, errInvalidRequest, "The request is missing the code parameter."}
	}
	now := p.now()
	p.mu.Lock()
	ac, ok := p.codes[code]
	if !ok {
		p.mu.Unlock()
		return tokenResponse{}, grantError(invalidGrantDescription)
	}
	if ac.used {
		if ac.familyID != "" {
			p.revokeFamilyLocked(ac.familyID)
		}
		p.mu.Unlock()
		p.logger().Warn("emulator: authorization code replayed; its tokens are revoked", "client_id", app.ClientID)
		return tokenResponse{}, grantError("The authorization code has already been used.")
	}
	ac.used = true // any redemption attempt burns the code
	grant, redirectURI, challenge, method, expires, sessionID := ac.grant, ac.redirectURI, ac.challenge, ac.method, ac.expires, ac.sessionID
	p.mu.Unlock()

	switch {
	case now.After(expires):
		return tokenResponse{}, grantError("The authorization code has expired.")
	case grant.clientID != app.ClientID:
		return tokenResponse{}, grantError("The authorization code was issued to another client.")
	case form.Get("redirect_uri") != redirectURI:
		return tokenResponse{}, grantError("The redirect_uri does not match the one used in the authorization request.")
	}
	if f := checkPKCE(challenge, method, form.Get("code_verifier")); f != nil {
		return tokenResponse{}, f
	}

	familyID := randomToken(16)
	p.mu.Lock()
	p.families[familyID] = &tokenFamily{
		grant:      grant,
		sessionID:  sessionID,
		clientID:   app.ClientID,
		expires:    now.Add(p.life.RefreshToken),
		accessJTIs: map[string]time.Time{},
	}
	ac.familyID = familyID
	p.mu.Unlock()
	return p.mintForFamily(familyID, grant, "", now)
}

// checkPKCE verifies the code_verifier against the stored challenge (RFC 7636).
func checkPKCE(challenge, method, verifier string) *oauthFailure {
	if challenge == "" {
		if verifier != "" {
			return grantError("A code_verifier was sent but the authorization request had no code_challenge.")
		}
		return nil
	}
	if verifier == "" {
		return grantError("The code_verifier is missing.")
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return grantError("The code_verifier must be between 43 and 128 characters long.")
	}
	var computed string
	switch method {
	case "S256":
		sum := sha256.Sum256([]byte(verifier))
		computed = base64.RawURLEncoding.EncodeToString(sum[:])
	case "plain":
		computed = verifier
	}
	if subtle.ConstantTimeCompare([]byte(computed), []byte(challenge)) != 1 {
		return grantError("The PKCE code_verifier does not match the code_challenge.")
	}
	return nil
}

// refreshTokens redeems a refresh token: it always rotates, keeps the old
// token usable for the overlap window, recomputes the claims from the world
// (same org as the original sign-in) and hands back the current access token
// when it is unexpired and still accurate.
func (p *oidcProvider) refreshTokens(app App, form url.Values) (tokenResponse, *oauthFailure) {
	token := form.Get("refresh_token")
	if token == "" {
		return tokenResponse{}, &oauthFailure{http.StatusBadRequest, errInvalidRequest, "The request is missing the refresh_token parameter."}
	}
	now := p.now()
	p.mu.Lock()
	rec, ok := p.refresh[token]
	var fam *tokenFamily
	if ok {
		fam = p.families[rec.familyID]
	}
	switch {
	case !ok || fam == nil || fam.revoked || rec.clientID != app.ClientID:
		p.mu.Unlock()
		return tokenResponse{}, grantError(invalidGrantDescription)
	case now.After(rec.expires):
		p.mu.Unlock()
		return tokenResponse{}, grantError("The refresh token has expired.")
	case !rec.replacedAt.IsZero() && now.After(rec.replacedAt.Add(p.life.RefreshOverlap)):
		p.mu.Unlock()
		return tokenResponse{}, grantError("The refresh token has already been used.")
	}
	if scope := strings.Fields(form.Get("scope")); len(scope) > 0 {
		for _, s := range scope {
			if !slices.Contains(fam.grant.scopes, s) {
				p.mu.Unlock()
				return tokenResponse{}, &oauthFailure{http.StatusBadRequest, errInvalidScope, fmt.Sprintf("The requested scope '%s' was not granted.", s)}
			}
		}
	}
	grant := fam.grant
	grant.nonce = "" // OpenID Connect: a refreshed ID token carries no nonce
	familyID := rec.familyID
	p.mu.Unlock()

	resp, f := p.mintForFamily(familyID, grant, token, now)
	return resp, f
}

// mintForFamily mints a person's tokens for a family: an access token (the
// family's current one when still accurate), an ID token when the scope has
// openid, and a new refresh token when it has offline. rotated is the refresh
// token being redeemed, if any.
func (p *oidcProvider) mintForFamily(familyID string, grant grantContext, rotated string, now time.Time) (tokenResponse, *oauthFailure) {
	life := p.lifetimes()
	claims, u, err := p.userClaims(grant, now, life.AccessToken)
	if errors.Is(err, errGrantInvalid) {
		description := invalidGrantDescription
		if grant.orgCode != "" && rotated != "" {
			description = fmt.Sprintf("The user is no longer a member of organization %s.", grant.orgCode)
		}
		if _, ok := p.e.World().UserByID(grant.userID); !ok {
			description = "The user no longer exists."
		}
		return tokenResponse{}, grantError(description)
	}
	if err != nil {
		return tokenResponse{}, &oauthFailure{http.StatusInternalServerError, errServerError, err.Error()}
	}
	fingerprint := claimsFingerprint(claims, p.e.World().ClaimsVersion(u.ID))

	p.mu.Lock()
	fam := p.families[familyID]
	if fam == nil || fam.revoked {
		p.mu.Unlock()
		return tokenResponse{}, grantError(invalidGrantDescription)
	}
	var access string
	var accessExp time.Time
	if rotated != "" && fam.lastAccess != "" && fam.lastFingerprint == fingerprint && now.Before(fam.lastAccessExp) {
		if _, revoked := p.revoked[fam.lastAccessJTI]; !revoked {
			access, accessExp = fam.lastAccess, fam.lastAccessExp
		}
	}
	p.mu.Unlock()

	if access == "" {
		signed, err := p.sign(claims)
		if err != nil {
			return tokenResponse{}, &oauthFailure{http.StatusInternalServerError, errServerError, err.Error()}
		}
		access, accessExp = signed, time.Unix(claims.Exp, 0)
	}
	resp := tokenResponse{
		AccessToken: access,
		ExpiresIn:   int64(accessExp.Sub(now) / time.Second),
		Scope:       strings.Join(grant.scopes, " "),
		TokenType:   "bearer",
	}
	if slices.Contains(grant.scopes, "openid") {
		id, err := p.sign(p.idTokenClaims(grant, u, access, now))
		if err != nil {
			return tokenResponse{}, &oauthFailure{http.StatusInternalServerError, errServerError, err.Error()}
		}
		resp.IDToken = id
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if fam.revoked {
		// Revoked while minting (a replayed code, a logout): nothing escapes.
		p.revoked[claims.Jti] = accessExp
		return tokenResponse{}, grantError(invalidGrantDescription)
	}
	if access != fam.lastAccess {
		fam.accessJTIs[claims.Jti] = accessExp
		fam.lastAccess, fam.lastAccessJTI, fam.lastAccessExp, fam.lastFingerprint = access, claims.Jti, accessExp, fingerprint
	}
	// Kinde's refresh-token scope is "offline"; "offline_access" silently
	// gives none.
	if slices.Contains(grant.scopes, "offline") {
		resp.RefreshToken = randomToken(32)
		p.refresh[resp.RefreshToken] = &refreshRecord{
			familyID: familyID,
			clientID: fam.clientID,
			expires:  now.Add(life.RefreshToken),
		}
		if exp := now.Add(life.RefreshToken); exp.After(fam.expires) {
			fam.expires = exp
		}
	}
	if old, ok := p.refresh[rotated]; ok && old.replacedAt.IsZero() {
		old.replacedAt = now
	}
	p.sweepLocked(now)
	return resp, nil
}

// revokeFamilyLocked kills a family's refresh tokens and access tokens.
// Callers hold p.mu.
func (p *oidcProvider) revokeFamilyLocked(familyID string) {
	fam, ok := p.families[familyID]
	if !ok {
		return
	}
	fam.revoked = true
	for jti, exp := range fam.accessJTIs {
		p.revoked[jti] = exp
	}
}

// clientCredentials issues an M2M token. The audience must be the
// Management API (<issuer>/api or the kinde.com-style variant) or one of the
// app's APIs; requested scopes must all be granted to the app.
func (p *oidcProvider) clientCredentials(app App, form url.Values) (tokenResponse, *oauthFailure) {
	var audience []string
	for _, a := range form["audience"] {
		audience = append(audience, strings.Fields(a)...)
	}
	allowed := append(p.e.ManagementAudiences(), app.APIAudiences...)
	for _, a := range audience {
		if !slices.Contains(allowed, a) {
			return tokenResponse{}, &oauthFailure{http.StatusForbidden, errInvalidRequest,
				"The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed. Requested audience '" + a + "' has not been whitelisted by the OAuth 2.0 Client."}
		}
	}
	scopes := strings.Fields(form.Get("scope"))
	for _, s := range scopes {
		if !slices.Contains(app.Scopes, s) {
			return tokenResponse{}, &oauthFailure{http.StatusForbidden, errInvalidScope,
				"The requested scope is invalid, unknown, or malformed. The OAuth 2.0 Client is not allowed to request scope '" + s + "'."}
		}
	}
	if len(scopes) == 0 {
		scopes = slices.Clone(app.Scopes)
	}
	now := p.now()
	claims := p.m2mTokenClaims(app.ClientID, audience, scopes, now)
	tok, err := p.sign(claims)
	if err != nil {
		return tokenResponse{}, &oauthFailure{http.StatusInternalServerError, errServerError, err.Error()}
	}
	return tokenResponse{
		AccessToken: tok,
		ExpiresIn:   claims.Exp - claims.Iat,
		Scope:       claims.Scope,
		TokenType:   "bearer",
	}, nil
}
