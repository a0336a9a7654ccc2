package kinde

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/clubhouse/clubhouse/internal/club"
)

// fakeOP is a small OpenID Provider for the relying-party logic: it signs
// whatever claims the test asks for, so every verification failure can be
// produced on purpose. The real flow runs against the emulator in
// auth_emulator_test.go.
type fakeOP struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	keys        []fakeKey // keys[0] signs; all are published
	jwksFetches int
	// tokenStatus, when non-zero, is the token endpoint's status with
	// tokenError as the OAuth error code.
	tokenStatus int
	tokenError  string
	// idClaims and accessClaims are the next tokens' claims; edit changes
	// the signed tokens before they are sent (e.g. to tamper with them).
	idClaims, accessClaims map[string]any
	noIDToken              bool
	edit                   func(idToken, accessToken string) (string, string)
	lastForm               url.Values
	refreshes              int
}

type fakeKey struct {
	kid string
	key *rsa.PrivateKey
}

const (
	opClientID = "portal-client"
	opSecret   = "portal-secret-never-logged"
	opAudience = "https://clubhouse.local/api"
)

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	op := &fakeOP{t: t}
	op.rotate()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := op.srv.URL
		writeJSON(w, 200, fmt.Sprintf(`{"issuer":%q,"authorization_endpoint":"%s/oauth2/auth","token_endpoint":"%s/oauth2/token",
		"jwks_uri":"%s/.well-known/jwks","end_session_endpoint":"%s/logout","id_token_signing_alg_values_supported":["RS256"]}`,
			iss, iss, iss, iss, iss))
	})
	mux.HandleFunc("GET /.well-known/jwks", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		defer op.mu.Unlock()
		op.jwksFetches++
		var set jose.JSONWebKeySet
		for _, k := range op.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.kid, Algorithm: "RS256", Use: "sig"})
		}
		b, _ := json.Marshal(set)
		writeJSON(w, 200, string(b))
	})
	mux.HandleFunc("POST /oauth2/token", op.token)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	now := time.Now()
	op.idClaims = map[string]any{
		"iss": op.srv.URL, "sub": "kp_1", "aud": []string{opClientID}, "exp": now.Add(time.Hour).Unix(),
		"iat": now.Unix(), "email": "olivia@example.org", "given_name": "Olivia", "family_name": "Hart",
		"org_codes": []string{"org_riverside"}, "organizations": []map[string]string{{"id": "org_riverside", "name": "Riverside Rowing Club"}},
	}
	op.accessClaims = map[string]any{
		"iss": op.srv.URL, "sub": "kp_1", "aud": []string{opAudience}, "azp": opClientID,
		"exp": now.Add(24 * time.Hour).Unix(), "iat": now.Unix(), "org_code": "org_riverside", "org_name": "Riverside Rowing Club",
		"roles": []map[string]string{{"id": "r1", "key": "owner", "name": "Owner"}}, "permissions": []string{"members:read"},
		"scp": []string{"openid", "profile", "email", "offline"},
	}
	return op
}

// rotate adds a new signing key in front; the old ones stay published.
func (op *fakeOP) rotate() {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.rotateLocked()
}

func (op *fakeOP) rotateLocked() {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		op.t.Fatal(err)
	}
	op.keys = append([]fakeKey{{kid: fmt.Sprintf("key-%d", len(op.keys)+1), key: key}}, op.keys...)
}

func (op *fakeOP) form() url.Values {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.lastForm
}

func (op *fakeOP) sign(claims map[string]any) string {
	op.t.Helper()
	k := op.keys[0]
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
	if err != nil {
		op.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		op.t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		op.t.Fatal(err)
	}
	return s
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, `{"error":"invalid_request"}`)
		return
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	op.lastForm = r.PostForm
	if op.tokenStatus != 0 {
		writeJSON(w, op.tokenStatus, fmt.Sprintf(`{"error":%q,"error_description":"refused"}`, op.tokenError))
		return
	}
	if r.PostForm.Get("client_id") != opClientID || r.PostForm.Get("client_secret") != opSecret {
		writeJSON(w, 401, `{"error":"invalid_client"}`)
		return
	}
	if r.PostForm.Get("grant_type") == "refresh_token" {
		op.refreshes++
	}
	id, access := op.sign(op.idClaims), op.sign(op.accessClaims)
	if op.edit != nil {
		id, access = op.edit(id, access)
	}
	resp := map[string]any{"access_token": access, "expires_in": 86399, "refresh_token": fmt.Sprintf("rt-%d", op.refreshes+1),
		"scope": "openid profile email offline", "token_type": "bearer"}
	if !op.noIDToken {
		resp["id_token"] = id
	}
	b, _ := json.Marshal(resp)
	writeJSON(w, 200, string(b))
}

