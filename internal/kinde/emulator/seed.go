package emulator

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// Seed is the starting state of a world. It is a State; the name says how it
// is used.
type Seed = State

//go:embed seed_default.json
var defaultSeedJSON string

// Stable identifiers of the default seed, so docs and tests can name them.
const (
	SeedStaffOrgCode     = "org_a42f984b056" // Clubhouse Staff
	SeedRiversideOrgCode = "org_a158cf7f3dd" // Riverside Rowing Club
	SeedHilltopOrgCode   = "org_0e2d022a42a" // Hilltop Tennis Club
	SeedHarbourOrgCode   = "org_f1930dfcfbc" // Harbour Sailing Club

	SeedPortalApp     = "Clubhouse Portal"
	SeedManagementApp = "Clubhouse Management"
	SeedReporterApp   = "Read-only reporter"

	// SeedAPIAudience is the audience of the portal's own API.
	SeedAPIAudience = "https://clubhouse.local/api"
)

// DefaultSeed returns a fresh copy of the embedded default seed: five roles,
// four permissions, the Clubhouse Staff org and three clubs, sixteen people,
// the portal app, two M2M apps and one API. See README.md for the table.
func DefaultSeed() *Seed {
	var s Seed
	if err := json.Unmarshal([]byte(defaultSeedJSON), &s); err != nil {
		// The file is embedded and tested; failing here is a build defect.
		panic(fmt.Sprintf("emulator: embedded default seed is invalid: %v", err))
	}
	return &s
}

// AppByName returns the application with the given name.
func (s *State) AppByName(name string) (App, bool) {
	for _, a := range s.Apps {
		if a.Name == name {
			return cloneApp(a), true
		}
	}
	return App{}, false
}

// OrgByName returns the org with the given name.
func (s *State) OrgByName(name string) (Org, bool) {
	for _, o := range s.Orgs {
		if o.Name == name {
			return o, true
		}
	}
	return Org{}, false
}

// UserByEmail returns the person with the given email (case-insensitive).
func (s *State) UserByEmail(email string) (User, bool) {
	for _, u := range s.Users {
		if strings.EqualFold(u.Email, email) {
			return cloneUser(u), true
		}
	}
	return User{}, false
}

// RoleByKey returns the role with the given key.
func (s *State) RoleByKey(key string) (Role, bool) {
	for _, r := range s.Roles {
		if r.Key == key {
			return cloneRole(r), true
		}
	}
	return Role{}, false
}
