package web

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// memDirectory is an in-memory club.Directory that counts its writes.
type memDirectory struct {
	mu      sync.Mutex
	people  map[string]club.Person // by email
	members map[string]club.Member // by club + "/" + user id
	clubs   map[string]club.Club
	stale   map[string]time.Time
	audit   []club.AuditEvent
	// outbox is every invitation queued, oldest first; tests set statuses.
	outbox  []club.OutboxItem
	writes  atomic.Int64
	version atomic.Int64
	locks   sync.Map // key -> chan struct{}: one holder per key
}

func newMemDirectory() *memDirectory {
	return &memDirectory{people: map[string]club.Person{}, members: map[string]club.Member{},
		clubs: map[string]club.Club{}, stale: map[string]time.Time{}}
}

func (d *memDirectory) add(m club.Member) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.people[m.Email] = club.Person{ID: m.UserID, Email: m.Email, FirstName: m.FirstName, LastName: m.LastName}
	d.members[m.ClubCode+"/"+m.UserID] = m
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
	clubTotal := 0
	for _, m := range d.members {
		if m.ClubCode == code && !m.Pending {
			clubTotal++
		}
		if m.ClubCode == code && !m.Pending && strings.Contains(strings.ToLower(m.Name()+" "+m.Email), strings.ToLower(q.Search)) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b club.Member) int {
		switch q.Sort {
		case club.SortNameDesc:
			return strings.Compare(b.Name(), a.Name())
		case club.SortJoinedAsc:
			return a.JoinedAt.Compare(b.JoinedAt)
		case club.SortJoinedDesc:
			return b.JoinedAt.Compare(a.JoinedAt)
		}
		return strings.Compare(a.Name(), b.Name())
	})
	total := len(out)
	lo := min(q.Offset, total)
	hi := min(lo+q.Limit, total)
	return club.MemberPage{Members: out[lo:hi], Total: total, ClubTotal: clubTotal}, nil
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

// MembersWithRole is the web.RoleHolders of internal/store: up to limit
// (clamped to 1..100) of the club's members, pending ones excluded, who
// hold roleKey, by name.
func (d *memDirectory) MembersWithRole(_ context.Context, code, roleKey string, limit int) ([]club.Member, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := []club.Member{}
	for _, m := range d.members {
		if m.ClubCode == code && !m.Pending && m.HasRole(roleKey) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b club.Member) int {
		return cmp.Or(strings.Compare(a.Name(), b.Name()), strings.Compare(a.UserID, b.UserID))
	})
	return out[:min(limit, len(out))], nil
}

func (d *memDirectory) SaveMember(_ context.Context, _ club.Version, m club.Member, ev *club.AuditEvent, inv *club.Invitation) error {
	d.writes.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
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

// queue adds inv to the outbox; d.mu is held.
func (d *memDirectory) queue(inv club.Invitation) {
	d.outbox = append(d.outbox, club.OutboxItem{ID: int64(len(d.outbox) + 1), Invitation: inv, Status: club.InvitationQueued, CreatedAt: t0})
}

// setInvitation changes the outbox item id as a mail worker would.
func (d *memDirectory) setInvitation(id int64, change func(*club.OutboxItem)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	change(&d.outbox[id-1])
}

func (d *memDirectory) invitations() []club.OutboxItem {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.outbox)
}

// latestInvitation returns the newest outbox item to email in the club;
// d.mu is held.
func (d *memDirectory) latestInvitation(code, email string) (club.OutboxItem, bool) {
	for i := len(d.outbox) - 1; i >= 0; i-- {
		if it := d.outbox[i]; it.Invitation.ClubCode == code && it.Invitation.Email == email {
			return it, true
		}
	}
	return club.OutboxItem{}, false
}

// memberByEmail returns the listed member of the club with email; d.mu is
// held.
func (d *memDirectory) memberByEmail(code, email string) (club.Member, bool) {
	p, ok := d.people[email]
	if !ok {
		return club.Member{}, false
	}
	m, ok := d.members[code+"/"+p.ID]
	return m, ok && !m.Pending
}

func (d *memDirectory) QueueInvitation(_ context.Context, userID string, inv club.Invitation, ev club.AuditEvent, allow func(club.OutboxItem) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if m, ok := d.members[inv.ClubCode+"/"+userID]; !ok || m.Pending {
		return fmt.Errorf("mem: queue invitation: %w", club.ErrNotFound)
	}
	last, _ := d.latestInvitation(inv.ClubCode, inv.Email)
	if err := allow(last); err != nil {
		return err
	}
	d.writes.Add(1)
	d.queue(inv)
	d.audit = append(d.audit, ev)
	return nil
}

