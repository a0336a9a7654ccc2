package emulator

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// templateFS holds the sign-in pages and their stylesheet.
//
//go:embed templates
var templateFS embed.FS

// OpenID Provider paths, as Kinde serves them.
const (
	pathDiscovery     = "/.well-known/openid-configuration"
	pathJWKS          = "/.well-known/jwks"
	pathJWKSJSON      = "/.well-known/jwks.json"
	pathAuthorize     = "/oauth2/auth"
	pathToken         = "/oauth2/token"
	pathUserProfile   = "/oauth2/v2/user_profile"
	pathUserProfileV1 = "/oauth2/user_profile"
	pathIntrospect    = "/oauth2/introspect"
	pathRevoke        = "/oauth2/revoke"
	pathLogout        = "/logout"

	// The emulator's own sign-in UI. Kinde's hosted pages live elsewhere;
	// only the emulator's pages post here.
	pathLogin     = "/auth/login"
	pathChooseOrg = "/auth/organization"
)

// sessionCookie names the emulator's single-sign-on cookie. It differs from
// the portal's cookie names so both can live on the same host.
const sessionCookie = "kinde_emu_session"

// oidcProvider is the emulator's OpenID Provider: discovery, JWKS, the
// authorize endpoint and its sign-in pages, the token endpoint, user
// profile, introspection, revocation and logout. Its grants, codes and
// sessions are in memory; the people and orgs they refer to live in the
// World, which is read afresh every time a token is minted.
type oidcProvider struct {
	e    *Emulator
	keys *keyring
	tmpl *template.Template
	csrf *http.CrossOriginProtection

	mu         sync.Mutex
	life       TokenLifetimes
	sessions   map[string]*ssoSession    // by cookie value
	requests   map[string]*authRequest   // by request id
	codes      map[string]*authCode      // by code
	refresh    map[string]*refreshRecord // by refresh token
	families   map[string]*tokenFamily   // by family id
	revoked    map[string]time.Time      // access-token jti -> its expiry
	issueCount int
}

// ssoSession is a person signed in to the emulator's own origin.
type ssoSession struct {
	id       string
	userID   string
	orgCode  string // the org of the last sign-in
	authTime time.Time
}

func newOIDCProvider(e *Emulator) *oidcProvider {
	tmpl := template.Must(template.New("pages").Funcs(template.FuncMap{
		"css": func() template.CSS {
			b, _ := templateFS.ReadFile("templates/style.css")
			return template.CSS(b)
		},
	}).ParseFS(templateFS, "templates/*.html"))
	p := &oidcProvider{
		e:        e,
		keys:     newKeyring(e.World()),
		tmpl:     tmpl,
		csrf:     http.NewCrossOriginProtection(),
		life:     DefaultTokenLifetimes(),
		sessions: make(map[string]*ssoSession),
		requests: make(map[string]*authRequest),
		codes:    make(map[string]*authCode),
		refresh:  make(map[string]*refreshRecord),
		families: make(map[string]*tokenFamily),
		revoked:  make(map[string]time.Time),
	}
	// Make sure the world has a signing key from the start, so the JWKS and
	// an export taken before any sign-in already carry it. Should this fail,
	// the keyring tries again when a key is first needed.
	if _, err := p.keys.keys(); err != nil {
		e.logger.Error("emulator: signing keys", "err", err)
	}
	return p
}

// register mounts the OpenID Provider's routes on mux.
func (p *oidcProvider) register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+pathDiscovery, p.handleDiscovery)
	mux.HandleFunc("GET "+pathJWKS, p.handleJWKS)
	mux.HandleFunc("GET "+pathJWKSJSON, p.handleJWKS)
	mux.HandleFunc("GET "+pathAuthorize, p.handleAuthorize)
	mux.HandleFunc("POST "+pathAuthorize, p.handleAuthorize)
	mux.Handle("POST "+pathLogin, p.csrf.Handler(http.HandlerFunc(p.handleLoginPost)))
	mux.Handle("POST "+pathChooseOrg, p.csrf.Handler(http.HandlerFunc(p.handleChooseOrg)))
	mux.HandleFunc("POST "+pathToken, p.handleToken)
	mux.HandleFunc("GET "+pathUserProfile, p.handleUserProfile)
	mux.HandleFunc("GET "+pathUserProfileV1, p.handleUserProfileV1)
	mux.HandleFunc("POST "+pathIntrospect, p.handleIntrospect)
	mux.HandleFunc("POST "+pathRevoke, p.handleRevoke)
	mux.HandleFunc("GET "+pathLogout, p.handleLogout)
}

