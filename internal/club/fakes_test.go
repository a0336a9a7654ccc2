package club_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// memDirectory is an in-memory club.Directory for the service's unit tests.
type memDirectory struct {
	mu      sync.Mutex
	people  map[string]club.Person // by email
	members map[string]club.Member // by club + "/" + user id
	audit   []club.AuditEvent
	invites []club.Invitation
	// lastInvite is the latest invitation per club code + "/" + email, as
	// the outbox would report it; tests set its status.
	lastInvite map[string]club.OutboxItem
	clubs      map[string]club.Club
	creators   map[string]string // club code -> creator
	created    map[string]time.Time
	stale      map[string]time.Time
	writes     int
	version    club.Version
	locks      map[string]chan struct{} // Lock: one holder per key
}

func newMemDirectory() *memDirectory {
	return &memDirectory{people: map[string]club.Person{}, members: map[string]club.Member{}, clubs: map[string]club.Club{},
		creators: map[string]string{}, created: map[string]time.Time{}, stale: map[string]time.Time{},
		lastInvite: map[string]club.OutboxItem{}}
}

func (d *memDirectory) PersonByEmail(_ context.Context, email string) (club.Person, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.people[email]; ok {
		return p, nil
	}
	return club.Person{}, fmt.Errorf("mem: person: %w", club.ErrNotFound)
}

func (d *memDirectory) Member(_ context.Context, code, userID string) (club.Member, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if m, ok := d.members[code+"/"+userID]; ok {
		return m, nil
	}
	return club.Member{}, fmt.Errorf("mem: member: %w", club.ErrNotFound)
}

func (d *memDirectory) Members(_ context.Context, code string, q club.MemberQuery) (club.MemberPage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []club.Member
	for _, m := range d.members {
		if m.ClubCode == code && !m.Pending && strings.Contains(strings.ToLower(m.Name()+" "+m.Email), strings.ToLower(q.Search)) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b club.Member) int { return strings.Compare(a.Email, b.Email) })
	return club.MemberPage{Members: out, Total: len(out)}, nil
}

func (d *memDirectory) CountWithRole(_ context.Context, code, role string) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, m := range d.members {
		if m.ClubCode == code && !m.Pending && m.HasRole(role) {
			n++
		}
	}
	return n, nil
}

func (d *memDirectory) SaveMember(_ context.Context, _ club.Version, m club.Member, ev *club.AuditEvent, inv *club.Invitation) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	d.people[m.Email] = club.Person{ID: m.UserID, Email: m.Email}
	d.members[m.ClubCode+"/"+m.UserID] = m
	if ev != nil {
		d.audit = append(d.audit, *ev)
	}
	if inv != nil {
		d.queue(*inv)
	}
	return nil
}

// queue records inv as sent to the outbox; d.mu is held.
func (d *memDirectory) queue(inv club.Invitation) {
	d.invites = append(d.invites, inv)
	d.lastInvite[inv.ClubCode+"/"+inv.Email] = club.OutboxItem{ID: int64(len(d.invites)), Invitation: inv, Status: club.InvitationQueued}
}

func (d *memDirectory) QueueInvitation(_ context.Context, userID string, inv club.Invitation, ev club.AuditEvent, allow func(club.OutboxItem) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if m, ok := d.members[inv.ClubCode+"/"+userID]; !ok || m.Pending {
		return fmt.Errorf("mem: queue invitation: %w", club.ErrNotFound)
	}
	if err := allow(d.lastInvite[inv.ClubCode+"/"+inv.Email]); err != nil {
		return err
	}
	d.writes++
	d.queue(inv)
	d.audit = append(d.audit, ev)
	return nil
}

func (d *memDirectory) DeleteMember(_ context.Context, _ club.Version, code, userID string, ev club.AuditEvent) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	delete(d.members, code+"/"+userID)
	d.audit = append(d.audit, ev)
	return nil
}

func (d *memDirectory) ReplaceMembers(_ context.Context, c club.Club, ms []club.Member, _ club.Version, _ time.Time, event func(club.SyncChanges) *club.AuditEvent) (club.SyncChanges, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	var changes club.SyncChanges
	listed := map[string]bool{}
	for _, m := range ms {
		listed[m.UserID] = true
		old, ok := d.members[c.Code+"/"+m.UserID]
		changes.Count(old, ok, m)
	}
	for k, m := range d.members {
		if m.ClubCode == c.Code {
			if !m.Pending && !listed[m.UserID] {
				changes.Left++
			}
			delete(d.members, k)
		}
	}
	for _, m := range ms {
		d.members[c.Code+"/"+m.UserID] = m
		d.people[m.Email] = club.Person{ID: m.UserID, Email: m.Email}
	}
	if ev := event(changes); ev != nil {
		d.audit = append(d.audit, *ev)
	}
	return changes, nil
}