func (d *memDirectory) ClubInvitations(_ context.Context, code string, offset, limit int) (club.InvitationPage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	page := club.InvitationPage{Items: []club.ClubInvitation{}}
	for i := len(d.outbox) - 1; i >= 0; i-- {
		it := d.outbox[i]
		if it.Invitation.ClubCode != code {
			continue
		}
		page.Total++
		if page.Total <= offset || len(page.Items) >= limit {
			continue
		}
		ci := club.ClubInvitation{OutboxItem: it}
		if m, ok := d.memberByEmail(code, it.Invitation.Email); ok {
			ci.MemberID = m.UserID
		}
		latest, _ := d.latestInvitation(code, it.Invitation.Email)
		ci.Superseded = latest.ID != it.ID
		page.Items = append(page.Items, ci)
	}
	return page, nil
}

func (d *memDirectory) FailedInvitations(_ context.Context, code string) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	seen := map[string]bool{}
	for i := len(d.outbox) - 1; i >= 0; i-- {
		it := d.outbox[i]
		if it.Invitation.ClubCode != code || seen[it.Invitation.Email] {
			continue
		}
		seen[it.Invitation.Email] = true
		if _, ok := d.memberByEmail(code, it.Invitation.Email); ok && it.Status == club.InvitationFailed {
			n++
		}
	}
	return n, nil
}

func (d *memDirectory) DeleteMember(_ context.Context, _ club.Version, code, userID string, ev club.AuditEvent) error {
	d.writes.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.members, code+"/"+userID)
	d.audit = append(d.audit, ev)
	return nil
}

func (d *memDirectory) ReplaceMembers(_ context.Context, c club.Club, ms []club.Member, _ club.Version, _ time.Time, event func(club.SyncChanges) *club.AuditEvent) (club.SyncChanges, error) {
	d.writes.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	changes := syncChanges(d.members, c.Code, ms)
	maps.DeleteFunc(d.members, func(_ string, m club.Member) bool { return m.ClubCode == c.Code })
	for _, m := range ms {
		d.members[c.Code+"/"+m.UserID] = m
	}
	if ev := event(changes); ev != nil {
		d.audit = append(d.audit, *ev)
	}
	return changes, nil
}

// syncChanges is what replacing the club's members in cur (keyed by club
// code + "/" + user id) with ms changes, pending memberships aside.
func syncChanges(cur map[string]club.Member, code string, ms []club.Member) club.SyncChanges {
	var ch club.SyncChanges
	listed := map[string]bool{}
	for _, m := range ms {
		listed[m.UserID] = true
		old, ok := cur[code+"/"+m.UserID]
		ch.Count(old, ok, m)
	}
	for _, m := range cur {
		if m.ClubCode == code && !m.Pending && !listed[m.UserID] {
			ch.Left++
		}
	}
	return ch
}

func (d *memDirectory) SaveClub(_ context.Context, c club.Club, _ string, ev club.AuditEvent) error {
	d.writes.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clubs[c.Code] = c
	d.audit = append(d.audit, ev)
	return nil
}

func (d *memDirectory) RenameClub(_ context.Context, c club.Club, ev club.AuditEvent) error {
	return d.SaveClub(context.Background(), c, "", ev)
}

func (d *memDirectory) RecentClubByCreator(context.Context, string, string, time.Time) (club.Club, error) {
	return club.Club{}, fmt.Errorf("mem: club: %w", club.ErrNotFound)
}

func (d *memDirectory) MarkClaimsStale(_ context.Context, userID string, at time.Time) error {
	d.writes.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stale[userID] = at
	return nil
}

// fakeIdentities is a club.Identities whose methods are function fields;
// unset ones fail the call. It counts every call.
type fakeIdentities struct {
	calls            atomic.Int64
	FindPersonFunc   func(email string) (club.Person, error)
	CreatePersonFunc func(p club.Person, code string) (club.Person, error)
	AddMemberFunc    func(code, userID string, roles []string) (bool, error)
	GrantRolesFunc   func(code, userID string, roles []string) error
	CreateClubFunc   func(name string) (club.Club, error)
	RenameClubFunc   func(code, name string) error
	ClubMembersFunc  func(code string) ([]club.Member, error)
}

var errNotFaked = fmt.Errorf("fake kinde: %w", club.ErrUnavailable)

func (k *fakeIdentities) FindPersonByEmail(_ context.Context, email string) (club.Person, error) {
	k.calls.Add(1)
	if k.FindPersonFunc == nil {
		return club.Person{}, fmt.Errorf("fake: %w", club.ErrNotFound)
	}
	return k.FindPersonFunc(email)
}

func (k *fakeIdentities) CreatePerson(_ context.Context, p club.Person, code string) (club.Person, error) {
	k.calls.Add(1)
	if k.CreatePersonFunc == nil {
		return club.Person{}, errNotFaked
	}
	return k.CreatePersonFunc(p, code)
}

