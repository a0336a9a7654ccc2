package emulator_test

import (
	"slices"
	"testing"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// TestGetUsersByUserIDExpandsOrganizations checks the query the portal
// re-reads a person with: user_id (comma-separated) filters, and
// expand=organizations lists each person's org codes, [] for none, while
// without expand the field is absent.
func TestGetUsersByUserIDExpandsOrganizations(t *testing.T) {
	e := emulatortest.Start(t)
	tok := emulatortest.Token(t, e, emulator.SeedManagementApp)
	w := e.World()
	mia, _ := w.UserByEmail("mia@example.org")
	nora, _ := w.UserByEmail("nora@example.org")

	tests := []struct {
		name  string
		query string
		want  map[string][]string // user id → organizations; nil = field absent
	}{
		{
			name:  "two ids, expanded",
			query: "?user_id=" + nora.ID + "," + mia.ID + "&expand=organizations",
			want: map[string][]string{
				mia.ID:  slices.Sorted(slices.Values([]string{emulator.SeedRiversideOrgCode, emulator.SeedHilltopOrgCode, emulator.SeedHarbourOrgCode})),
				nora.ID: {},
			},
		},
		{name: "not expanded", query: "?user_id=" + mia.ID, want: map[string][]string{mia.ID: nil}},
		{name: "unknown id", query: "?user_id=kp_00000000000000000000000000000000&expand=organizations", want: map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mgmtCall(t.Context(), t, e, tok, "GET", "/api/v1/users"+tt.query, "")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			users, _ := r.json(t)["users"].([]any)
			got := map[string][]string{}
			for _, u := range users {
				u := u.(map[string]any)
				orgs, present := u["organizations"].([]any)
				var codes []string
				if present {
					codes = []string{}
					for _, c := range orgs {
						codes = append(codes, c.(string))
					}
				}
				got[u["id"].(string)] = codes
			}
			if len(got) != len(tt.want) {
				t.Fatalf("users %v, want %v", got, tt.want)
			}
			for id, want := range tt.want {
				codes, ok := got[id]
				if !ok || (want == nil) != (codes == nil) || !slices.Equal(codes, want) {
					t.Errorf("%s: organizations %#v, want %#v", id, codes, want)
				}
			}
		})
	}
}