func (p *oidcProvider) now() time.Time { return p.e.clock.Now().UTC() }

func (p *oidcProvider) logger() *slog.Logger { return p.e.logger }

func (p *oidcProvider) lifetimes() TokenLifetimes {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.life
}

func (p *oidcProvider) setLifetimes(l TokenLifetimes) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.life = l
}

// discovery is the OpenID configuration document. Kinde publishes no copy of
// its own, so the field set is the documented endpoints plus what the
// emulator supports.
type discovery struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint"`
	TokenEndpoint                          string   `json:"token_endpoint"`
	UserinfoEndpoint                       string   `json:"userinfo_endpoint"`
	JWKSURI                                string   `json:"jwks_uri"`
	EndSessionEndpoint                     string   `json:"end_session_endpoint"`
	RevocationEndpoint                     string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                  string   `json:"introspection_endpoint"`
	ResponseTypesSupported                 []string `json:"response_types_supported"`
	ResponseModesSupported                 []string `json:"response_modes_supported"`
	GrantTypesSupported                    []string `json:"grant_types_supported"`
	SubjectTypesSupported                  []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported       []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported"`
	ScopesSupported                        []string `json:"scopes_supported"`
	ClaimsSupported                        []string `json:"claims_supported"`
	RequestURIParameterSupported           bool     `json:"request_uri_parameter_supported"`
}

func (p *oidcProvider) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	iss := p.e.Issuer()
	p.writeJSON(w, http.StatusOK, discovery{
		Issuer:                                 iss,
		AuthorizationEndpoint:                  iss + pathAuthorize,
		TokenEndpoint:                          iss + pathToken,
		UserinfoEndpoint:                       iss + pathUserProfile,
		JWKSURI:                                iss + pathJWKS,
		EndSessionEndpoint:                     iss + pathLogout,
		RevocationEndpoint:                     iss + pathRevoke,
		IntrospectionEndpoint:                  iss + pathIntrospect,
		ResponseTypesSupported:                 []string{"code"},
		ResponseModesSupported:                 []string{"query"},
		GrantTypesSupported:                    []string{"authorization_code", "refresh_token", "client_credentials"},
		SubjectTypesSupported:                  []string{"public"},
		IDTokenSigningAlgValuesSupported:       []string{"RS256"},
		TokenEndpointAuthMethodsSupported:      []string{"client_secret_post", "client_secret_basic"},
		RevocationEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic"},
		CodeChallengeMethodsSupported:          []string{"S256"},
		ScopesSupported:                        []string{"openid", "profile", "email", "offline"},
		ClaimsSupported: []string{
			"aud", "auth_time", "azp", "email", "email_verified", "exp", "family_name",
			"given_name", "iat", "iss", "jti", "name", "nonce", "org_codes", "organizations",
			"picture", "provided_id", "rat", "sub", "updated_at",
		},
	})
}

// writeJSON writes v as JSON with status, buffering first so an encoding
// failure becomes a 500 rather than half a body.
func (p *oidcProvider) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		p.logger().Error("emulator: encode response", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// oauthError is the RFC 6749 error body Kinde's OAuth endpoints use.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func (p *oidcProvider) writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	p.writeJSON(w, status, oauthError{Error: code, Description: description})
}

// serverError answers 500 for a failure inside the emulator and logs it.
func (p *oidcProvider) serverError(w http.ResponseWriter, r *http.Request, err error) {
	p.logger().Error("emulator: sign-in", "path", r.URL.Path, "err", err)
	p.writeOAuthError(w, http.StatusInternalServerError, "server_error", "The emulator failed to handle the request.")
}

