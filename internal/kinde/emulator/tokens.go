package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TokenLifetimes says how long the emulator's codes and tokens live. The
// defaults follow Kinde's documented defaults where there are any.
type TokenLifetimes struct {
	// AccessToken is the lifetime of a person's access token (Kinde: 24 h).
	AccessToken time.Duration
	// IDToken is the lifetime of an ID token (Kinde: 1 h).
	IDToken time.Duration
	// RefreshToken is the lifetime of a refresh token (Kinde: 15 days).
	RefreshToken time.Duration
	// M2MAccessToken is the lifetime of a client-credentials token (Kinde's
	// M2M docs show expires_in 3600).
	M2MAccessToken time.Duration
	// AuthorizationCode is how long a code may wait before it is redeemed.
	// Kinde does not document it; the emulator uses 60 s.
	AuthorizationCode time.Duration
	// RefreshOverlap is how long a rotated refresh token stays usable after
	// its successor was issued. Kinde documents "a short overlap window"; the
	// emulator uses 30 s.
	RefreshOverlap time.Duration
	// LoginRequest is how long a pending sign-in (the login page and the org
	// chooser) stays valid. The emulator uses 30 minutes.
	LoginRequest time.Duration
}

// DefaultTokenLifetimes returns the lifetimes the emulator starts with.
func DefaultTokenLifetimes() TokenLifetimes {
	return TokenLifetimes{
		AccessToken:       24 * time.Hour,
		IDToken:           time.Hour,
		RefreshToken:      15 * 24 * time.Hour,
		M2MAccessToken:    time.Hour,
		AuthorizationCode: 60 * time.Second,
		RefreshOverlap:    30 * time.Second,
		LoginRequest:      30 * time.Minute,
	}
}

// withDefaults fills every zero field from DefaultTokenLifetimes.
func (l TokenLifetimes) withDefaults() TokenLifetimes {
	d := DefaultTokenLifetimes()
	fill := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	fill(&l.AccessToken, d.AccessToken)
	fill(&l.IDToken, d.IDToken)
	fill(&l.RefreshToken, d.RefreshToken)
	fill(&l.M2MAccessToken, d.M2MAccessToken)
	fill(&l.AuthorizationCode, d.AuthorizationCode)
	fill(&l.RefreshOverlap, d.RefreshOverlap)
	fill(&l.LoginRequest, d.LoginRequest)
	return l
}

// SetTokenLifetimes changes the lifetimes of codes and tokens issued from now
// on. Zero fields keep their defaults.
func (e *Emulator) SetTokenLifetimes(l TokenLifetimes) {
	e.oidc.setLifetimes(l.withDefaults())
}

// roleClaim is one entry of the access token's roles claim.
type roleClaim struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
}

// orgClaim is one entry of the ID token's organizations claim.
type orgClaim struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// userAccessClaims is a person's access token, in Kinde's shape with the
// "Token customization" claims org_name, roles and email switched on.
type userAccessClaims struct {
	Aud          []string       `json:"aud"`
	Azp          string         `json:"azp"`
	Email        string         `json:"email,omitempty"`
	Exp          int64          `json:"exp"`
	FeatureFlags map[string]any `json:"feature_flags"`
	Iat          int64          `json:"iat"`
	Iss          string         `json:"iss"`
	Jti          string         `json:"jti"`
	OrgCode      string         `json:"org_code,omitempty"`
	OrgName      string         `json:"org_name,omitempty"`
	Permissions  []string       `json:"permissions"`
	Roles        []roleClaim    `json:"roles"`
	Scp          []string       `json:"scp"`
	Sub          string         `json:"sub"`
}

// idClaims is an ID token.
type idClaims struct {
	AtHash        string     `json:"at_hash,omitempty"`
	Aud           []string   `json:"aud"`
	AuthTime      int64      `json:"auth_time"`
	Azp           string     `json:"azp"`
	Email         string     `json:"email,omitempty"`
	EmailVerified bool       `json:"email_verified"`
	Exp           int64      `json:"exp"`
	FamilyName    string     `json:"family_name"`
	GivenName     string     `json:"given_name"`
	Iat           int64      `json:"iat"`
	Iss           string     `json:"iss"`
	Jti           string     `json:"jti"`
	Name          string     `json:"name"`
	Nonce         string     `json:"nonce,omitempty"`
	OrgCodes      []string   `json:"org_codes"`
	Organizations []orgClaim `json:"organizations"`
	Picture       string     `json:"picture,omitempty"`
	ProvidedID    string     `json:"provided_id,omitempty"`
	Rat           int64      `json:"rat"`
	Sub           string     `json:"sub"`
	UpdatedAt     int64      `json:"updated_at"`
}

