package emulator_test

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestClaimsGoldenShapes pins the exact claim sets of the three token kinds,
// so a change to Kinde's shape is a deliberate one.
func TestClaimsGoldenShapes(t *testing.T) {
	h := startEmulator(t)
	p := h.provider(t)
	cfg := h.oauthConfig(p)
	user := h.signIn(t, cfg, "olivia@example.org")
	noOrg := h.signIn(t, cfg, "nora@example.org")

	_, m2mBody, _ := postForm(t, h.issuer()+"/oauth2/token", url.Values{
		"grant_type": {"client_credentials"}, "audience": {h.issuer() + "/api"},
	}, h.m2m.ClientID, h.m2m.ClientSecret)
	m2m, _ := m2mBody["access_token"].(string)

	tests := []struct {
		name string
		jwt  string
		want []string
	}{
		{"user access token", user.AccessToken, []string{
			"aud", "azp", "email", "exp", "feature_flags", "iat", "iss", "jti", "org_code", "org_name",
			"permissions", "roles", "scp", "sub",
		}},
		{"user access token without an org", noOrg.AccessToken, []string{
			"aud", "azp", "email", "exp", "feature_flags", "iat", "iss", "jti", "permissions", "roles", "scp", "sub",
		}},
		{"ID token", user.Extra("id_token").(string), []string{
			"at_hash", "aud", "auth_time", "azp", "email", "email_verified", "exp", "family_name", "given_name",
			"iat", "iss", "jti", "name", "nonce", "org_codes", "organizations", "rat", "sub", "updated_at",
		}},
		{"M2M token", m2m, []string{"aud", "azp", "exp", "gty", "iat", "iss", "jti", "scope", "scp", "v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Sorted(maps.Keys(claimsOf(t, tt.jwt)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("claims = %v\nwant     %v", got, tt.want)
			}
			hdr := headerOf(t, tt.jwt)
			if hdr["alg"] != "RS256" || hdr["kid"] == nil || hdr["kid"] == "" {
				t.Errorf("header = %v, want RS256 with a kid", hdr)
			}
		})
	}

	t.Run("claim values", func(t *testing.T) {
		olivia := h.userByEmail(t, "olivia@example.org")
		riverside := h.orgsOf(t, "olivia@example.org")[0]
		ac := claimsOf(t, user.AccessToken)
		id := claimsOf(t, user.Extra("id_token").(string))
		mc := claimsOf(t, m2m)
		checks := []struct {
			name      string
			got, want any
		}{
			{"access aud is [] with no audience", ac["aud"], []any{}},
			{"access azp", ac["azp"], h.portal.ClientID},
			{"access sub", ac["sub"], olivia.ID},
			{"access iss", ac["iss"], h.issuer()},
			{"access scp", ac["scp"], []any{"openid", "profile", "email", "offline"}},
			{"access org_code", ac["org_code"], riverside.Code},
			{"access org_name", ac["org_name"], riverside.Name},
			{"access feature_flags", ac["feature_flags"], map[string]any{}},
			{"access lifetime", ac["exp"].(float64) - ac["iat"].(float64), float64(86400)},
			{"id aud", id["aud"], []any{h.portal.ClientID}},
			{"id lifetime", id["exp"].(float64) - id["iat"].(float64), float64(3600)},
			{"id name", id["name"], "Olivia Hart"},
			{"id org_codes", id["org_codes"], []any{riverside.Code}},
			{"id organizations", id["organizations"], []any{map[string]any{"id": riverside.Code, "name": riverside.Name}}},
			{"m2m aud", mc["aud"], []any{h.issuer() + "/api"}},
			{"m2m gty", mc["gty"], []any{"client_credentials"}},
			{"m2m v", mc["v"], "2"},
			{"m2m azp", mc["azp"], h.m2m.ClientID},
			{"m2m scope", mc["scope"], strings.Join(h.m2m.Scopes, " ")},
			{"m2m lifetime", mc["exp"].(float64) - mc["iat"].(float64), float64(3600)},
		}
		for _, c := range checks {
			if !equalJSON(c.got, c.want) {
				t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
			}
		}
		if kp := ac["sub"].(string); !strings.HasPrefix(kp, "kp_") || len(kp) != 35 {
			t.Errorf("sub %q is not kp_ + 32 hex", kp)
		}
	})

	t.Run("requested audience", func(t *testing.T) {
		tok := h.signIn(t, cfg, "olivia@example.org", oauth2.SetAuthURLParam("audience", "https://clubhouse.local/api"))
		if got := claimsOf(t, tok.AccessToken)["aud"]; !equalJSON(got, []any{"https://clubhouse.local/api"}) {
			t.Errorf("aud = %v", got)
		}
	})
	t.Run("offline_access gives no refresh token", func(t *testing.T) {
		tok := h.signIn(t, h.oauthConfig(p, "openid", "profile", "email", "offline_access"), "olivia@example.org")
		if tok.RefreshToken != "" {
			t.Error("Kinde gives no refresh token for offline_access")
		}
	})
}

func equalJSON(a, b any) bool {
	switch av := a.(type) {
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !equalJSON(av[i], bv[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k := range av {
			if !equalJSON(av[k], bv[k]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}
