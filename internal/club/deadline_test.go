package club_test

import (
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// A request spends at most its deadline on Kinde and then says so: an add
// under a RateLimit-Reset longer than the deadline used to wait it out
// (three times 25 s left the browser without an answer), and a Kinde that
// does not answer used to hold the request for the client's whole retry
// budget.
func TestKindeDeadlineBoundsARequest(t *testing.T) {
	tests := []struct {
		name  string
		fault emulator.FaultRule
	}{
		{"rate limited past the deadline", emulator.FaultRule{Operation: "createUser", Status: 429,
			Headers: map[string]string{"RateLimit-Reset": "25"}, Times: 3}},
		{"no answer within the deadline", emulator.FaultRule{Operation: "getUsers", Latency: 20 * time.Second, Times: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newEmuRig(t, 30*time.Second, nil)
			rig.svc = club.NewService(rig.dir, rig.admin, time.Now, nil, club.WithProviderDeadline(2*time.Second))
			roles := emuRoles(t, rig)
			rig.emu.Faults().Add(tt.fault)
			_, err := rig.svc.AddMember(t.Context(), owner, emuRiverside, roles,
				club.AddMemberInput{Email: "late@example.org", Roles: []string{club.RoleMember}})
			if club.ErrorCode(err) != club.EUNAVAILABLE {
				t.Fatalf("AddMember error = %v, want %s", err, club.EUNAVAILABLE)
			}
			if msg := club.ErrorMessage(err); msg == "" {
				t.Error("no message for the owner")
			}
			for _, w := range rig.waits {
				if w >= 25*time.Second {
					t.Errorf("waited %s for Kinde, past the request's deadline", w)
				}
			}
		})
	}
}
