package kinde

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/clubhouse/clubhouse/internal/club"
)

// AuthConfig configures sign-in through Kinde.
type AuthConfig struct {
	// Issuer is the Kinde domain, e.g. https://acme.kinde.com, or the
	// emulator's http://127.0.0.1:PORT. It has no trailing slash.
	Issuer string
	// ClientID and ClientSecret are the portal's "back-end web" application.
	ClientID, ClientSecret string
	// RedirectURL is the portal's callback, registered with the application.
	RedirectURL string
	// Audience is the API audience the portal requests and then requires in
	// access tokens. Empty means Kinde's default: aud [] and no check.
	Audience string
	// HTTPClient carries discovery, token and JWKS requests. nil means a
	// client with a 10 second timeout.
	HTTPClient *http.Client
	// Now is the clock token expiry is checked against. nil means time.Now.
	Now func() time.Time
}

// Auth signs people in through Kinde as an OpenID Connect relying party.
// Every claim it returns comes from a token whose signature, issuer,
// audience and expiry it verified against Kinde's JWKS. It is safe for
// concurrent use.
type Auth struct {
	cfg    AuthConfig
	client *http.Client
	oauth  oauth2.Config
	// idToken checks ID tokens (audience = client id); staleIDToken does the
	// same without the expiry check, for a refresh answer that carries no new
	// ID token. accessToken checks access tokens (audience = the configured
	// API audience, when there is one). All three share the provider's one
	// JWKS cache, which refetches the key set when it meets an unknown kid.
	idToken, staleIDToken, accessToken *oidc.IDTokenVerifier
	logoutURL                          string
}

// NewAuth reads Kinde's discovery document at cfg.Issuer and returns an Auth
// for the application cfg describes.
func NewAuth(ctx context.Context, cfg AuthConfig) (*Auth, error) {
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"issuer", cfg.Issuer}, {"client id", cfg.ClientID},
		{"client secret", cfg.ClientSecret}, {"redirect url", cfg.RedirectURL},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("kinde: auth: missing %s", strings.Join(missing, ", "))
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("kinde: auth: discovery: %w", err)
	}
	var doc struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&doc); err != nil {
		return nil, fmt.Errorf("kinde: auth: discovery document: %w", err)
	}
	if doc.EndSession == "" {
		doc.EndSession = cfg.Issuer + "/logout"
	}
	endpoint := provider.Endpoint()
	// Kinde's SDKs send the client secret in the form body.
	endpoint.AuthStyle = oauth2.AuthStyleInParams
	algs := []string{oidc.RS256} // Kinde signs with RS256 only
	a := &Auth{
		cfg:    cfg,
		client: client,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			RedirectURL:  cfg.RedirectURL,
			Endpoint:     endpoint,
			// Kinde spells the refresh-token scope "offline";
			// "offline_access" silently yields no refresh token.
			Scopes: []string{oidc.ScopeOpenID, "profile", "email", "offline"},
		},
		idToken:      provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: algs, Now: now}),
		staleIDToken: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: algs, Now: now, SkipExpiryCheck: true}),
		accessToken: provider.Verifier(&oidc.Config{
			ClientID:             cfg.Audience,
			SkipClientIDCheck:    cfg.Audience == "",
			SupportedSigningAlgs: algs,
			Now:                  now,
		}),
		logoutURL: doc.EndSession,
	}
	return a, nil
}

// AuthCodeURL returns the Kinde authorize URL that starts a sign-in. state,
// nonce and the PKCE verifier are the caller's single-use secrets (see
// oauth2.GenerateVerifier); req carries Kinde's own parameters.
func (a *Auth) AuthCodeURL(state, nonce, verifier string, req club.SignInRequest) string {
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	set := func(k, v string) {
		if v != "" {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	set("org_code", req.ClubCode)
	set("prompt", req.Prompt)
	set("login_hint", req.LoginHint)
	if req.CreateClub {
		set("is_create_org", "true")
		set("org_name", req.ClubName)
	}
	set("audience", a.cfg.Audience)
	return a.oauth.AuthCodeURL(state, opts...)
}

// Exchange trades an authorization code for tokens, verifies them and
// returns who signed in. nonce must equal the ID token's nonce.
//
// Errors: club.Unavailable when Kinde did not answer; an EUNAUTHENTICATED
// error when Kinde refused the code (expired or already used: sign in
// again); an EINTERNAL error with a safe message when the tokens failed
// verification. No error text carries token contents.
func (a *Auth) Exchange(ctx context.Context, code, verifier, nonce string) (club.Identity, club.Tokens, error) {
	ctx = oidc.ClientContext(ctx, a.client)
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return club.Identity{}, club.Tokens{}, tokenEndpointError(ctx, "exchange", err, false)
	}
	id, toks, err := a.verify(ctx, tok, "", &nonce)
	if err != nil {
		return club.Identity{}, club.Tokens{}, untrusted("exchange", err)
	}
	return id, toks, nil
}

// Refresh uses the refresh-token grant to get new tokens (Kinde rotates the
// refresh token: the returned Tokens replace t), verifies them the same way
// as Exchange (without a nonce) and returns the person as Kinde sees them
// now: new roles, clubs and permissions show up here.
//
// Errors: errors.Is(err, club.ErrSessionEnded) when Kinde refuses (revoked,
// expired, removed from the club) or the new tokens fail verification;
// club.Unavailable when Kinde did not answer.
func (a *Auth) Refresh(ctx context.Context, t club.Tokens) (club.Identity, club.Tokens, error) {
	if t.RefreshToken == "" {
		return club.Identity{}, club.Tokens{}, sessionEnded(errors.New("kinde: refresh: no refresh token"))
	}
	ctx = oidc.ClientContext(ctx, a.client)
	// A token with only a refresh token is never valid, so this always
	// asks Kinde.
	tok, err := a.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: t.RefreshToken}).Token()
	if err != nil {
		return club.Identity{}, club.Tokens{}, tokenEndpointError(ctx, "refresh", err, true)
	}
	id, toks, err := a.verify(ctx, tok, t.IDToken, nil)
	if err != nil {
		return club.Identity{}, club.Tokens{}, sessionEnded(fmt.Errorf("kinde: refresh: %w", err))
	}
	return id, toks, nil
}

