package club

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Service changes clubs and their members. It keeps Kinde (the source of
// truth for identities and memberships) and the Directory (the portal's
// fast local copy, plus the audit log and the invitation outbox) in step.
type Service struct {
	dir        Directory
	identities Identities
	now        func() time.Time
	logger     *slog.Logger
	pace       *pacer
	// deadline bounds all the Kinde calls of one request.
	deadline time.Duration
}

// DefaultProviderDeadline bounds all the identity provider's (Kinde's)
// calls of one request (an add, a role change, a removal, a rename): well
// inside the server's write timeout, so the owner always gets an answer,
// and a clear one when Kinde did not give it in time.
const DefaultProviderDeadline = 10 * time.Second

// settleTimeout bounds the directory write that records what Kinde has
// already done.
const settleTimeout = 10 * time.Second

// WithProviderDeadline sets how long one request may spend on the identity
// provider (Kinde).
func WithProviderDeadline(d time.Duration) Option {
	return func(s *Service) { s.deadline = d }
}

// doneInProvider is the context and the version of the directory write that
// records a change Kinde has just made. The version is taken now, not when
// the write runs: a change saved late, after a newer change to the same
// membership, is then passed over instead of undoing it.
func (s *Service) doneInProvider(ctx context.Context) (context.Context, context.CancelFunc, Version, error) {
	sctx, cancel := settled(ctx)
	v, err := s.dir.BeginRead(sctx)
	if err != nil {
		cancel()
		return nil, nil, 0, err
	}
	return sctx, cancel, v, nil
}

// interactive bounds a request's context by its Kinde deadline.
func (s *Service) interactive(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.deadline)
}