// m2mClaims is a client-credentials token. It has no sub, as in Kinde.
type m2mClaims struct {
	Aud   []string `json:"aud"`
	Azp   string   `json:"azp"`
	Exp   int64    `json:"exp"`
	Gty   []string `json:"gty"`
	Iat   int64    `json:"iat"`
	Iss   string   `json:"iss"`
	Jti   string   `json:"jti"`
	Scope string   `json:"scope"`
	Scp   []string `json:"scp"`
	V     string   `json:"v"`
}

// grantContext is what a person's tokens are minted from: who, for which
// client, in which org, with which scopes and audiences.
type grantContext struct {
	userID   string
	clientID string
	orgCode  string
	scopes   []string
	audience []string
	nonce    string
	authTime time.Time
	reqTime  time.Time
}

// errGrantInvalid says the person or membership behind a grant is gone, so
// no token can be minted for it.
var errGrantInvalid = errors.New("emulator: grant no longer valid")

// userClaims computes the claims of a person's access token from the world
// as it is now. It fails with errGrantInvalid when the person no longer
// exists, is suspended, or has left the grant's org.
func (p *oidcProvider) userClaims(g grantContext, now time.Time, lifetime time.Duration) (userAccessClaims, User, error) {
	w := p.e.World()
	u, ok := w.UserByID(g.userID)
	if !ok {
		return userAccessClaims{}, User{}, fmt.Errorf("%w: user %s not found", errGrantInvalid, g.userID)
	}
	if u.IsSuspended {
		return userAccessClaims{}, User{}, fmt.Errorf("%w: user %s is suspended", errGrantInvalid, g.userID)
	}
	c := userAccessClaims{
		Aud:          nonNil(g.audience),
		Azp:          g.clientID,
		Email:        u.Email,
		Exp:          now.Add(lifetime).Unix(),
		FeatureFlags: map[string]any{},
		Iat:          now.Unix(),
		Iss:          p.e.Issuer(),
		Jti:          newUUID(),
		Permissions:  []string{},
		Roles:        []roleClaim{},
		Scp:          nonNil(g.scopes),
		Sub:          u.ID,
	}
	if g.orgCode != "" {
		org, ok := w.OrgByCode(g.orgCode)
		if !ok || !w.IsMember(g.orgCode, u.ID) {
			return userAccessClaims{}, User{}, fmt.Errorf("%w: user %s is not a member of %s", errGrantInvalid, u.ID, g.orgCode)
		}
		c.OrgCode, c.OrgName = org.Code, org.Name
		c.Permissions = nonNil(w.MemberPermissionKeys(org.Code, u.ID))
		for _, r := range w.MemberRoles(org.Code, u.ID) {
			c.Roles = append(c.Roles, roleClaim{ID: r.ID, Key: r.Key, Name: r.Name})
		}
	}
	return c, u, nil
}

