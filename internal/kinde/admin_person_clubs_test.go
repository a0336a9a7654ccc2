package kinde

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

func TestPersonClubsAgainstEmulator(t *testing.T) {
	e := emulatortest.Start(t)
	a, _ := newEmulatorAdmin(t, e, nil)
	w := e.World()
	person := func(email string) emulator.User {
		t.Helper()
		u, ok := w.UserByEmail(email)
		if !ok {
			t.Fatalf("no %s in the seed", email)
		}
		return u
	}
	carla, nora := person("carla@example.org"), person("nora@example.org")

	tests := []struct {
		name      string
		userID    string
		before    func(t *testing.T)
		wantEmail string
		wantClubs []string
		wantErr   error
		wantCalls int
	}{
		{
			name:      "in two clubs",
			userID:    carla.ID,
			wantEmail: "carla@example.org",
			wantClubs: slices.Sorted(slices.Values([]string{emulator.SeedRiversideOrgCode, emulator.SeedHilltopOrgCode})),
			wantCalls: 1,
		},
		{
			name:      "in no club",
			userID:    nora.ID,
			wantEmail: "nora@example.org",
			wantClubs: []string{},
			wantCalls: 1,
		},
		{
			name:   "after leaving one",
			userID: carla.ID,
			before: func(t *testing.T) {
				if err := w.RemoveMember(emulator.SeedRiversideOrgCode, carla.ID, emulator.SourceAdmin); err != nil {
					t.Fatal(err)
				}
			},
			wantEmail: "carla@example.org",
			wantClubs: []string{emulator.SeedHilltopOrgCode},
			wantCalls: 1,
		},
		{
			name:   "deleted in Kinde",
			userID: carla.ID,
			before: func(t *testing.T) {
				if err := w.DeleteUser(carla.ID, emulator.SourceAdmin); err != nil {
					t.Fatal(err)
				}
			},
			wantErr:   club.ErrNotFound,
			wantCalls: 1,
		},
		{name: "empty id", userID: " ", wantErr: club.ErrNotFound},
		{name: "a list of ids", userID: carla.ID + "," + nora.ID, wantErr: club.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before(t)
			}
			e.ResetRequests()
			p, clubs, err := a.PersonClubs(t.Context(), tt.userID)
			if got := e.RequestCount("getUsers"); got != tt.wantCalls {
				t.Errorf("getUsers calls: got %d, want %d", got, tt.wantCalls)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p, (club.Person{ID: tt.userID, Email: tt.wantEmail, FirstName: person(tt.wantEmail).FirstName, LastName: person(tt.wantEmail).LastName}); got != want {
				t.Errorf("person: got %+v, want %+v", got, want)
			}
			if !slices.Equal(clubs, tt.wantClubs) {
				t.Errorf("clubs: got %v, want %v", clubs, tt.wantClubs)
			}
		})
	}
}

func TestPersonClubsRequest(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantClubs []string
		wantErr   error
	}{
		{
			name: "codes sorted and deduplicated",
			body: `{"code":"OK","message":"Success","users":[{"id":"kp_aaa","email":" Ana@Example.org","first_name":"Ana","last_name":"Lima",
			  "organizations":["org_b","org_a","org_b"]}]}`,
			wantClubs: []string{"org_a", "org_b"},
		},
		{
			name:      "no organizations field",
			body:      `{"code":"OK","message":"Success","users":[{"id":"kp_aaa","email":"ana@example.org"}]}`,
			wantClubs: []string{},
		},
		{
			name:    "someone else only",
			body:    `{"code":"OK","message":"Success","users":[{"id":"kp_bbb","email":"bo@example.org","organizations":["org_a"]}]}`,
			wantErr: club.ErrNotFound,
		},
		{name: "nobody", body: `{"code":"OK","message":"Success","users":[]}`, wantErr: club.ErrNotFound},
		{name: "null users", body: `{"code":"OK","message":"Success"}`, wantErr: club.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKinde(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 200, tt.body) })
			a, _ := newTestAdmin(t, f, nil)
			p, clubs, err := a.PersonClubs(t.Context(), "kp_aaa")
			if got, want := f.apiRequests(), []string{"GET /api/v1/users?expand=organizations&user_id=kp_aaa"}; !slices.Equal(got, want) {
				t.Errorf("requests: got %v, want %v", got, want)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != "kp_aaa" || p.Email != "ana@example.org" {
				t.Errorf("person: %+v", p)
			}
			if !slices.Equal(clubs, tt.wantClubs) {
				t.Errorf("clubs: got %v, want %v", clubs, tt.wantClubs)
			}
		})
	}
}
