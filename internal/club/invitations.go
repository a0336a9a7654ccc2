package club

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ResendCooldown is how long after an invitation went out before another
// one to the same person may be sent: long enough for mail to arrive, short
// enough for an owner on the phone with the member.
const ResendCooldown = 10 * time.Minute

// ResendInvitation sends a member of the club a new invitation email, for
// when the first never arrived, was given up on, or was lost. It refuses
// while an invitation to them is still on its way, and within
// ResendCooldown of one that went out, so a double click or an impatient
// owner sends one email, not several.
func (s *Service) ResendInvitation(ctx context.Context, actor Actor, c Club, userID string) (Member, error) {
	m, err := s.member(ctx, c, userID)
	if err != nil {
		return Member{}, err
	}
	if m.Email == "" {
		return Member{}, &Error{Code: ECONFLICT, Message: "There is no email address for this member yet. Refresh from Kinde, then try again."}
	}
	now := s.now().UTC()
	inv := invitationFor(c, m, actor.Name)
	ev := s.event(actor, c, ActionInvitationResent, m, "")
	err = s.dir.QueueInvitation(ctx, m.UserID, inv, ev, func(last OutboxItem) error {
		return resendAllowed(last, m.Email, now) // none yet (the zero item): allowed
	})
	if errors.Is(err, ErrNotFound) {
		return Member{}, &Error{Code: ENOTFOUND, Message: "That person is not a member of this club."}
	}
	if err != nil {
		if ErrorCode(err) == ECONFLICT {
			return Member{}, err
		}
		return Member{}, fmt.Errorf("club: resend invitation: %w", err)
	}
	return m, nil
}

// CanResend reports whether another invitation may follow last (the latest
// to the person) at now: what the resend button offers.
func CanResend(last OutboxItem, now time.Time) bool {
	return resendAllowed(last, last.Invitation.Email, now) == nil
}

// resendAllowed says whether another invitation may follow last, at now.
func resendAllowed(last OutboxItem, email string, now time.Time) error {
	switch last.Status {
	case InvitationQueued:
		if last.Attempts > 0 {
			return Errorf(ECONFLICT, "The invitation to %s is still being retried. It goes out as soon as the mail server takes it.", email)
		}
		return Errorf(ECONFLICT, "An invitation to %s is already on its way.", email)
	case InvitationSent:
		if wait := last.SentAt.Add(ResendCooldown).Sub(now); wait > 0 {
			return Errorf(ECONFLICT, "An invitation went to %s %s ago. Give it a few minutes to arrive (and ask them to look in spam) before sending another.",
				email, roundMinutes(now.Sub(last.SentAt)))
		}
	}
	return nil
}

// roundMinutes says d in whole minutes, "less than a minute" below one.
func roundMinutes(d time.Duration) string {
	switch n := int(d / time.Minute); {
	case n < 1:
		return "less than a minute"
	case n == 1:
		return "1 minute"
	default:
		return fmt.Sprintf("%d minutes", n)
	}
}