// render executes a page template into a buffer, then writes it with status.
func (p *oidcProvider) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		p.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorPage is the view model of the error page.
type errorPage struct {
	Title   string
	Message string
}

// renderError shows an error page; it is used when the client cannot be
// trusted with a redirect (unknown client, unregistered redirect URI).
func (p *oidcProvider) renderError(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	p.render(w, r, status, "error.html", errorPage{Title: title, Message: message})
}

// randomToken returns an unguessable URL-safe token of n random bytes.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return base64.RawURLEncoding.EncodeToString(b)
}

// session returns the SSO session named by the request's cookie, if it is
// still good: its person exists and is not suspended.
func (p *oidcProvider) session(r *http.Request) (*ssoSession, User, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, User{}, false
	}
	p.mu.Lock()
	s, ok := p.sessions[c.Value]
	var cp ssoSession
	if ok {
		cp = *s
	}
	p.mu.Unlock()
	if !ok {
		return nil, User{}, false
	}
	u, ok := p.e.World().UserByID(cp.userID)
	if !ok || u.IsSuspended {
		p.mu.Lock()
		delete(p.sessions, c.Value)
		p.mu.Unlock()
		return nil, User{}, false
	}
	return &cp, u, true
}

// startSession records that userID is signed in and sets the SSO cookie.
// After a fresh sign-in on the login page it starts a new session; after a
// silent one it keeps the request's session (and its auth_time) and only
// notes the org.
func (p *oidcProvider) startSession(w http.ResponseWriter, r *http.Request, userID, orgCode string, authTime time.Time, fresh bool) *ssoSession {
	var oldID string
	if c, err := r.Cookie(sessionCookie); err == nil {
		oldID = c.Value
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.sessions[oldID]; ok {
		if !fresh && s.userID == userID {
			s.orgCode = orgCode
			cp := *s
			return &cp
		}
		delete(p.sessions, oldID)
	}
	s := &ssoSession{id: randomToken(32), userID: userID, orgCode: orgCode, authTime: authTime}
	p.sessions[s.id] = s
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    s.id,
		Path:     "/",
		HttpOnly: true,
		Secure:   strings.HasPrefix(p.e.Issuer(), "https://"),
		SameSite: http.SameSiteLaxMode,
	})
	cp := *s
	return &cp
}

// endSession forgets the SSO session and clears the cookie.
func (p *oidcProvider) endSession(w http.ResponseWriter, r *http.Request) (sessionID string) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		sessionID = c.Value
		p.mu.Lock()
		delete(p.sessions, c.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   strings.HasPrefix(p.e.Issuer(), "https://"),
		SameSite: http.SameSiteLaxMode,
	})
	return sessionID
}

// sweepLocked drops expired requests, codes, refresh tokens and revocations
// every so often, so a long-running emulator does not grow without bound.
// Callers hold p.mu.
func (p *oidcProvider) sweepLocked(now time.Time) {
	p.issueCount++
	if p.issueCount%256 != 0 {
		return
	}
	for id, req := range p.requests {
		if now.After(req.expires) {
			delete(p.requests, id)
		}
	}
	for c, ac := range p.codes {
		if now.After(ac.expires.Add(p.life.RefreshToken)) || (!ac.used && now.After(ac.expires)) {
			delete(p.codes, c)
		}
	}
	for t, rr := range p.refresh {
		if now.After(rr.expires) {
			delete(p.refresh, t)
		}
	}
	for id, f := range p.families {
		// Revoked families stay until they expire, so replays keep failing.
		if now.After(f.expires) {
			delete(p.families, id)
		}
	}
	for jti, exp := range p.revoked {
		if now.After(exp) {
			delete(p.revoked, jti)
		}
	}
}

// isRevoked says whether an access token's jti was revoked.
func (p *oidcProvider) isRevoked(jti string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.revoked[jti]
	return ok
}
