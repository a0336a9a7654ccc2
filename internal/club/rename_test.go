package club_test

import (
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

func TestRenameClub(t *testing.T) {
	owner := club.Actor{UserID: "kp_olivia", Name: "Olivia Hart", Roles: []string{club.RoleOwner}}
	admin := club.Actor{UserID: "kp_adam", Name: "Adam", Roles: []string{club.RoleAdmin}}
	c := club.Club{Code: "org_a", Name: "Riverside Rowing"}

	t.Run("renamed in Kinde and the directory, recorded, owner's claims refreshed", func(t *testing.T) {
		svc, dir, k := newService(t)
		got, err := svc.RenameClub(t.Context(), owner, c, "  Riverside Rowing & Sculling ")
		if err != nil {
			t.Fatalf("RenameClub: %v", err)
		}
		want := club.Club{Code: "org_a", Name: "Riverside Rowing & Sculling"}
		if got != want || k.names["org_a"] != want.Name || dir.clubs["org_a"] != want {
			t.Errorf("renamed to %+v; Kinde has %q, directory %+v; want %+v everywhere", got, k.names["org_a"], dir.clubs["org_a"], want)
		}
		if ev := dir.audit[len(dir.audit)-1]; ev.Action != club.ActionClubRenamed || ev.ActorID != "kp_olivia" || ev.Detail != "Riverside Rowing → Riverside Rowing & Sculling" {
			t.Errorf("audit = %+v", ev)
		}
		if _, stale := dir.stale["kp_olivia"]; !stale || k.calls["RefreshClaims"] != 1 {
			t.Errorf("the owner's claims were not refreshed (stale %v, Kinde refreshes %d)", stale, k.calls["RefreshClaims"])
		}
	})

	for _, tc := range []struct {
		name     string
		actor    club.Actor
		newName  string
		wantCode string
	}{
		{"too short", owner, "R", club.EINVALID},
		{"too long", owner, strings.Repeat("a", 81), club.EINVALID},
		{"control characters", owner, "Club\x00", club.EINVALID},
		{"not an owner", admin, "Adam's Club", club.EFORBIDDEN},
		{"the same name", owner, "Riverside Rowing", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, dir, k := newService(t)
			got, err := svc.RenameClub(t.Context(), tc.actor, c, tc.newName)
			if club.ErrorCode(err) != tc.wantCode {
				t.Fatalf("err = %v, want code %q", err, tc.wantCode)
			}
			if tc.wantCode == "" && got != c {
				t.Errorf("renamed to %+v, want %+v unchanged", got, c)
			}
			if k.total() != 0 || dir.writes != 0 || len(dir.audit) != 0 {
				t.Errorf("nothing should change: %d Kinde calls, %d writes, %d audit rows", k.total(), dir.writes, len(dir.audit))
			}
		})
	}

	t.Run("Kinde unavailable changes nothing", func(t *testing.T) {
		svc, dir, k := newService(t)
		k.fail["RenameClub"] = club.Errorf(club.EUNAVAILABLE, "down")
		_, err := svc.RenameClub(t.Context(), owner, c, "New Name")
		if club.ErrorCode(err) != club.EUNAVAILABLE {
			t.Fatalf("err = %v, want unavailable", err)
		}
		if dir.writes != 0 || len(dir.audit) != 0 {
			t.Errorf("a failed rename wrote %d times", dir.writes)
		}
	})
}