func (d *memDirectory) SaveClub(_ context.Context, c club.Club, creator string, ev club.AuditEvent) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	d.clubs[c.Code] = c
	d.creators[c.Code] = creator
	d.created[c.Code] = ev.At
	d.audit = append(d.audit, ev)
	return nil
}

func (d *memDirectory) RenameClub(_ context.Context, c club.Club, ev club.AuditEvent) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	d.clubs[c.Code] = c
	d.audit = append(d.audit, ev)
	return nil
}

func (d *memDirectory) RecentClubByCreator(_ context.Context, creator, name string, since time.Time) (club.Club, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for code, c := range d.clubs {
		if d.creators[code] == creator && c.Name == name && !d.created[code].Before(since) {
			return c, nil
		}
	}
	return club.Club{}, fmt.Errorf("mem: recent club: %w", club.ErrNotFound)
}

func (d *memDirectory) MarkClaimsStale(_ context.Context, userID string, at time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stale[userID] = at
	return nil
}

func (d *memDirectory) auditActions() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, ev := range d.audit {
		out = append(out, ev.Action)
	}
	return out
}

// fakeIdentities is a small in-memory Kinde with call counting and per-call
// fault hooks, for the service's unit tests. The real-emulator tests live in
// service_emulator_test.go.
type fakeIdentities struct {
	mu      sync.Mutex
	users   map[string]club.Person         // by email
	orgs    map[string]map[string][]string // org -> user id -> roles
	calls   map[string]int
	nextID  int
	fail    map[string]error // method -> error returned once
	onCall  func(method string)
	clubSeq int
	names   map[string]string // club code -> name given by RenameClub
}

func newFakeIdentities() *fakeIdentities {
	return &fakeIdentities{users: map[string]club.Person{}, orgs: map[string]map[string][]string{}, calls: map[string]int{}, fail: map[string]error{}}
}

func (k *fakeIdentities) call(method string) error {
	k.mu.Lock()
	k.calls[method]++
	err := k.fail[method]
	delete(k.fail, method)
	hook := k.onCall
	k.mu.Unlock()
	if hook != nil {
		hook(method)
	}
	return err
}

func (k *fakeIdentities) total() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, c := range k.calls {
		n += c
	}
	return n
}

func (k *fakeIdentities) seedPerson(email string, orgs ...string) club.Person {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.nextID++
	p := club.Person{ID: fmt.Sprintf("kp_%032x", k.nextID), Email: email}
	k.users[email] = p
	for _, o := range orgs {
		k.org(o)[p.ID] = []string{club.RoleMember}
	}
	return p
}

func (k *fakeIdentities) org(code string) map[string][]string {
	if k.orgs[code] == nil {
		k.orgs[code] = map[string][]string{}
	}
	return k.orgs[code]
}

func (k *fakeIdentities) rolesOf(code, id string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	r := slices.Clone(k.orgs[code][id])
	slices.Sort(r)
	return r
}

