package club_test

import (
	"maps"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

func TestIdentityEventKind(t *testing.T) {
	person := func(id string, deleted bool) *club.PersonChange {
		return &club.PersonChange{Person: club.Person{ID: id}, Deleted: deleted}
	}
	clubChange := func(code string, deleted bool) *club.ClubChange {
		return &club.ClubChange{Club: club.Club{Code: code}, Deleted: deleted}
	}
	tests := []struct {
		name string
		ev   club.IdentityEvent
		want string
	}{
		{"person changed", club.IdentityEvent{Type: club.EventPersonChanged, Person: person("kp_1", false)}, club.EventPersonChanged},
		{"person deleted", club.IdentityEvent{Type: club.EventPersonDeleted, Person: person("kp_1", true)}, club.EventPersonDeleted},
		{"club changed", club.IdentityEvent{Type: club.EventClubChanged, Club: clubChange("org_a", false)}, club.EventClubChanged},
		{"club deleted", club.IdentityEvent{Type: club.EventClubDeleted, Club: clubChange("org_a", true)}, club.EventClubDeleted},
		// Jobs queued by an earlier version carry Kinde's own types.
		{"queued earlier: user.created", club.IdentityEvent{Type: "user.created", Person: person("kp_1", false)}, club.EventPersonChanged},
		{"queued earlier: user.updated", club.IdentityEvent{Type: "user.updated", Person: person("kp_1", false)}, club.EventPersonChanged},
		{"queued earlier: user.deleted", club.IdentityEvent{Type: "user.deleted", Person: person("kp_1", true)}, club.EventPersonDeleted},
		{"queued earlier: organization.updated", club.IdentityEvent{Type: "organization.updated", Club: clubChange("org_a", false)}, club.EventClubChanged},
		{"queued earlier: organization.deleted", club.IdentityEvent{Type: "organization.deleted", Club: clubChange("org_a", true)}, club.EventClubDeleted},
		{"names no one", club.IdentityEvent{Type: club.EventPersonChanged}, ""},
		{"a person without an id", club.IdentityEvent{Type: club.EventPersonChanged, Person: person("", false)}, ""},
		{"a club without a code", club.IdentityEvent{Type: club.EventClubChanged, Club: clubChange("", false)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := tt.ev.Kind(), tt.want; got != want {
				t.Errorf("Kind() = %q, want %q", got, want)
			}
		})
	}
}

// TestHandleIdentityEventQueuedEarlier applies events as a version that
// still carried Kinde's own type strings queued them.
func TestHandleIdentityEventQueuedEarlier(t *testing.T) {
	tests := []struct {
		name      string
		ev        func(p club.Person) club.IdentityEvent
		wantCalls map[string]int
		wantGone  bool // the member left the directory
		wantClub  bool // riverside is still in the directory
	}{
		{"user.updated", func(p club.Person) club.IdentityEvent {
			return club.IdentityEvent{ID: "event_1", Type: "user.updated", Person: &club.PersonChange{Person: p}}
		}, map[string]int{"PersonClubs": 1, "MemberRoles": 1}, false, true},
		{"user.deleted", func(p club.Person) club.IdentityEvent {
			return club.IdentityEvent{ID: "event_2", Type: "user.deleted", Person: &club.PersonChange{Person: p, Deleted: true}}
		}, map[string]int{}, true, true},
		{"organization.updated", func(club.Person) club.IdentityEvent {
			return club.IdentityEvent{ID: "event_3", Type: "organization.updated", Club: &club.ClubChange{Club: riverside}}
		}, map[string]int{"Club": 1}, false, true},
		{"organization.deleted", func(club.Person) club.IdentityEvent {
			return club.IdentityEvent{ID: "event_4", Type: "organization.deleted", Club: &club.ClubChange{Club: riverside, Deleted: true}}
		}, map[string]int{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, dir, k := newService(t)
			p := k.seedPerson("ana@example.org", riverside.Code)
			if err := k.GrantRoles(t.Context(), riverside.Code, p.ID, []string{"member"}); err != nil {
				t.Fatal(err)
			}
			dir.people[p.Email] = p
			dir.members[riverside.Code+"/"+p.ID] = club.Member{ClubCode: riverside.Code, UserID: p.ID, Email: p.Email, Roles: []string{"member"}}
			dir.clubs[riverside.Code] = riverside
			k.mu.Lock()
			clear(k.calls)
			k.mu.Unlock()

			if err := svc.HandleIdentityEvent(t.Context(), tt.ev(p)); err != nil {
				t.Fatalf("HandleIdentityEvent: %v", err)
			}
			k.mu.Lock()
			gotCalls := maps.Clone(k.calls)
			k.mu.Unlock()
			if !maps.Equal(gotCalls, tt.wantCalls) {
				t.Errorf("calls = %v, want %v", gotCalls, tt.wantCalls)
			}
			_, in := dir.members[riverside.Code+"/"+p.ID]
			if got, want := !in, tt.wantGone; got != want {
				t.Errorf("member gone = %v, want %v", got, want)
			}
			_, kept := dir.clubs[riverside.Code]
			if got, want := kept, tt.wantClub; got != want {
				t.Errorf("club kept = %v, want %v", got, want)
			}
		})
	}

	t.Run("an event that names no one", func(t *testing.T) {
		svc, _, _ := newService(t)
		if err := svc.HandleIdentityEvent(t.Context(), club.IdentityEvent{ID: "event_5", Type: "user.updated"}); err == nil {
			t.Error("HandleIdentityEvent applied an event that names no one")
		}
	})
}
