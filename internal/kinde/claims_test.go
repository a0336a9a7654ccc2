package kinde

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

func TestIdentityFromClaims(t *testing.T) {
	tests := []struct {
		name   string
		id     string // ID token claims
		access string // access token claims
		want   club.Identity
	}{
		{
			name: "role objects, organizations with names",
			id: `{"email":"Olivia@Example.org","given_name":"Olivia","family_name":"Hart",
			      "org_codes":["org_b","org_a"],
			      "organizations":[{"id":"org_b","name":"Riverside Rowing Club"},{"id":"org_a","name":"Hilltop Tennis Club"}]}`,
			access: `{"azp":"c","org_code":"org_b","org_name":"Riverside Rowing Club",
			          "roles":[{"id":"1","key":"owner","name":"Owner"},{"id":"2","key":"admin","name":"Admin"}],
			          "permissions":["members:write","members:read","club:manage"]}`,
			want: club.Identity{
				UserID: "kp_1", Email: "olivia@example.org", GivenName: "Olivia", FamilyName: "Hart",
				ClubCode: "org_b", ClubName: "Riverside Rowing Club",
				Roles:       []string{"admin", "owner"},
				Permissions: []string{"club:manage", "members:read", "members:write"},
				Clubs:       []club.Club{{Code: "org_a", Name: "Hilltop Tennis Club"}, {Code: "org_b", Name: "Riverside Rowing Club"}},
			},
		},
		{
			name:   "plain role keys, org_codes only",
			id:     `{"email":"mia@example.org","org_codes":["org_x","org_y"]}`,
			access: `{"org_code":"org_y","org_name":"Y Club","roles":["member","coach"],"permissions":null}`,
			want: club.Identity{
				UserID: "kp_1", Email: "mia@example.org", ClubCode: "org_y", ClubName: "Y Club",
				Roles: []string{"coach", "member"}, Permissions: []string{},
				Clubs: []club.Club{{Code: "org_x"}, {Code: "org_y", Name: "Y Club"}},
			},
		},
		{
			name:   "no club",
			id:     `{"email":"nora@example.org","given_name":"Nora"}`,
			access: `{}`,
			want: club.Identity{UserID: "kp_1", Email: "nora@example.org", GivenName: "Nora",
				Roles: []string{}, Permissions: []string{}, Clubs: []club.Club{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ic idClaims
			var ac accessClaims
			if err := json.Unmarshal([]byte(tt.id), &ic); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.access), &ac); err != nil {
				t.Fatal(err)
			}
			if got := identityFrom("kp_1", ic, ac); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestTokenRoleRejectsGarbage(t *testing.T) {
	var ac accessClaims
	if err := json.Unmarshal([]byte(`{"roles":[42]}`), &ac); err == nil {
		t.Error("a number as a role: got no error")
	}
}