func (k *fakeIdentities) FindPersonByEmail(_ context.Context, email string) (club.Person, error) {
	if err := k.call("FindPersonByEmail"); err != nil {
		return club.Person{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if p, ok := k.users[email]; ok {
		return p, nil
	}
	return club.Person{}, fmt.Errorf("fake: %w", club.ErrNotFound)
}

func (k *fakeIdentities) CreatePerson(_ context.Context, p club.Person, code string) (club.Person, error) {
	if err := k.call("CreatePerson"); err != nil {
		return club.Person{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.users[p.Email]; ok {
		return club.Person{}, club.ErrEmailInUse
	}
	k.nextID++
	p.ID = fmt.Sprintf("kp_%032x", k.nextID)
	k.users[p.Email] = p
	k.org(code)[p.ID] = []string{}
	return p, nil
}

func (k *fakeIdentities) AddMember(_ context.Context, code, id string, roles []string) (bool, error) {
	if err := k.call("AddMember"); err != nil {
		return false, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.org(code)[id]; ok {
		return false, nil
	}
	k.org(code)[id] = slices.Clone(roles)
	return true, nil
}

func (k *fakeIdentities) GrantRoles(_ context.Context, code, id string, roles []string) error {
	if err := k.call("GrantRoles"); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	have := k.org(code)[id]
	for _, r := range roles {
		if !slices.Contains(have, r) {
			have = append(have, r)
		}
	}
	k.org(code)[id] = have
	return nil
}

func (k *fakeIdentities) RevokeRole(_ context.Context, code, id, role string) error {
	if err := k.call("RevokeRole"); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.org(code)[id] = slices.DeleteFunc(k.org(code)[id], func(r string) bool { return r == role })
	return nil
}

func (k *fakeIdentities) MemberRoles(_ context.Context, code, id string) ([]string, error) {
	if err := k.call("MemberRoles"); err != nil {
		return nil, err
	}
	return k.rolesOf(code, id), nil
}

func (k *fakeIdentities) RemoveMember(_ context.Context, code, id string) error {
	if err := k.call("RemoveMember"); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.org(code), id)
	return nil
}

func (k *fakeIdentities) RefreshClaims(context.Context, string) error { return k.call("RefreshClaims") }

func (k *fakeIdentities) CreateClub(_ context.Context, name string) (club.Club, error) {
	if err := k.call("CreateClub"); err != nil {
		return club.Club{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.clubSeq++
	c := club.Club{Code: fmt.Sprintf("org_%011x", k.clubSeq), Name: name}
	k.org(c.Code)
	return c, nil
}

func (k *fakeIdentities) RenameClub(_ context.Context, code, name string) error {
	if err := k.call("RenameClub"); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.names == nil {
		k.names = map[string]string{}
	}
	k.names[code] = name
	return nil
}

func (k *fakeIdentities) ClubMembers(_ context.Context, code string) ([]club.Member, error) {
	if err := k.call("ClubMembers"); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []club.Member
	for id, roles := range k.org(code) {
		for email, p := range k.users {
			if p.ID == id {
				out = append(out, club.Member{UserID: id, Email: email, Roles: slices.Clone(roles)})
			}
		}
	}
	return out, nil
}

func (k *fakeIdentities) Roles(context.Context) ([]club.Role, error) { return testRoles, nil }

var testRoles = []club.Role{
	{Key: club.RoleAdmin, Name: "Admin"}, {Key: club.RoleCoach, Name: "Coach"},
	{Key: club.RoleMember, Name: "Member"}, {Key: club.RoleOwner, Name: "Owner"},
}

// The ordered-write half of club.Directory. The fake applies everything in
// call order; the store's suite proves the ordering itself.

func (d *memDirectory) BeginRead(context.Context) (club.Version, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.version++
	return d.version, nil
}

func (d *memDirectory) ApplyPerson(_ context.Context, _ club.Version, f club.PersonFacts) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	for k, m := range d.members {
		if m.UserID != f.Person.ID {
			continue
		}
		roles, in := f.Clubs[m.ClubCode]
		switch {
		case f.Gone || !in:
			delete(d.members, k)
		default:
			m.Roles = slices.Sorted(slices.Values(roles))
			d.members[k] = m
		}
	}
	return false, nil
}

func (d *memDirectory) ApplyClub(_ context.Context, _ club.Version, c club.Club, deleted bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	if deleted {
		delete(d.clubs, c.Code)
		return nil
	}
	d.clubs[c.Code] = c
	return nil
}

func (d *memDirectory) KeptClubs(_ context.Context, codes []string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, code := range codes {
		_, known := d.clubs[code]
		for _, m := range d.members {
			known = known || m.ClubCode == code
		}
		if known {
			out = append(out, code)
		}
	}
	return out, nil
}

func (d *memDirectory) StartAdd(context.Context, string, string) error    { return nil }
func (d *memDirectory) StartChange(context.Context, string, string) error { return nil }

func (d *memDirectory) FinishAdd(_ context.Context, _ club.Version, m club.Member, ev club.AuditEvent, inv *club.Invitation) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur, ok := d.members[m.ClubCode+"/"+m.UserID]; ok && !cur.Pending {
		return false, nil
	}
	d.writes++
	d.people[m.Email] = club.Person{ID: m.UserID, Email: m.Email}
	d.members[m.ClubCode+"/"+m.UserID] = m
	d.audit = append(d.audit, ev)
	if inv != nil {
		d.queue(*inv)
	}
	return true, nil
}

func (d *memDirectory) Lock(ctx context.Context, key string) (func(), error) {
	d.mu.Lock()
	if d.locks == nil {
		d.locks = map[string]chan struct{}{}
	}
	ch := d.locks[key]
	if ch == nil {
		ch = make(chan struct{}, 1)
		d.locks[key] = ch
	}
	d.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (k *fakeIdentities) PersonClubs(_ context.Context, id string) (club.Person, []string, error) {
	if err := k.call("PersonClubs"); err != nil {
		return club.Person{}, nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, p := range k.users {
		if p.ID != id {
			continue
		}
		var codes []string
		for code, ms := range k.orgs {
			if _, ok := ms[id]; ok {
				codes = append(codes, code)
			}
		}
		slices.Sort(codes)
		return p, codes, nil
	}
	return club.Person{}, nil, fmt.Errorf("fake: person: %w", club.ErrNotFound)
}

func (k *fakeIdentities) Club(_ context.Context, code string) (club.Club, error) {
	if err := k.call("Club"); err != nil {
		return club.Club{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.orgs[code]; !ok {
		return club.Club{}, fmt.Errorf("fake: club: %w", club.ErrNotFound)
	}
	return club.Club{Code: code, Name: k.names[code]}, nil
}