func (k *fakeIdentities) AddMember(_ context.Context, code, userID string, roles []string) (bool, error) {
	k.calls.Add(1)
	if k.AddMemberFunc == nil {
		return true, nil
	}
	return k.AddMemberFunc(code, userID, roles)
}

func (k *fakeIdentities) GrantRoles(_ context.Context, code, userID string, roles []string) error {
	k.calls.Add(1)
	if k.GrantRolesFunc == nil {
		return nil
	}
	return k.GrantRolesFunc(code, userID, roles)
}

func (k *fakeIdentities) RevokeRole(context.Context, string, string, string) error {
	k.calls.Add(1)
	return nil
}

func (k *fakeIdentities) MemberRoles(context.Context, string, string) ([]string, error) {
	k.calls.Add(1)
	return []string{club.RoleMember}, nil
}

func (k *fakeIdentities) RemoveMember(context.Context, string, string) error {
	k.calls.Add(1)
	return nil
}

func (k *fakeIdentities) RefreshClaims(context.Context, string) error {
	k.calls.Add(1)
	return nil
}

func (k *fakeIdentities) CreateClub(_ context.Context, name string) (club.Club, error) {
	k.calls.Add(1)
	if k.CreateClubFunc == nil {
		return club.Club{}, errNotFaked
	}
	return k.CreateClubFunc(name)
}

func (k *fakeIdentities) RenameClub(_ context.Context, code, name string) error {
	k.calls.Add(1)
	if k.RenameClubFunc == nil {
		return errNotFaked
	}
	return k.RenameClubFunc(code, name)
}

func (k *fakeIdentities) ClubMembers(_ context.Context, code string) ([]club.Member, error) {
	k.calls.Add(1)
	if k.ClubMembersFunc == nil {
		return nil, errNotFaked
	}
	return k.ClubMembersFunc(code)
}

func (k *fakeIdentities) Roles(context.Context) ([]club.Role, error) {
	k.calls.Add(1)
	return testRoles, nil
}

var testRoles = []club.Role{
	{ID: "r1", Key: club.RoleOwner, Name: "Owner"},
	{ID: "r2", Key: club.RoleAdmin, Name: "Admin"},
	{ID: "r3", Key: club.RoleCoach, Name: "Coach"},
	{ID: "r4", Key: club.RoleMember, Name: "Member"},
	{ID: "r5", Key: "staff", Name: "Staff"},
}

// fakeAuth is an Authenticator with function fields and call counters.
type fakeAuth struct {
	refreshes atomic.Int64
	exchanges atomic.Int64
	Exchange_ func(code, verifier, nonce string) (club.Identity, club.Tokens, error)
	Refresh_  func(t club.Tokens) (club.Identity, club.Tokens, error)
	mu        sync.Mutex
	lastReq   club.SignInRequest
}

func (a *fakeAuth) AuthCodeURL(state, nonce, verifier string, req club.SignInRequest) string {
	a.mu.Lock()
	a.lastReq = req
	a.mu.Unlock()
	q := "state=" + state + "&nonce=" + nonce + "&verifier=" + verifier
	if req.ClubCode != "" {
		q += "&org_code=" + req.ClubCode
	}
	if req.Prompt != "" {
		q += "&prompt=" + req.Prompt
	}
	return "https://kinde.test/oauth2/auth?" + q
}

func (a *fakeAuth) last() club.SignInRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastReq
}

func (a *fakeAuth) Exchange(_ context.Context, code, verifier, nonce string) (club.Identity, club.Tokens, error) {
	a.exchanges.Add(1)
	return a.Exchange_(code, verifier, nonce)
}

func (a *fakeAuth) Refresh(_ context.Context, t club.Tokens) (club.Identity, club.Tokens, error) {
	a.refreshes.Add(1)
	if a.Refresh_ == nil {
		return club.Identity{}, club.Tokens{}, club.ErrSessionEnded
	}
	return a.Refresh_(t)
}

func (a *fakeAuth) LogoutURL(returnTo string) string {
	return "https://kinde.test/logout?redirect=" + returnTo
}

// fakeRoles lists testRoles.
type fakeRoles struct{ calls atomic.Int64 }

func (f *fakeRoles) Roles(context.Context) ([]club.Role, error) {
	f.calls.Add(1)
	return slices.Clone(testRoles), nil
}

// fakeFresh answers freshness from maps.
type fakeFresh struct {
	mu     sync.Mutex
	stale  map[string]time.Time
	synced time.Time
	reads  atomic.Int64
}

func (f *fakeFresh) ClaimsStaleSince(_ context.Context, userID string) (time.Time, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stale[userID], nil
}

func (f *fakeFresh) LastSynced(context.Context, string) (time.Time, error) {
	return f.synced, nil
}

func (f *fakeFresh) markStale(userID string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stale == nil {
		f.stale = map[string]time.Time{}
	}
	f.stale[userID] = at
}

