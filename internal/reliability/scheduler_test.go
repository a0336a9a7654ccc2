package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// A cooperative scheduler: every operation of a schedule runs in its own
// goroutine, but only one runs at a time. An operation pauses at each
// yield point (before every Kinde call and every directory write, and
// before taking a lock); the scheduler then picks, with its seeded random
// source, which paused operation goes on, or starts a new one. So a seed
// is one interleaving, the same on every run and on a busy machine.

type task struct {
	name     string
	resume   chan struct{}
	wantLock string // paused until this lock is free
}

type scheduler struct {
	rng *rand.Rand

	mu      sync.Mutex
	paused  []*task          // waiting for their turn
	held    map[string]*task // lock key -> holder
	events  chan struct{}    // the running task paused or finished
	failure error
	trace   []string // every step, for a failure's report
}

func newScheduler(seed uint64) *scheduler {
	return &scheduler{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), held: map[string]*task{},
		events: make(chan struct{})}
}

type taskKey struct{}

// start runs fn as a new task and returns once it paused or finished.
func (s *scheduler) start(ctx context.Context, name string, fn func(ctx context.Context) error) {
	t := &task{name: name, resume: make(chan struct{})}
	go func() {
		err := fn(context.WithValue(ctx, taskKey{}, t))
		s.mu.Lock()
		if err != nil && s.failure == nil {
			s.failure = fmt.Errorf("%s: %w", name, err)
		}
		s.mu.Unlock()
		s.events <- struct{}{}
	}()
	<-s.events
}

// yield pauses the calling task until the scheduler picks it again. Code
// not run by a task (set-up, checks) does not pause.
func (s *scheduler) yield(ctx context.Context, wantLock, what string) {
	t, ok := ctx.Value(taskKey{}).(*task)
	if !ok {
		return
	}
	s.mu.Lock()
	t.wantLock = wantLock
	s.trace = append(s.trace, t.name+": before "+what)
	s.paused = append(s.paused, t)
	s.mu.Unlock()
	s.events <- struct{}{}
	<-t.resume
}

// runnable lists the paused tasks that can go on: every lock they wait for
// is free.
func (s *scheduler) runnable() []*task {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*task
	for _, t := range s.paused {
		if t.wantLock == "" || s.held[t.wantLock] == nil {
			out = append(out, t)
		}
	}
	return out
}

// resume lets t go on and returns once it paused again or finished.
func (s *scheduler) resume(t *task) {
	s.mu.Lock()
	s.paused = slices.DeleteFunc(s.paused, func(p *task) bool { return p == t })
	s.mu.Unlock()
	t.resume <- struct{}{}
	<-s.events
}

func (s *scheduler) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.paused) == 0
}

// fail records err as the schedule's failure, unless one is recorded.
func (s *scheduler) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failure == nil {
		s.failure = err
	}
}

func (s *scheduler) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

// lock records that the running task holds key, once the real lock was
// taken; unlock forgets it once the real lock was let go.
func (s *scheduler) lock(ctx context.Context, key string) {
	t, ok := ctx.Value(taskKey{}).(*task)
	if !ok {
		return
	}
	s.mu.Lock()
	s.held[key] = t
	s.mu.Unlock()
}

func (s *scheduler) unlock(key string) {
	s.mu.Lock()
	delete(s.held, key)
	s.mu.Unlock()
}

// pausingIdentities is the Identities port with a yield point before every call, and
// a hook after every call that changed Kinde.
type pausingIdentities struct {
	club.Identities
	s       *scheduler
	changed func(clubCode, userID string)
}

func (k pausingIdentities) FindPersonByEmail(ctx context.Context, email string) (club.Person, error) {
	k.s.yield(ctx, "", "FindPersonByEmail")
	return k.Identities.FindPersonByEmail(ctx, email)
}

func (k pausingIdentities) CreatePerson(ctx context.Context, p club.Person, code string) (club.Person, error) {
	k.s.yield(ctx, "", "CreatePerson")
	got, err := k.Identities.CreatePerson(ctx, p, code)
	if err == nil {
		k.changed(code, got.ID)
	}
	return got, err
}

