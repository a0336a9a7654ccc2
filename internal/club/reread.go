package club

import (
	"context"
	"errors"
	"fmt"
)

// Kinde's webhooks arrive late, out of order and more than once, and a
// payload may leave out what it does not include ("roles": null). So an
// event is a notification, not a snapshot: it says whom to re-read, and
// what the re-read finds is written under the version taken before it,
// which the directory orders against every other write. Only a deletion
// is taken from the payload itself: a deleted person or club never comes
// back.

// HandleIdentityEvent re-reads the person or club a verified event of the
// identity provider is about and writes what the provider has now. It goes
// by the event's Kind, so events queued by an earlier version apply too.
func (s *Service) HandleIdentityEvent(ctx context.Context, ev IdentityEvent) error {
	switch ev.Kind() {
	case EventPersonDeleted:
		return s.forgetPerson(ctx, ev.Person.Person.ID)
	case EventPersonChanged:
		return s.RereadPerson(ctx, ev.Person.Person.ID)
	case EventClubDeleted:
		return s.applyClub(ctx, ev.Club.Club, true)
	case EventClubChanged:
		return s.RereadClub(ctx, ev.Club.Club.Code)
	}
	return errors.New("club: identity event: the event names no person or club")
}

// RereadPerson reads from Kinde the person's clubs, and their roles in
// each club the portal keeps members of, and writes that to the directory.
// Kinde calls: 1, plus 1 for each of those clubs the person is in.
func (s *Service) RereadPerson(ctx context.Context, userID string) error {
	// A read that overlapped another one is passed over when the two saw
	// different things; reading again starts after the other ended.
	for range rereadAttempts {
		stale, err := s.rereadPerson(ctx, userID)
		if err != nil || !stale {
			return err
		}
	}
	return nil
}

// rereadAttempts bounds how often a person is read again after a read
// that overlapped another.
const rereadAttempts = 3

func (s *Service) rereadPerson(ctx context.Context, userID string) (stale bool, err error) {
	v, err := s.dir.BeginRead(ctx)
	if err != nil {
		return false, fmt.Errorf("club: reread person: %w", err)
	}
	p, codes, err := s.identities.PersonClubs(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return s.dir.ApplyPerson(ctx, v, PersonFacts{Person: Person{ID: userID}, Gone: true})
	}
	if err != nil {
		return false, providerError("reread person", err)
	}
	kept, err := s.dir.KeptClubs(ctx, codes)
	if err != nil {
		return false, fmt.Errorf("club: reread person: %w", err)
	}
	f := PersonFacts{Person: p, Clubs: make(map[string][]string, len(kept))}
	for _, code := range kept {
		roles, err := s.identities.MemberRoles(ctx, code, userID)
		if errors.Is(err, ErrNotFound) {
			continue // they left the club while we read
		}
		if err != nil {
			return false, providerError("reread person: roles", err)
		}
		f.Clubs[code] = sortedCopy(roles)
	}
	stale, err = s.dir.ApplyPerson(ctx, v, f)
	if err != nil {
		return false, fmt.Errorf("club: reread person: %w", err)
	}
	return stale, nil
}

// forgetPerson writes that Kinde deleted the person: they leave every
// club. No read is needed, as a deleted person never comes back.
func (s *Service) forgetPerson(ctx context.Context, userID string) error {
	v, err := s.dir.BeginRead(ctx)
	if err != nil {
		return fmt.Errorf("club: forget person: %w", err)
	}
	if _, err := s.dir.ApplyPerson(ctx, v, PersonFacts{Person: Person{ID: userID}, Gone: true}); err != nil {
		return fmt.Errorf("club: forget person: %w", err)
	}
	return nil
}

// RereadClub reads the club from Kinde and writes its name, or that it is
// gone. Kinde calls: 1.
func (s *Service) RereadClub(ctx context.Context, code string) error {
	v, err := s.dir.BeginRead(ctx)
	if err != nil {
		return fmt.Errorf("club: reread club: %w", err)
	}
	c, err := s.identities.Club(ctx, code)
	deleted := errors.Is(err, ErrNotFound)
	if err != nil && !deleted {
		return providerError("reread club", err)
	}
	if deleted {
		c = Club{Code: code}
	}
	if err := s.dir.ApplyClub(ctx, v, c, deleted); err != nil {
		return fmt.Errorf("club: reread club: %w", err)
	}
	return nil
}

func (s *Service) applyClub(ctx context.Context, c Club, deleted bool) error {
	v, err := s.dir.BeginRead(ctx)
	if err != nil {
		return fmt.Errorf("club: apply club: %w", err)
	}
	if err := s.dir.ApplyClub(ctx, v, c, deleted); err != nil {
		return fmt.Errorf("club: apply club: %w", err)
	}
	return nil
}
