package kinde

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/clubhouse/clubhouse/internal/club"
)

// idClaims are the ID token claims the portal reads: the profile and every
// club the person belongs to.
type idClaims struct {
	Email         string     `json:"email"`
	GivenName     string     `json:"given_name"`
	FamilyName    string     `json:"family_name"`
	OrgCodes      []string   `json:"org_codes"`
	Organizations []tokenOrg `json:"organizations"`
}

// tokenOrg is one entry of the ID token's "organizations" claim.
type tokenOrg struct {
	ID   string `json:"id"` // the org_code
	Name string `json:"name"`
}

// accessClaims are the access token claims the portal reads: the club the
// person signed in to, and their roles and permissions there.
type accessClaims struct {
	Azp         string      `json:"azp"`
	OrgCode     string      `json:"org_code"`
	OrgName     string      `json:"org_name"`
	Roles       []tokenRole `json:"roles"`
	Permissions []string    `json:"permissions"`
}

// tokenRole is one entry of the access token's "roles" claim. Kinde sends
// objects {id, key, name}; some older tokens and docs show plain keys,
// which are tolerated.
type tokenRole struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
}

// UnmarshalJSON accepts a role object or a plain role key.
func (r *tokenRole) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var key string
		if err := json.Unmarshal(b, &key); err != nil {
			return fmt.Errorf("kinde: role claim: %w", err)
		}
		*r = tokenRole{Key: key}
		return nil
	}
	type plain tokenRole
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("kinde: role claim: %w", err)
	}
	*r = tokenRole(p)
	return nil
}

// identityFrom builds the signed-in person from verified claims: the profile
// and clubs from the ID token, the current club, roles and permissions from
// the access token.
func identityFrom(sub string, ic idClaims, ac accessClaims) club.Identity {
	id := club.Identity{
		UserID:      sub,
		Email:       strings.ToLower(strings.TrimSpace(ic.Email)),
		GivenName:   ic.GivenName,
		FamilyName:  ic.FamilyName,
		ClubCode:    ac.OrgCode,
		ClubName:    ac.OrgName,
		Roles:       []string{},
		Permissions: []string{},
		Clubs:       []club.Club{},
	}
	for _, r := range ac.Roles {
		if r.Key != "" {
			id.Roles = append(id.Roles, r.Key)
		}
	}
	slices.Sort(id.Roles)
	id.Roles = slices.Compact(id.Roles)
	for _, p := range ac.Permissions {
		if p != "" {
			id.Permissions = append(id.Permissions, p)
		}
	}
	slices.Sort(id.Permissions)
	id.Permissions = slices.Compact(id.Permissions)

	seen := map[string]bool{}
	add := func(code, name string) {
		if code == "" || seen[code] {
			return
		}
		seen[code] = true
		id.Clubs = append(id.Clubs, club.Club{Code: code, Name: name})
	}
	for _, o := range ic.Organizations {
		add(o.ID, o.Name)
	}
	for _, code := range ic.OrgCodes {
		add(code, "")
	}
	if ac.OrgCode != "" && !seen[ac.OrgCode] {
		// Only when Kinde's ID token lags behind the access token (a club
		// joined a moment ago).
		add(ac.OrgCode, ac.OrgName)
	}
	for i, c := range id.Clubs {
		if c.Name == "" && c.Code == ac.OrgCode {
			id.Clubs[i].Name = ac.OrgName
		}
	}
	slices.SortStableFunc(id.Clubs, func(a, b club.Club) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	return id
}
