package club_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

func TestResendInvitation(t *testing.T) {
	ana := club.Member{ClubCode: "org_a", UserID: "kp_ana", Email: "ana@example.org", FirstName: "Ana", LastName: "Hart", Roles: []string{club.RoleMember}}
	c := club.Club{Code: "org_a", Name: "Riverside"}
	actor := club.Actor{UserID: "kp_olivia", Name: "Olivia Hart", Roles: []string{club.RoleOwner}}
	now := fixedNow()
	for _, tc := range []struct {
		name     string
		last     *club.OutboxItem // the latest invitation to Ana, if any
		wantCode string           // "" when a new invitation is queued
		wantMsg  string
	}{
		{name: "never invited"},
		{name: "given up", last: &club.OutboxItem{Status: club.InvitationFailed, Attempts: 6}},
		{name: "sent long enough ago", last: &club.OutboxItem{Status: club.InvitationSent, SentAt: now.Add(-club.ResendCooldown)}},
		{name: "still queued", last: &club.OutboxItem{Status: club.InvitationQueued},
			wantCode: club.ECONFLICT, wantMsg: "already on its way"},
		{name: "being retried", last: &club.OutboxItem{Status: club.InvitationQueued, Attempts: 2},
			wantCode: club.ECONFLICT, wantMsg: "still being retried"},
		{name: "sent minutes ago", last: &club.OutboxItem{Status: club.InvitationSent, SentAt: now.Add(-3 * time.Minute)},
			wantCode: club.ECONFLICT, wantMsg: "went to ana@example.org 3 minutes ago"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, dir, k := newService(t)
			dir.members["org_a/kp_ana"] = ana
			if tc.last != nil {
				dir.lastInvite["org_a/ana@example.org"] = *tc.last
			}
			_, err := svc.ResendInvitation(t.Context(), actor, c, "kp_ana")
			if k.total() != 0 {
				t.Errorf("resend called Kinde %d times, want 0", k.total())
			}
			if tc.wantCode != "" {
				if club.ErrorCode(err) != tc.wantCode || !strings.Contains(club.ErrorMessage(err), tc.wantMsg) {
					t.Fatalf("err = %v, want %s saying %q", err, tc.wantCode, tc.wantMsg)
				}
				if len(dir.invites) != 0 || dir.writes != 0 || len(dir.audit) != 0 {
					t.Errorf("a refused resend wrote: %d invitations, %d writes, audit %v", len(dir.invites), dir.writes, dir.auditActions())
				}
				return
			}
			if err != nil {
				t.Fatalf("ResendInvitation: %v", err)
			}
			want := club.Invitation{ClubCode: "org_a", ClubName: "Riverside", Email: "ana@example.org", Name: "Ana Hart", InvitedBy: "Olivia Hart"}
			if len(dir.invites) != 1 || dir.invites[0] != want {
				t.Errorf("queued %+v, want one %+v", dir.invites, want)
			}
			if got := dir.auditActions(); len(got) != 1 || got[0] != club.ActionInvitationResent || dir.audit[0].TargetID != "kp_ana" || dir.audit[0].ActorID != "kp_olivia" {
				t.Errorf("audit = %+v, want one invitation.resent by kp_olivia for kp_ana", dir.audit)
			}
		})
	}
}

func TestResendInvitationOnlyToMembers(t *testing.T) {
	svc, dir, _ := newService(t)
	dir.members["org_a/kp_pending"] = club.Member{ClubCode: "org_a", UserID: "kp_pending", Email: "p@example.org", Pending: true}
	dir.members["org_b/kp_ben"] = club.Member{ClubCode: "org_b", UserID: "kp_ben", Email: "ben@example.org"}
	actor := club.Actor{UserID: "kp_olivia", Name: "Olivia", Roles: []string{club.RoleOwner}}
	for _, id := range []string{"kp_nobody", "kp_pending", "kp_ben"} { // kp_ben is in another club
		_, err := svc.ResendInvitation(t.Context(), actor, club.Club{Code: "org_a"}, id)
		if club.ErrorCode(err) != club.ENOTFOUND {
			t.Errorf("%s: err = %v, want not found", id, err)
		}
	}
	if len(dir.invites) != 0 || len(dir.audit) != 0 {
		t.Errorf("refused resends wrote %d invitations and %d audit rows", len(dir.invites), len(dir.audit))
	}
}