func (op *fakeOP) set(f func(op *fakeOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

func newTestAuth(t *testing.T, op *fakeOP, mod func(*AuthConfig)) *Auth {
	t.Helper()
	cfg := AuthConfig{Issuer: op.srv.URL, ClientID: opClientID, ClientSecret: opSecret,
		RedirectURL: "http://localhost:8080/auth/callback", Audience: opAudience}
	if mod != nil {
		mod(&cfg)
	}
	a, err := NewAuth(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewAuth: %v", err)
	}
	return a
}

// tamper flips one character in the JWT's payload, keeping its signature.
func tamper(jwt string) string {
	parts := strings.Split(jwt, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), `"owner"`, `"admin"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func TestExchangeVerifies(t *testing.T) {
	tests := []struct {
		name  string
		setup func(op *fakeOP)
		nonce string // the nonce Exchange is given; the token carries "n-1"
		mod   func(*AuthConfig)
		want  bool // success
	}{
		{name: "valid tokens", nonce: "n-1", want: true},
		{name: "nonce mismatch", nonce: "n-2"},
		{name: "empty nonce", nonce: ""},
		{name: "tampered access token", nonce: "n-1", setup: func(op *fakeOP) {
			op.edit = func(id, at string) (string, string) { return id, tamper(at) }
		}},
		{name: "tampered id token", nonce: "n-1", setup: func(op *fakeOP) {
			op.idClaims["given_name"] = "owner"
			op.edit = func(id, at string) (string, string) {
				return strings.Replace(id, id[strings.Index(id, ".")+1:strings.LastIndex(id, ".")],
					base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"kp_2"}`)), 1), at
			}
		}},
		{name: "wrong audience in access token", nonce: "n-1", setup: func(op *fakeOP) {
			op.accessClaims["aud"] = []string{"https://other.example/api"}
		}},
		{name: "no audience configured accepts aud []", nonce: "n-1", want: true,
			mod:   func(c *AuthConfig) { c.Audience = "" },
			setup: func(op *fakeOP) { op.accessClaims["aud"] = []string{} }},
		{name: "id token for another client", nonce: "n-1", setup: func(op *fakeOP) {
			op.idClaims["aud"] = []string{"someone-else"}
		}},
		{name: "access token from another issuer", nonce: "n-1", setup: func(op *fakeOP) {
			op.accessClaims["iss"] = "https://evil.example"
		}},
		{name: "expired access token", nonce: "n-1", setup: func(op *fakeOP) {
			op.accessClaims["exp"] = time.Now().Add(-time.Minute).Unix()
		}},
		{name: "access token for another person", nonce: "n-1", setup: func(op *fakeOP) {
			op.accessClaims["sub"] = "kp_2"
		}},
		{name: "access token for another application", nonce: "n-1", setup: func(op *fakeOP) {
			op.accessClaims["azp"] = "someone-else"
		}},
		{name: "no id token", nonce: "n-1", setup: func(op *fakeOP) { op.noIDToken = true }},
		{name: "unsigned access token", nonce: "n-1", setup: func(op *fakeOP) {
			op.edit = func(id, at string) (string, string) {
				hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
				return id, hdr + "." + strings.Split(at, ".")[1] + "."
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := newFakeOP(t)
			op.set(func(op *fakeOP) {
				op.idClaims["nonce"] = "n-1"
				if tt.setup != nil {
					tt.setup(op)
				}
			})
			a := newTestAuth(t, op, tt.mod)
			id, toks, err := a.Exchange(t.Context(), "code-1", "verifier-1", tt.nonce)
			if !tt.want {
				if err == nil {
					t.Fatal("Exchange: got no error")
				}
				t.Logf("refused: %v", err)
				if got := club.ErrorCode(err); got != club.EINTERNAL {
					t.Errorf("code: got %q, want %q (%v)", got, club.EINTERNAL, err)
				}
				if msg := club.ErrorMessage(err); strings.Contains(msg, "kp_") || strings.Contains(msg, "eyJ") {
					t.Errorf("message is not safe: %q", msg)
				}
				if strings.Contains(err.Error(), "eyJ") {
					t.Errorf("error carries a token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if id.UserID != "kp_1" || id.ClubCode != "org_riverside" || id.Email != "olivia@example.org" {
				t.Errorf("identity: %+v", id)
			}
			if toks.RefreshToken == "" || toks.IDToken == "" || toks.AccessToken == "" || toks.Expiry.IsZero() {
				t.Errorf("tokens incomplete: %+v", toks)
			}
			form := op.form()
			if form.Get("code_verifier") != "verifier-1" || form.Get("grant_type") != "authorization_code" || form.Get("client_secret") != opSecret {
				t.Errorf("token request: %v", form)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(op *fakeOP)
		wantErr  error
		wantRole string
	}{
		{name: "new roles show", setup: func(op *fakeOP) {
			op.accessClaims["roles"] = []string{"coach"}
		}, wantRole: "coach"},
		{name: "invalid_grant ends the session", setup: func(op *fakeOP) {
			op.tokenStatus, op.tokenError = 400, "invalid_grant"
		}, wantErr: club.ErrSessionEnded},
		{name: "5xx is unavailable", setup: func(op *fakeOP) {
			op.tokenStatus, op.tokenError = 503, "server_error"
		}, wantErr: club.ErrUnavailable},
		{name: "no id token reuses the verified one", setup: func(op *fakeOP) {
			op.noIDToken = true
		}, wantRole: "owner"},
		{name: "new tokens that fail verification end the session", setup: func(op *fakeOP) {
			op.edit = func(id, at string) (string, string) { return id, tamper(at) }
		}, wantErr: club.ErrSessionEnded},
		{name: "signed with a new key", setup: func(op *fakeOP) { op.rotateLocked() }, wantRole: "owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := newFakeOP(t)
			op.set(func(op *fakeOP) { op.idClaims["nonce"] = "n" })
			a := newTestAuth(t, op, nil)
			_, toks, err := a.Exchange(t.Context(), "code", "v", "n")
			if err != nil {
				t.Fatal(err)
			}
			op.set(tt.setup)
			id, newToks, err := a.Refresh(t.Context(), toks)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if got := strings.Join(id.Roles, ","); got != tt.wantRole {
				t.Errorf("roles: got %q, want %q", got, tt.wantRole)
			}
			if newToks.RefreshToken == toks.RefreshToken {
				t.Errorf("refresh token not rotated: %q", newToks.RefreshToken)
			}
			if got := op.form().Get("refresh_token"); got != toks.RefreshToken {
				t.Errorf("refresh sent %q, want %q", got, toks.RefreshToken)
			}
		})
	}
}

func TestRefreshFetchesKeysForUnknownKid(t *testing.T) {
	op := newFakeOP(t)
	op.set(func(op *fakeOP) { op.idClaims["nonce"] = "n" })
	a := newTestAuth(t, op, nil)
	_, toks, err := a.Exchange(t.Context(), "code", "v", "n")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Refresh(t.Context(), toks); err != nil {
		t.Fatal(err)
	}
	op.rotate()
	if _, _, err := a.Refresh(t.Context(), toks); err != nil {
		t.Fatalf("refresh after key rotation: %v", err)
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	if got, want := op.jwksFetches, 2; got != want {
		t.Errorf("JWKS fetches: got %d, want %d (once at first use, once for the new kid)", got, want)
	}
}

func TestAuthCodeURL(t *testing.T) {
	op := newFakeOP(t)
	a := newTestAuth(t, op, nil)
	tests := []struct {
		name string
		req  club.SignInRequest
		want map[string]string // "" = must be absent
	}{
		{name: "plain", req: club.SignInRequest{}, want: map[string]string{"org_code": "", "prompt": "", "is_create_org": ""}},
		{name: "into a club silently", req: club.SignInRequest{ClubCode: "org_1", Prompt: club.PromptNone},
			want: map[string]string{"org_code": "org_1", "prompt": "none"}},
		{name: "invitation", req: club.SignInRequest{ClubCode: "org_1", LoginHint: "ana@example.org"},
			want: map[string]string{"login_hint": "ana@example.org"}},
		{name: "create a club", req: club.SignInRequest{Prompt: club.PromptCreate, CreateClub: true, ClubName: "Lake Club"},
			want: map[string]string{"is_create_org": "true", "org_name": "Lake Club", "prompt": "create"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(a.AuthCodeURL("state-123456", "nonce-1", "verifier-verifier-verifier-verifier-verifier-1", tt.req))
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			base := map[string]string{
				"response_type": "code", "client_id": opClientID, "state": "state-123456", "nonce": "nonce-1",
				"scope": "openid profile email offline", "code_challenge_method": "S256",
				"redirect_uri": "http://localhost:8080/auth/callback", "audience": opAudience,
			}
			maps.Copy(base, tt.want)
			for k, want := range base {
				if got := q.Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if q.Get("code_challenge") == "" || strings.Contains(u.String(), "verifier-verifier") {
				t.Errorf("PKCE: want an S256 challenge and no verifier in %s", u)
			}
			if u.Path != "/oauth2/auth" {
				t.Errorf("path: %s", u.Path)
			}
		})
	}
}

func TestLogoutURL(t *testing.T) {
	op := newFakeOP(t)
	a := newTestAuth(t, op, nil)
	got := a.LogoutURL("http://localhost:8080/")
	want := op.srv.URL + "/logout?redirect=http%3A%2F%2Flocalhost%3A8080%2F"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestNewAuthErrors(t *testing.T) {
	if _, err := NewAuth(t.Context(), AuthConfig{}); err == nil || !strings.Contains(err.Error(), "missing issuer, client id, client secret, redirect url") {
		t.Errorf("empty config: %v", err)
	}
	op := newFakeOP(t)
	_, err := NewAuth(t.Context(), AuthConfig{Issuer: op.srv.URL + "/other", ClientID: "a", ClientSecret: "b", RedirectURL: "c"})
	if err == nil {
		t.Error("wrong issuer: got no error")
	}
}