func (k pausingIdentities) AddMember(ctx context.Context, code, id string, roles []string) (bool, error) {
	k.s.yield(ctx, "", "AddMember")
	added, err := k.Identities.AddMember(ctx, code, id, roles)
	k.changed(code, id)
	return added, err
}

func (k pausingIdentities) GrantRoles(ctx context.Context, code, id string, roles []string) error {
	k.s.yield(ctx, "", "GrantRoles")
	err := k.Identities.GrantRoles(ctx, code, id, roles)
	k.changed(code, id)
	return err
}

func (k pausingIdentities) RevokeRole(ctx context.Context, code, id, role string) error {
	k.s.yield(ctx, "", "RevokeRole")
	err := k.Identities.RevokeRole(ctx, code, id, role)
	k.changed(code, id)
	return err
}

func (k pausingIdentities) RemoveMember(ctx context.Context, code, id string) error {
	k.s.yield(ctx, "", "RemoveMember")
	err := k.Identities.RemoveMember(ctx, code, id)
	k.changed(code, id)
	return err
}

func (k pausingIdentities) MemberRoles(ctx context.Context, code, id string) ([]string, error) {
	k.s.yield(ctx, "", "MemberRoles")
	return k.Identities.MemberRoles(ctx, code, id)
}

func (k pausingIdentities) PersonClubs(ctx context.Context, id string) (club.Person, []string, error) {
	k.s.yield(ctx, "", "PersonClubs")
	return k.Identities.PersonClubs(ctx, id)
}

func (k pausingIdentities) ClubMembers(ctx context.Context, code string) ([]club.Member, error) {
	k.s.yield(ctx, "", "ClubMembers")
	return k.Identities.ClubMembers(ctx, code)
}

// pausingDirectory is the directory with a yield point before every
// write, and locks the scheduler knows of, so that it never resumes a task
// that would wait for a lock another paused task holds.
type pausingDirectory struct {
	club.Directory
	s *scheduler
}

func (d pausingDirectory) Lock(ctx context.Context, key string) (func(), error) {
	d.s.yield(ctx, key, "Lock "+key)
	unlock, err := d.Directory.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	d.s.lock(ctx, key)
	return func() {
		unlock()
		d.s.unlock(key)
	}, nil
}

func (d pausingDirectory) BeginRead(ctx context.Context) (club.Version, error) {
	d.s.yield(ctx, "", "BeginRead")
	return d.Directory.BeginRead(ctx)
}

func (d pausingDirectory) SaveMember(ctx context.Context, v club.Version, m club.Member, ev *club.AuditEvent, inv *club.Invitation) error {
	d.s.yield(ctx, "", "SaveMember")
	return d.Directory.SaveMember(ctx, v, m, ev, inv)
}

func (d pausingDirectory) DeleteMember(ctx context.Context, v club.Version, code, id string, ev club.AuditEvent) error {
	d.s.yield(ctx, "", "DeleteMember")
	return d.Directory.DeleteMember(ctx, v, code, id, ev)
}

func (d pausingDirectory) ReplaceMembers(ctx context.Context, c club.Club, ms []club.Member, v club.Version, at time.Time, ev func(club.SyncChanges) *club.AuditEvent) (club.SyncChanges, error) {
	d.s.yield(ctx, "", "ReplaceMembers")
	return d.Directory.ReplaceMembers(ctx, c, ms, v, at, ev)
}

func (d pausingDirectory) ApplyPerson(ctx context.Context, v club.Version, f club.PersonFacts) (bool, error) {
	d.s.yield(ctx, "", "ApplyPerson")
	return d.Directory.ApplyPerson(ctx, v, f)
}

func (d pausingDirectory) StartAdd(ctx context.Context, code, email string) error {
	d.s.yield(ctx, "", "StartAdd")
	return d.Directory.StartAdd(ctx, code, email)
}

func (d pausingDirectory) FinishAdd(ctx context.Context, v club.Version, m club.Member, ev club.AuditEvent, inv *club.Invitation) (bool, error) {
	d.s.yield(ctx, "", "FinishAdd")
	return d.Directory.FinishAdd(ctx, v, m, ev, inv)
}

func (d pausingDirectory) StartChange(ctx context.Context, code, userID string) error {
	d.s.yield(ctx, "", "StartChange")
	return d.Directory.StartChange(ctx, code, userID)
}