// settled is the context of a directory write that records what Kinde has
// already done: neither the request's deadline nor a browser that left
// cuts it short, or the directory would miss a change Kinde made.
func settled(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

// NewService returns a Service. now may be nil (time.Now); logger may be nil.
func NewService(dir Directory, identities Identities, now func() time.Time, logger *slog.Logger, opts ...Option) *Service {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{dir: dir, identities: identities, now: now, logger: logger, pace: newPacer(), deadline: DefaultProviderDeadline}
	for _, o := range opts {
		o(s)
	}
	return s
}

// AddResult tells how an add ended.
type AddResult struct {
	Member Member
	// AlreadyMember is true when the person was a member of this club
	// before. Whether they existed in Kinde (in another club) is never told.
	AlreadyMember bool
}

// AddMember adds a person to the club by email: it resolves the email to an
// existing Kinde user (directory first, then an exact Kinde lookup) or
// creates one in the club, then attaches them with the chosen roles.
//
// Kinde calls: 1 when the directory knows the email, at most 3 when it does
// not (lookup, create, roles), whatever the size of the Kinde business. An
// add of someone Kinde already knew is held until it has taken as long as
// creating them would (see pacer), so the response time does not tell.
func (s *Service) AddMember(ctx context.Context, actor Actor, c Club, clubRoles []Role, in AddMemberInput) (AddResult, error) {
	in, err := in.Validate(clubRoles)
	if err != nil {
		return AddResult{}, err
	}
	if slices.Contains(in.Roles, RoleOwner) && !actor.IsOwner() {
		return AddResult{}, forbiddenOwnerRole()
	}
	ctx, cancel := s.interactive(ctx)
	defer cancel()
	// One change to the club's members at a time, across every instance:
	// an add cannot interleave with a removal or a role change of the same
	// person, nor with the same add posted twice.
	unlock, err := s.lockClub(ctx, c)
	if err != nil {
		return AddResult{}, fmt.Errorf("club: add member: %w", err)
	}
	defer unlock()

	start := s.pace.clock()
	res, calls, err := s.addMember(ctx, actor, c, in)
	if err == nil && !res.AlreadyMember {
		s.pace.hold(ctx, start, calls)
	}
	return res, err
}

// addMember does AddMember's work and says how many Kinde calls its path
// made when all went well.
func (s *Service) addMember(ctx context.Context, actor Actor, c Club, in AddMemberInput) (AddResult, int, error) {
	person, err := s.dir.PersonByEmail(ctx, in.Email)
	switch {
	case err == nil:
		m, err := s.dir.Member(ctx, c.Code, person.ID)
		switch {
		case err == nil && !m.Pending:
			return AddResult{Member: m, AlreadyMember: true}, 0, nil
		case err == nil && m.Pending:
			if err := s.dir.StartAdd(ctx, c.Code, in.Email); err != nil {
				return AddResult{}, 0, fmt.Errorf("club: add member: %w", err)
			}
			res, err := s.finishPending(ctx, actor, c, m, in)
			return res, 1, err
		case !errors.Is(err, ErrNotFound):
			return AddResult{}, 0, fmt.Errorf("club: add member: %w", err)
		}
		if err := s.dir.StartAdd(ctx, c.Code, in.Email); err != nil {
			return AddResult{}, 0, fmt.Errorf("club: add member: %w", err)
		}
		res, err := s.attach(ctx, actor, c, person, in)
		return res, 1, err
	case !errors.Is(err, ErrNotFound):
		return AddResult{}, 0, fmt.Errorf("club: add member: %w", err)
	}
	// From here on Kinde may show the membership before the add is done:
	// record that it is this add's, so a webhook's re-read keeps it
	// unlisted and out of the club's activity until the add finishes.
	if err := s.dir.StartAdd(ctx, c.Code, in.Email); err != nil {
		return AddResult{}, 0, fmt.Errorf("club: add member: %w", err)
	}

	person, err = s.identities.FindPersonByEmail(ctx, in.Email)
	if err == nil {
		res, err := s.attach(ctx, actor, c, person, in)
		return res, 2, err
	}
	if !errors.Is(err, ErrNotFound) {
		return AddResult{}, 0, providerError("add member: find person", err)
	}

	person, err = s.identities.CreatePerson(ctx, Person{Email: in.Email, FirstName: in.FirstName, LastName: in.LastName}, c.Code)
	if errors.Is(err, ErrEmailInUse) {
		// Someone created them between our lookup and our create (another
		// portal instance, another club, Kinde's own UI): resolve again.
		person, err = s.identities.FindPersonByEmail(ctx, in.Email)
		if err != nil {
			return AddResult{}, 0, providerError("add member: find person after email in use", err)
		}
		res, err := s.attach(ctx, actor, c, person, in)
		return res, 4, err
	}
	if err != nil {
		return AddResult{}, 0, providerError("add member: create person", err)
	}
	// The person now exists in Kinde and is in the club, without roles yet.
	// Record that first, so a fault before the roles are granted is finished
	// by the next attempt instead of being left half-done.
	pending := s.newMember(c, person.ID, in, nil)
	pending.Pending = true
	sctx, cancel, v, err := s.doneInProvider(ctx)
	if err != nil {
		return AddResult{}, 0, fmt.Errorf("club: add member: save pending: %w", err)
	}
	defer cancel()
	if err := s.dir.SaveMember(sctx, v, pending, nil, nil); err != nil {
		return AddResult{}, 0, fmt.Errorf("club: add member: save pending: %w", err)
	}
	res, err := s.finishPending(ctx, actor, c, pending, in)
	return res, 3, err
}

// attach adds a person Kinde already knows to the club.
func (s *Service) attach(ctx context.Context, actor Actor, c Club, person Person, in AddMemberInput) (AddResult, error) {
	added, err := s.identities.AddMember(ctx, c.Code, person.ID, in.Roles)
	if err != nil {
		return AddResult{}, providerError("add member: attach", err)
	}
	if added {
		m := s.newMember(c, person.ID, in, in.Roles)
		return s.saveAdded(ctx, actor, c, m)
	}
	// Kinde has them in the club although our directory did not: make sure
	// they hold the chosen roles, then record what Kinde has.
	if err := s.identities.GrantRoles(ctx, c.Code, person.ID, in.Roles); err != nil {
		return AddResult{}, providerError("add member: grant roles", err)
	}
	// The version comes before the roles are read back: what the read
	// finds is at least as new.
	sctx, cancel, v, err := s.doneInProvider(ctx)
	if err != nil {
		return AddResult{}, fmt.Errorf("club: add member: %w", err)
	}
	defer cancel()
	roles, err := s.identities.MemberRoles(ctx, c.Code, person.ID)
	if err != nil {
		return AddResult{}, providerError("add member: read roles", err)
	}
	m := s.newMember(c, person.ID, in, roles)
	ev := s.event(actor, c, ActionMemberRolesChanged, m, "roles now "+joinRoles(m.Roles))
	if err := s.dir.SaveMember(sctx, v, m, &ev, nil); err != nil {
		return AddResult{}, fmt.Errorf("club: add member: save: %w", err)
	}
	return AddResult{Member: m, AlreadyMember: true}, nil
}

// finishPending grants the roles of a member whose creation was recorded but
// not finished, then records them as added.
func (s *Service) finishPending(ctx context.Context, actor Actor, c Club, m Member, in AddMemberInput) (AddResult, error) {
	if err := s.identities.GrantRoles(ctx, c.Code, m.UserID, in.Roles); err != nil {
		if ErrorCode(err) == EUNAVAILABLE {
			return AddResult{}, &Error{Code: EUNAVAILABLE, Err: err,
				Message: "Kinde did not answer, so adding " + in.Email + " is not finished. Try again in a minute to finish it."}
		}
		return AddResult{}, providerError("add member: grant roles", err)
	}
	m.Roles = slices.Clone(in.Roles)
	m.Pending = false
	if in.FirstName != "" || in.LastName != "" {
		m.FirstName, m.LastName = in.FirstName, in.LastName
	}
	return s.saveAdded(ctx, actor, c, m)
}

// saveAdded lists the member, writes the audit row and queues the
// invitation, unless the same add was finished already (by another
// instance): then the add answers "already a member" and writes nothing.
func (s *Service) saveAdded(ctx context.Context, actor Actor, c Club, m Member) (AddResult, error) {
	ev := s.event(actor, c, ActionMemberAdded, m, "roles "+joinRoles(m.Roles))
	inv := invitationFor(c, m, actor.Name)
	ctx, cancel, v, err := s.doneInProvider(ctx)
	if err != nil {
		return AddResult{}, fmt.Errorf("club: add member: save: %w", err)
	}
	defer cancel()
	finished, err := s.dir.FinishAdd(ctx, v, m, ev, &inv)
	if err != nil {
		return AddResult{}, fmt.Errorf("club: add member: save: %w", err)
	}
	if !finished {
		if cur, err := s.dir.Member(ctx, c.Code, m.UserID); err == nil {
			m = cur
		}
		return AddResult{Member: m, AlreadyMember: true}, nil
	}
	return AddResult{Member: m}, nil
}

func (s *Service) newMember(c Club, userID string, in AddMemberInput, roles []string) Member {
	return newMember(c.Code, userID, in.Email, in.FirstName, in.LastName, roles, s.now())
}

// newMember is a membership the club makes through the portal (an add or
// an import). The names typed are the club's, even when left empty.
func newMember(clubCode, userID, email, first, last string, roles []string, joined time.Time) Member {
	return Member{ClubCode: clubCode, UserID: userID, Email: email, FirstName: first, LastName: last,
		Roles: sortedCopy(roles), JoinedAt: joined.UTC(), NamesByClub: true}
}

// invitationFor is the invitation email of a new member of c.
func invitationFor(c Club, m Member, invitedBy string) Invitation {
	return Invitation{ClubCode: c.Code, ClubName: c.Name, Email: m.Email, Name: m.Name(), InvitedBy: invitedBy}
}

// ChangeRoles sets a member's roles in the club to keys. Guard rails: only
// owners grant or take away the owner role, and the last owner keeps it.
func (s *Service) ChangeRoles(ctx context.Context, actor Actor, c Club, clubRoles []Role, userID string, keys []string) (Member, error) {
	keys, err := ValidateRoleKeys(keys, clubRoles)
	if err != nil {
		return Member{}, err
	}
	ctx, cancel := s.interactive(ctx)
	defer cancel()
	unlock, err := s.lockClub(ctx, c)
	if err != nil {
		return Member{}, err
	}
	defer unlock()
	m, err := s.member(ctx, c, userID)
	if err != nil {
		return Member{}, err
	}
	grant, revoke := diffRoles(m.Roles, keys)
	if (slices.Contains(grant, RoleOwner) || slices.Contains(revoke, RoleOwner)) && !actor.IsOwner() {
		return Member{}, forbiddenOwnerRole()
	}
	if slices.Contains(revoke, RoleOwner) {
		if err := s.keepAnOwner(ctx, c); err != nil {
			return Member{}, err
		}
	}
	if len(grant) == 0 && len(revoke) == 0 {
		return m, nil
	}
	if err := s.dir.StartChange(ctx, c.Code, userID); err != nil {
		return Member{}, fmt.Errorf("club: change roles: %w", err)
	}
	if len(grant) > 0 {
		if err := s.identities.GrantRoles(ctx, c.Code, userID, grant); err != nil {
			return Member{}, providerError("change roles: grant", err)
		}
	}
	for _, k := range revoke {
		if err := s.identities.RevokeRole(ctx, c.Code, userID, k); err != nil {
			return Member{}, providerError("change roles: revoke", err)
		}
	}
	sctx, cancelSettle, v, err := s.doneInProvider(ctx)
	if err != nil {
		return Member{}, fmt.Errorf("club: change roles: %w", err)
	}
	defer cancelSettle()
	s.refreshClaims(ctx, userID)
	ctx = sctx
	old := joinRoles(m.Roles)
	m.Roles = keys
	ev := s.event(actor, c, ActionMemberRolesChanged, m, "roles "+old+" → "+joinRoles(keys))
	if err := s.dir.SaveMember(ctx, v, m, &ev, nil); err != nil {
		return Member{}, fmt.Errorf("club: change roles: save: %w", err)
	}
	if err := s.dir.MarkClaimsStale(ctx, userID, s.now()); err != nil {
		return Member{}, fmt.Errorf("club: change roles: mark stale: %w", err)
	}
	return m, nil
}

// RemoveMember removes a member from the club. The last owner cannot be
// removed, and only owners remove owners.
func (s *Service) RemoveMember(ctx context.Context, actor Actor, c Club, userID string) (Member, error) {
	ctx, cancel := s.interactive(ctx)
	defer cancel()
	unlock, err := s.lockClub(ctx, c)
	if err != nil {
		return Member{}, err
	}
	defer unlock()
	m, err := s.member(ctx, c, userID)
	if err != nil {
		return Member{}, err
	}
	if m.HasRole(RoleOwner) {
		if !actor.IsOwner() {
			return Member{}, forbiddenOwnerRole()
		}
		if err := s.keepAnOwner(ctx, c); err != nil {
			return Member{}, err
		}
	}
	if err := s.dir.StartChange(ctx, c.Code, userID); err != nil {
		return Member{}, fmt.Errorf("club: remove member: %w", err)
	}
	if err := s.identities.RemoveMember(ctx, c.Code, userID); err != nil && !errors.Is(err, ErrNotFound) {
		return Member{}, providerError("remove member", err)
	}
	sctx, cancelSettle, v, err := s.doneInProvider(ctx)
	if err != nil {
		return Member{}, fmt.Errorf("club: remove member: %w", err)
	}
	defer cancelSettle()
	s.refreshClaims(ctx, userID)
	ctx = sctx
	ev := s.event(actor, c, ActionMemberRemoved, m, "")
	if err := s.dir.DeleteMember(ctx, v, c.Code, userID, ev); err != nil {
		return Member{}, fmt.Errorf("club: remove member: %w", err)
	}
	if err := s.dir.MarkClaimsStale(ctx, userID, s.now()); err != nil {
		return Member{}, fmt.Errorf("club: remove member: mark stale: %w", err)
	}
	return m, nil
}

// Sync replaces the directory's copy of the club's members with Kinde's,
// following every page of Kinde's list, and records who asked and what
// changed. It returns how many members Kinde listed.
func (s *Service) Sync(ctx context.Context, actor Actor, c Club) (int, error) {
	n, _, err := s.sync(ctx, actor, c, true)
	return n, err
}

// Reconcile is the scheduled Sync that catches what webhooks missed. It
// records itself in the club's activity only when it changed something,
// so a club whose directory was already right does not fill its log.
func (s *Service) Reconcile(ctx context.Context, c Club) (SyncChanges, error) {
	_, changes, err := s.sync(ctx, Actor{Name: "Scheduled reconciliation"}, c, false)
	return changes, err
}

func (s *Service) sync(ctx context.Context, actor Actor, c Club, always bool) (int, SyncChanges, error) {
	// The version comes before the read: the snapshot speaks only for what
	// the directory learned before it started.
	v, err := s.dir.BeginRead(ctx)
	if err != nil {
		return 0, SyncChanges{}, fmt.Errorf("club: sync: %w", err)
	}
	ms, err := s.identities.ClubMembers(ctx, c.Code)
	if err != nil {
		return 0, SyncChanges{}, providerError("sync club", err)
	}
	for i := range ms {
		ms[i].ClubCode = c.Code
		ms[i].Roles = sortedCopy(ms[i].Roles)
	}
	now := s.now().UTC()
	changes, err := s.dir.ReplaceMembers(ctx, c, ms, v, now, func(ch SyncChanges) *AuditEvent {
		if !always && ch.None() {
			return nil
		}
		return &AuditEvent{ClubCode: c.Code, ActorID: actor.UserID, ActorName: actor.Name, Action: ActionClubSynced,
			Detail: fmt.Sprintf("%d members in Kinde: %s", len(ms), ch), At: now}
	})
	if err != nil {
		return 0, SyncChanges{}, fmt.Errorf("club: sync: %w", err)
	}
	return len(ms), changes, nil
}

// RenameClub gives the club a new name, in Kinde and in the directory. Only
// owners rename a club. The actor's token is refreshed on their next
// request, so the header shows the new name at once; other members see it
// when their tokens are next refreshed.
func (s *Service) RenameClub(ctx context.Context, actor Actor, c Club, name string) (Club, error) {
	name, err := ValidateClubName(name)
	if err != nil {
		return Club{}, err
	}
	if !actor.IsOwner() {
		return Club{}, &Error{Code: EFORBIDDEN, Message: "Only owners can rename the club.",
			Fields: map[string]string{"name": "Only owners can rename the club."}}
	}
	if name == c.Name {
		return c, nil
	}
	kctx, cancel := s.interactive(ctx)
	defer cancel()
	if err := s.identities.RenameClub(kctx, c.Code, name); err != nil {
		return Club{}, providerError("rename club", err)
	}
	ctx, cancelSettle := settled(ctx)
	defer cancelSettle()
	renamed := Club{Code: c.Code, Name: name}
	ev := AuditEvent{ClubCode: c.Code, ActorID: actor.UserID, ActorName: actor.Name, Action: ActionClubRenamed,
		Detail: c.Name + " → " + name, At: s.now().UTC()}
	if err := s.dir.RenameClub(ctx, renamed, ev); err != nil {
		return Club{}, fmt.Errorf("club: rename club: %w", err)
	}
	s.refreshClaims(ctx, actor.UserID)
	if err := s.dir.MarkClaimsStale(ctx, actor.UserID, s.now()); err != nil {
		return Club{}, fmt.Errorf("club: rename club: mark stale: %w", err)
	}
	return renamed, nil
}

// CreateClub creates a club with the actor as its owner. A second submit of
// the same name by the same person within a few minutes returns the first
// club instead of creating another.
func (s *Service) CreateClub(ctx context.Context, actor Actor, name string) (Club, error) {
	name, err := ValidateClubName(name)
	if err != nil {
		return Club{}, err
	}
	// One create per person at a time, across every instance, so that a
	// double submit finds the first club.
	unlock, err := s.dir.Lock(ctx, "create\x00"+actor.UserID)
	if err != nil {
		return Club{}, fmt.Errorf("club: create club: %w", err)
	}
	defer unlock()
	if c, err := s.dir.RecentClubByCreator(ctx, actor.UserID, name, s.now().Add(-10*time.Minute)); err == nil {
		return c, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Club{}, fmt.Errorf("club: create club: %w", err)
	}
	c, err := s.identities.CreateClub(ctx, name)
	if err != nil {
		return Club{}, providerError("create club", err)
	}
	if err := s.dir.SaveClub(ctx, c, actor.UserID, AuditEvent{ClubCode: c.Code, ActorID: actor.UserID, ActorName: actor.Name,
		Action: ActionClubCreated, Detail: c.Name, At: s.now().UTC()}); err != nil {
		return Club{}, fmt.Errorf("club: create club: save: %w", err)
	}
	if _, err := s.identities.AddMember(ctx, c.Code, actor.UserID, []string{RoleOwner}); err != nil {
		return Club{}, providerError("create club: add owner", err)
	}
	first, last := splitName(actor.Name)
	owner := Member{ClubCode: c.Code, UserID: actor.UserID, Email: actor.Email, FirstName: first, LastName: last,
		Roles: []string{RoleOwner}, JoinedAt: s.now().UTC()}
	if err := s.dir.SaveMember(ctx, 0, owner, nil, nil); err != nil {
		return Club{}, fmt.Errorf("club: create club: save owner: %w", err)
	}
	return c, nil
}

func (s *Service) member(ctx context.Context, c Club, userID string) (Member, error) {
	m, err := s.dir.Member(ctx, c.Code, userID)
	if errors.Is(err, ErrNotFound) || (err == nil && m.Pending) {
		return Member{}, &Error{Code: ENOTFOUND, Message: "That person is not a member of this club."}
	}
	if err != nil {
		return Member{}, fmt.Errorf("club: member: %w", err)
	}
	return m, nil
}

// lockClub takes the club's lock, held by every instance while it checks
// and changes who holds which role, so that "at least one owner" is read
// and acted on as one step: two owners demoting each other at once cannot
// both succeed.
func (s *Service) lockClub(ctx context.Context, c Club) (func(), error) {
	unlock, err := s.dir.Lock(ctx, "club\x00"+c.Code)
	if err != nil {
		return nil, fmt.Errorf("club: lock club: %w", err)
	}
	return unlock, nil
}

func (s *Service) keepAnOwner(ctx context.Context, c Club) error {
	n, err := s.dir.CountWithRole(ctx, c.Code, RoleOwner)
	if err != nil {
		return fmt.Errorf("club: count owners: %w", err)
	}
	if n <= 1 {
		return &Error{Code: ECONFLICT, Message: "A club needs at least one owner. Make someone else an owner first.",
			Fields: map[string]string{"roles": "A club needs at least one owner."}}
	}
	return nil
}

// refreshClaims asks Kinde to refresh userID's claims. The portal also
// marks them stale itself, so a failure here is logged, not returned.
func (s *Service) refreshClaims(ctx context.Context, userID string) {
	if err := s.identities.RefreshClaims(ctx, userID); err != nil {
		s.logger.WarnContext(ctx, "refresh claims failed", "user_id", userID, "err", err)
	}
}

func (s *Service) event(actor Actor, c Club, action string, m Member, detail string) AuditEvent {
	return AuditEvent{ClubCode: c.Code, ActorID: actor.UserID, ActorName: actor.Name, Action: action,
		TargetID: m.UserID, TargetEmail: m.Email, Detail: detail, At: s.now().UTC()}
}

func forbiddenOwnerRole() error {
	return &Error{Code: EFORBIDDEN, Message: "Only owners can grant or remove the owner role.",
		Fields: map[string]string{"roles": "Only owners can grant or remove the owner role."}}
}

// providerError keeps an EUNAVAILABLE error as it is (its message is safe and
// tells the owner what to do) and wraps anything else.
func providerError(op string, err error) error {
	if ErrorCode(err) == EUNAVAILABLE {
		return err
	}
	return fmt.Errorf("club: %s: %w", op, err)
}
