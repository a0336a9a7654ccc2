package club_test

import (
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

// The scheduled reconciliation runs every few minutes for every club: it
// records itself only when it changed something. A sync someone asked for
// is always recorded.
func TestReconcileRecordsOnlyChanges(t *testing.T) {
	svc, dir, k := newService(t)
	c := club.Club{Code: "org_a", Name: "Riverside"}
	k.seedPerson("ana@example.org", "org_a")
	k.seedPerson("ben@example.org", "org_a")

	ch, err := svc.Reconcile(t.Context(), c)
	if err != nil || ch != (club.SyncChanges{Joined: 2}) {
		t.Fatalf("first reconcile = %+v, %v; want 2 joined", ch, err)
	}
	if len(dir.audit) != 1 || dir.audit[0].Action != club.ActionClubSynced || dir.audit[0].ActorName != "Scheduled reconciliation" ||
		dir.audit[0].Detail != "2 members in Kinde: 2 joined" {
		t.Errorf("audit = %+v, want one club.synced by the scheduled reconciliation saying 2 joined", dir.audit)
	}

	for range 3 {
		if ch, err := svc.Reconcile(t.Context(), c); err != nil || !ch.None() {
			t.Fatalf("reconcile with nothing new = %+v, %v; want no changes", ch, err)
		}
	}
	if len(dir.audit) != 1 {
		t.Errorf("reconciliations that changed nothing wrote %d audit rows, want none", len(dir.audit)-1)
	}

	owner := club.Actor{UserID: "kp_olivia", Name: "Olivia", Roles: []string{club.RoleOwner}}
	if n, err := svc.Sync(t.Context(), owner, c); err != nil || n != 2 {
		t.Fatalf("Sync = %d, %v", n, err)
	}
	if last := dir.audit[len(dir.audit)-1]; len(dir.audit) != 2 || last.ActorID != "kp_olivia" || last.Detail != "2 members in Kinde: no changes" {
		t.Errorf("audit = %+v, want the owner's refresh recorded even without changes", dir.audit)
	}
}

func TestSyncChangesString(t *testing.T) {
	for _, tc := range []struct {
		ch   club.SyncChanges
		want string
	}{
		{club.SyncChanges{}, "no changes"},
		{club.SyncChanges{Joined: 1}, "1 joined"},
		{club.SyncChanges{Left: 2, RolesChanged: 1}, "2 left, 1 with changed roles"},
		{club.SyncChanges{Joined: 3, Left: 1, RolesChanged: 4, Updated: 2}, "3 joined, 1 left, 4 with changed roles, 2 with a changed email"},
	} {
		if got := tc.ch.String(); got != tc.want {
			t.Errorf("%+v = %q, want %q", tc.ch, got, tc.want)
		}
	}
}
