package store

import (
	"slices"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

// testAuditOrigin checks that a staff row keeps where it came from (IP and
// user agent), and that rows without them read back empty.
func testAuditOrigin(t *testing.T, db *DB) {
	staff := club.AuditEvent{ClubCode: "org_a", ActorID: userID(7), ActorName: "Sam Rivera (Clubhouse staff)",
		Action: club.ActionViewAsStarted, TargetID: userID(1), TargetEmail: "user1@example.org",
		Detail: "Ticket 4512: cannot add a coach", At: at(1), IP: "192.0.2.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)"}
	plain := event("org_a", club.ActionMemberAdded)
	plain.At = at(2)
	for _, ev := range []club.AuditEvent{staff, plain} {
		if err := db.Append(t.Context(), ev); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	evs := allEvents(t, db)
	if len(evs) != 2 {
		t.Fatalf("events = %d, want 2", len(evs))
	}
	tests := []struct {
		name string
		got  club.AuditEvent
		want club.AuditEvent
	}{
		{"staff row", evs[1], staff},
		{"plain row", evs[0], plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.ID = tt.got.ID
			if tt.got != tt.want {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
}

func testMembersWithRole(t *testing.T, db *DB) {
	save(t, db,
		newMember("org_a", 1, "Zoe", "Zimmer", club.RoleOwner, club.RoleMember),
		newMember("org_a", 2, "Ana", "Alves", club.RoleOwner),
		newMember("org_a", 3, "Bruno", "Brito", club.RoleAdmin),
		newMember("org_b", 4, "Carla", "Costa", club.RoleOwner),
	)
	pending := newMember("org_a", 5, "Pia", "Pending", club.RoleOwner)
	pending.Pending = true
	save(t, db, pending)

	tests := []struct {
		name, clubCode, role string
		limit                int
		want                 []string // "first:roles"
	}{
		{"owners by name, pending left out", "org_a", club.RoleOwner, 10, []string{"Ana:owner", "Zoe:member,owner"}},
		{"limited", "org_a", club.RoleOwner, 1, []string{"Ana:owner"}},
		{"zero limit means the cap", "org_a", club.RoleOwner, 0, []string{"Ana:owner", "Zoe:member,owner"}},
		{"another role", "org_a", club.RoleAdmin, 10, []string{"Bruno:admin"}},
		{"another club", "org_b", club.RoleOwner, 10, []string{"Carla:owner"}},
		{"nobody", "org_a", club.RoleCoach, 10, []string{}},
		{"unknown club", "org_x", club.RoleOwner, 10, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := db.MembersWithRole(t.Context(), tt.clubCode, tt.role, tt.limit)
			if err != nil {
				t.Fatalf("MembersWithRole: %v", err)
			}
			got := []string{}
			for _, m := range ms {
				if m.ClubCode != tt.clubCode || m.Email == "" || m.JoinedAt.IsZero() {
					t.Errorf("incomplete member %+v", m)
				}
				got = append(got, m.FirstName+":"+strings.Join(m.Roles, ","))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