// claimsFingerprint identifies the parts of an access token that come from the
// world, so a refresh can tell whether the current access token is still
// accurate and may be handed out again.
func claimsFingerprint(c userAccessClaims, claimsVersion int) string {
	c.Exp, c.Iat, c.Jti = 0, 0, ""
	b, _ := json.Marshal(struct {
		C userAccessClaims
		V int
	}{c, claimsVersion})
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// idTokenClaims computes an ID token for the person.
func (p *oidcProvider) idTokenClaims(g grantContext, u User, accessToken string, now time.Time) idClaims {
	w := p.e.World()
	c := idClaims{
		AtHash:        atHash(accessToken),
		Aud:           []string{g.clientID},
		AuthTime:      g.authTime.Unix(),
		Azp:           g.clientID,
		Email:         u.Email,
		EmailVerified: u.Email != "",
		Exp:           now.Add(p.lifetimes().IDToken).Unix(),
		FamilyName:    u.LastName,
		GivenName:     u.FirstName,
		Iat:           now.Unix(),
		Iss:           p.e.Issuer(),
		Jti:           newUUID(),
		Name:          u.FullName(),
		Nonce:         g.nonce,
		OrgCodes:      []string{},
		Organizations: []orgClaim{},
		Picture:       u.Picture,
		ProvidedID:    u.ProvidedID,
		Rat:           g.reqTime.Unix(),
		Sub:           u.ID,
		UpdatedAt:     u.CreatedOn.Unix(),
	}
	for _, o := range w.OrgsOfUser(u.ID) {
		c.OrgCodes = append(c.OrgCodes, o.Code)
		c.Organizations = append(c.Organizations, orgClaim{ID: o.Code, Name: o.Name})
	}
	return c
}

// m2mTokenClaims computes a client-credentials token.
func (p *oidcProvider) m2mTokenClaims(clientID string, audience, scopes []string, now time.Time) m2mClaims {
	return m2mClaims{
		Aud:   nonNil(audience),
		Azp:   clientID,
		Exp:   now.Add(p.lifetimes().M2MAccessToken).Unix(),
		Gty:   []string{"client_credentials"},
		Iat:   now.Unix(),
		Iss:   p.e.Issuer(),
		Jti:   newUUID(),
		Scope: strings.Join(scopes, " "),
		Scp:   nonNil(scopes),
		V:     "2",
	}
}

// sign serializes claims as a compact RS256 JWT with the current key's kid.
func (p *oidcProvider) sign(claims any) (string, error) {
	return signJWT(p.keys, claims)
}

func signJWT(keys *keyring, claims any) (string, error) {
	key, err := keys.current()
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key.key, KeyID: key.kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return "", fmt.Errorf("emulator: signer: %w", err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("emulator: sign token: %w", err)
	}
	return tok, nil
}

// verifiedToken is an access token the emulator issued and still honours.
type verifiedToken struct {
	claims map[string]any
	sub    string
	azp    string
	jti    string
	aud    []string
	iat    int64
	exp    int64
	scope  string
}

// errTokenInvalid covers every reason an access token is not honoured.
var errTokenInvalid = errors.New("emulator: invalid token")

// verifyAccessToken checks an access token's signature against the world's
// keys, its issuer and expiry against the emulator's clock, and that it was
// not revoked.
func (p *oidcProvider) verifyAccessToken(raw string) (verifiedToken, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return verifiedToken{}, fmt.Errorf("%w: %w", errTokenInvalid, err)
	}
	if len(tok.Headers) != 1 {
		return verifiedToken{}, fmt.Errorf("%w: want one signature", errTokenInvalid)
	}
	pub, err := p.keys.publicKey(tok.Headers[0].KeyID)
	if err != nil {
		return verifiedToken{}, fmt.Errorf("%w: %w", errTokenInvalid, err)
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(pub, &std, &all); err != nil {
		return verifiedToken{}, fmt.Errorf("%w: %w", errTokenInvalid, err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: p.e.Issuer(), Time: p.now()}, 0); err != nil {
		return verifiedToken{}, fmt.Errorf("%w: %w", errTokenInvalid, err)
	}
	if std.Expiry == nil || std.IssuedAt == nil {
		return verifiedToken{}, fmt.Errorf("%w: missing exp or iat", errTokenInvalid)
	}
	if p.isRevoked(std.ID) {
		return verifiedToken{}, fmt.Errorf("%w: revoked", errTokenInvalid)
	}
	v := verifiedToken{
		claims: all,
		sub:    std.Subject,
		jti:    std.ID,
		aud:    nonNil([]string(std.Audience)),
		iat:    std.IssuedAt.Time().Unix(),
		exp:    std.Expiry.Time().Unix(),
	}
	v.azp, _ = all["azp"].(string)
	if s, ok := all["scope"].(string); ok {
		v.scope = s
	} else if scp, ok := all["scp"].([]any); ok {
		parts := make([]string, 0, len(scp))
		for _, s := range scp {
			if str, ok := s.(string); ok {
				parts = append(parts, str)
			}
		}
		v.scope = strings.Join(parts, " ")
	}
	return v, nil
}

// atHash is the OpenID Connect at_hash of an RS256-signed ID token: the left
// half of the SHA-256 of the access token, base64url-encoded.
func atHash(accessToken string) string {
	if accessToken == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// nonNil returns s, or an empty slice when s is nil, so that JSON shows [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}