// memRecords is an in-memory session.Records. Like the store, it saves
// only over the version loaded and never writes an ended id again.
type memRecords struct {
	mu    sync.Mutex
	rows  map[string]memRow
	ended map[string]bool
}

type memRow struct {
	data    []byte
	expires time.Time
	version int64
}

func newMemRecords() *memRecords {
	return &memRecords{rows: map[string]memRow{}, ended: map[string]bool{}}
}

func (m *memRecords) LoadSession(_ context.Context, id string) ([]byte, time.Time, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rows[id]
	if !ok {
		return nil, time.Time{}, 0, fmt.Errorf("mem: session: %w", club.ErrNotFound)
	}
	return r.data, r.expires, r.version, nil
}

func (m *memRecords) SaveSession(_ context.Context, id string, data []byte, expires time.Time, version int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	// A missing row is at version 0, so only a new id creates one.
	if m.ended[id] || m.rows[id].version != version {
		return club.Errorf(club.ECONFLICT, "mem: stale session")
	}
	m.rows[id] = memRow{data: slices.Clone(data), expires: expires, version: version + 1}
	return nil
}

func (m *memRecords) DeleteSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rows, id)
	m.ended[id] = true
	return nil
}

func (m *memRecords) has(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.rows[id]
	return ok
}

// memAudit is an in-memory club.AuditLog.
type memAudit struct {
	mu     sync.Mutex
	events []club.AuditEvent
}

func (a *memAudit) Append(_ context.Context, ev club.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, ev)
	return nil
}

func (a *memAudit) Events(_ context.Context, q club.AuditQuery) (club.AuditPage, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []club.AuditEvent
	for i := len(a.events) - 1; i >= 0; i-- {
		ev := a.events[i]
		if (q.ClubCode == "" || ev.ClubCode == q.ClubCode) && (q.Person == "" || ev.ActorID == q.Person || ev.TargetID == q.Person) {
			out = append(out, ev)
		}
	}
	total := len(out)
	lo := min(q.Offset, total)
	hi := min(lo+q.Limit, total)
	return club.AuditPage{Events: out[lo:hi], Total: total}, nil
}

// memMailbox is an in-memory club.DevMailbox.
type memMailbox struct {
	mu   sync.Mutex
	mail []club.Mail
}

func (m *memMailbox) Deliver(_ context.Context, mail club.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mail.ID = int64(len(m.mail) + 1)
	m.mail = append(m.mail, mail)
	return nil
}

func (m *memMailbox) Messages(_ context.Context, limit int) ([]club.Mail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.mail)
	slices.Reverse(out)
	return out[:min(limit, len(out))], nil
}

func (m *memMailbox) Message(_ context.Context, id int64) (club.Mail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.mail {
		if x.ID == id {
			return x, nil
		}
	}
	return club.Mail{}, fmt.Errorf("mem: mail: %w", club.ErrNotFound)
}

// The ordered-write half of club.Directory; the store's suite proves the
// ordering, so the fake applies in call order.

func (d *memDirectory) BeginRead(context.Context) (club.Version, error) {
	return club.Version(d.version.Add(1)), nil
}

func (d *memDirectory) ApplyPerson(context.Context, club.Version, club.PersonFacts) (bool, error) {
	d.writes.Add(1)
	return false, nil
}

func (d *memDirectory) ApplyClub(_ context.Context, _ club.Version, c club.Club, deleted bool) error {
	d.writes.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	if deleted {
		delete(d.clubs, c.Code)
	} else {
		d.clubs[c.Code] = c
	}
	return nil
}

func (d *memDirectory) KeptClubs(_ context.Context, codes []string) ([]string, error) {
	return codes, nil
}

func (d *memDirectory) StartAdd(context.Context, string, string) error    { return nil }
func (d *memDirectory) StartChange(context.Context, string, string) error { return nil }

func (d *memDirectory) FinishAdd(_ context.Context, _ club.Version, m club.Member, ev club.AuditEvent, inv *club.Invitation) (bool, error) {
	d.mu.Lock()
	cur, ok := d.members[m.ClubCode+"/"+m.UserID]
	d.mu.Unlock()
	if ok && !cur.Pending {
		return false, nil
	}
	return true, d.SaveMember(context.Background(), 0, m, &ev, inv)
}

func (d *memDirectory) Lock(ctx context.Context, key string) (func(), error) {
	v, _ := d.locks.LoadOrStore(key, make(chan struct{}, 1))
	ch := v.(chan struct{})
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (k *fakeIdentities) PersonClubs(context.Context, string) (club.Person, []string, error) {
	k.calls.Add(1)
	return club.Person{}, nil, errNotFaked
}

func (k *fakeIdentities) Club(context.Context, string) (club.Club, error) {
	k.calls.Add(1)
	return club.Club{}, errNotFaked
}