// LogoutURL returns Kinde's logout URL, which ends the Kinde session and
// sends the browser to returnTo (it must be one of the application's
// allowed logout redirect URLs).
func (a *Auth) LogoutURL(returnTo string) string {
	u := a.logoutURL
	if returnTo == "" {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "redirect=" + url.QueryEscape(returnTo)
}

// verify checks the ID and access tokens in tok and reads the identity from
// their claims. When tok carries no ID token, fallbackID (an ID token
// verified earlier in this session) is checked without its expiry. A
// non-nil nonce must match the ID token's.
func (a *Auth) verify(ctx context.Context, tok *oauth2.Token, fallbackID string, nonce *string) (club.Identity, club.Tokens, error) {
	rawID, _ := tok.Extra("id_token").(string)
	idVerifier := a.idToken
	if rawID == "" {
		if fallbackID == "" || nonce != nil {
			return club.Identity{}, club.Tokens{}, errors.New("kinde: the token response has no id token")
		}
		rawID, idVerifier = fallbackID, a.staleIDToken
	}
	idt, err := idVerifier.Verify(ctx, rawID)
	if err != nil {
		return club.Identity{}, club.Tokens{}, fmt.Errorf("kinde: id token: %w", err)
	}
	if nonce != nil && (*nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(*nonce)) != 1) {
		return club.Identity{}, club.Tokens{}, errors.New("kinde: id token: nonce does not match")
	}
	var ic idClaims
	if err := idt.Claims(&ic); err != nil {
		return club.Identity{}, club.Tokens{}, fmt.Errorf("kinde: id token claims: %w", err)
	}
	at, err := a.accessToken.Verify(ctx, tok.AccessToken)
	if err != nil {
		return club.Identity{}, club.Tokens{}, fmt.Errorf("kinde: access token: %w", err)
	}
	var ac accessClaims
	if err := at.Claims(&ac); err != nil {
		return club.Identity{}, club.Tokens{}, fmt.Errorf("kinde: access token claims: %w", err)
	}
	switch {
	case at.Subject == "" || at.Subject != idt.Subject:
		return club.Identity{}, club.Tokens{}, errors.New("kinde: access token subject does not match the id token")
	case ac.Azp != "" && ac.Azp != a.cfg.ClientID:
		return club.Identity{}, club.Tokens{}, errors.New("kinde: access token was issued to another application")
	}
	id := identityFrom(idt.Subject, ic, ac)
	toks := club.Tokens{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		IDToken:      rawID,
		Expiry:       at.Expiry,
	}
	return id, toks, nil
}

// tokenEndpointError turns a failed call to Kinde's token endpoint into a
// domain error. It keeps Kinde's error code but never the response body.
func tokenEndpointError(ctx context.Context, what string, err error, refresh bool) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		if ctx.Err() != nil {
			return club.Unavailable(fmt.Errorf("kinde: %s: %w", what, ctx.Err()))
		}
		// A transport failure, or an answer that is not a token response.
		return club.Unavailable(fmt.Errorf("kinde: %s: %w", what, err))
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	cause := fmt.Errorf("kinde: %s: token endpoint answered %d %q", what, status, re.ErrorCode)
	switch {
	case status >= 500 || status == http.StatusTooManyRequests:
		return club.Unavailable(cause)
	case re.ErrorCode == "invalid_grant" && refresh:
		return sessionEnded(cause)
	case re.ErrorCode == "invalid_grant":
		return &club.Error{Code: club.EUNAUTHENTICATED, Err: cause,
			Message: "Your sign-in expired or was already used. Please sign in again."}
	}
	// invalid_client, unauthorized_client…: the portal's Kinde settings are wrong.
	return &club.Error{Code: club.EINTERNAL, Err: cause,
		Message: "Kinde refused the portal's sign-in request. Please tell the club's administrator."}
}

// sessionEnded wraps cause as club.ErrSessionEnded.
func sessionEnded(cause error) error {
	return &club.Error{Code: club.ErrSessionEnded.Code, Message: club.ErrSessionEnded.Message, Err: cause}
}

// untrusted is the error for tokens that failed verification.
func untrusted(what string, cause error) error {
	return &club.Error{Code: club.EINTERNAL, Err: fmt.Errorf("kinde: %s: %w", what, cause),
		Message: "Kinde's sign-in answer could not be verified. Please try signing in again."}
}
