package emulator

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// apiKeyCache keeps parsed verification keys by PEM text, because parsing an
// RSA private key costs far more than verifying a signature.
type apiKeyCache struct {
	mu   sync.Mutex
	keys map[string]*rsa.PublicKey
}

func (c *apiKeyCache) publicKey(w *World, kid string) (*rsa.PublicKey, bool) {
	for _, sk := range w.SigningKeys() {
		if sk.KID != kid {
			continue
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if pub, ok := c.keys[sk.PrivateKeyPEM]; ok {
			return pub, true
		}
		pub, err := apiParsePublicKey(sk.PrivateKeyPEM)
		if err != nil {
			return nil, false
		}
		if c.keys == nil {
			c.keys = map[string]*rsa.PublicKey{}
		}
		c.keys[sk.PrivateKeyPEM] = pub
		return pub, true
	}
	return nil, false
}

func apiParsePublicKey(pemText string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("emulator: signing key has no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return &k.PublicKey, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("emulator: signing key is not PKCS#1 or PKCS#8")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("emulator: signing key is not RSA")
	}
	return &rk.PublicKey, nil
}

// errUnauthorized is the 401 for a missing, garbled, wrongly signed or
// expired bearer token. The spec documents no 401 for these operations and
// Kinde's docs show no body, so code and message are the emulator's choice.
func errUnauthorized() error {
	return &apiError{status: http.StatusUnauthorized, code: "UNAUTHORIZED", message: "Invalid or missing bearer token."}
}

// verifiedBearer is what a verified bearer token said, cached by token text
// so repeat calls skip the RSA verification and JSON parsing.
type verifiedBearer struct {
	kid       string
	issuer    string
	expiry    time.Time
	notBefore time.Time // zero, or nbf
	audience  []string
	azp       string
	scopes    []string
}

// bearerCacheSize bounds the verified-token cache; it is cleared when full.
const bearerCacheSize = 4096

type bearerCache struct {
	mu      sync.Mutex
	entries map[string]verifiedBearer
}

func (c *bearerCache) get(raw string) (verifiedBearer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.entries[raw]
	return v, ok
}

func (c *bearerCache) put(raw string, v verifiedBearer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= bearerCacheSize {
		c.entries = make(map[string]verifiedBearer)
	}
	c.entries[raw] = v
}

// verifyBearer checks a token's RS256 signature against the world's keys
// and parses its claims, using the cache when it can. Time-dependent checks
// are left to the caller, so a cached token still expires.
func (e *Emulator) verifyBearer(raw string) (verifiedBearer, bool) {
	if v, ok := e.bearers.get(raw); ok {
		// The key must still be in the world (a reset or import may drop it).
		if _, ok := e.apiKeys.publicKey(e.world, v.kid); ok {
			return v, true
		}
		return verifiedBearer{}, false
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return verifiedBearer{}, false
	}
	kid := tok.Headers[0].KeyID
	pub, ok := e.apiKeys.publicKey(e.world, kid)
	if !ok {
		return verifiedBearer{}, false
	}
	var std jwt.Claims
	var extra struct {
		Azp   string   `json:"azp"`
		Scope string   `json:"scope"`
		Scp   []string `json:"scp"`
	}
	if err := tok.Claims(pub, &std, &extra); err != nil || std.Expiry == nil {
		return verifiedBearer{}, false
	}
	v := verifiedBearer{kid: kid, issuer: std.Issuer, expiry: std.Expiry.Time(), audience: std.Audience, azp: extra.Azp, scopes: extra.Scp}
	if std.NotBefore != nil {
		v.notBefore = std.NotBefore.Time()
	}
	if len(v.scopes) == 0 {
		v.scopes = strings.Fields(extra.Scope)
	}
	e.bearers.put(raw, v)
	return v, true
}

// authenticate checks the bearer M2M token (RS256 signature against the
// world's keys, issuer, expiry by the emulator's Clock, Management API
// audience) and then the operation's scope.
func (e *Emulator) authenticate(r *http.Request, op operation) (*apiCall, error) {
	authz := r.Header.Get("Authorization")
	scheme, raw, found := strings.Cut(authz, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, errUnauthorized()
	}
	v, ok := e.verifyBearer(strings.TrimSpace(raw))
	if !ok || v.issuer != e.issuer {
		return nil, errUnauthorized()
	}
	now := e.clock.Now()
	if !now.Before(v.expiry) || (!v.notBefore.IsZero() && now.Before(v.notBefore)) {
		return nil, errUnauthorized()
	}
	audOK := false
	for _, a := range e.ManagementAudiences() {
		if slices.Contains(v.audience, a) {
			audOK = true
			break
		}
	}
	if !audOK {
		return nil, &apiError{status: http.StatusForbidden, code: "INVALID_AUDIENCE", message: "The token's audience is not the Kinde Management API."}
	}
	if !slices.Contains(v.scopes, op.Scope) {
		return nil, &apiError{status: http.StatusForbidden, code: "SCOPE_MISSING", message: "Scope is missing: " + op.Scope}
	}
	return &apiCall{op: op, clientID: v.azp, scopes: v.scopes}, nil
}
