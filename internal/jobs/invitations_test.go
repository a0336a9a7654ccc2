package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/mail"
	"github.com/clubhouse/clubhouse/internal/store"
)

// sendFunc is a mail.Sender made of one function.
type sendFunc func(ctx context.Context, m mail.Message) error

func (f sendFunc) Send(ctx context.Context, m mail.Message) error { return f(ctx, m) }

func renderPlain(inv club.Invitation, link string) (string, string, string, error) {
	return "Welcome to " + inv.ClubName, "<a href=\"" + link + "\">Sign in</a>", link, nil
}

// mailbox is a sender that hands every email to a channel.
func mailbox() (mail.Sender, chan mail.Message) {
	sent := make(chan mail.Message, 100)
	return sendFunc(func(_ context.Context, m mail.Message) error { sent <- m; return nil }), sent
}

// refusing is a sender that counts its calls and refuses each.
func refusing(calls chan<- struct{}) mail.Sender {
	return sendFunc(func(context.Context, mail.Message) error {
		calls <- struct{}{}
		return &mail.SendError{Reason: "the mail server refused the address", Err: errors.New("550 no such user")}
	})
}

// guest is member n of org_a.
func guest(n int) club.Member {
	return club.Member{ClubCode: "org_a", UserID: fmt.Sprintf("kp_guest%d", n), Email: fmt.Sprintf("guest%d@example.org", n),
		FirstName: "Guest", LastName: fmt.Sprint(n), Roles: []string{club.RoleMember}}
}

func invitationTo(m club.Member) club.Invitation {
	return club.Invitation{ClubCode: m.ClubCode, ClubName: "Alpha", Email: m.Email, Name: m.Name(), InvitedBy: "Olga Owner"}
}

// invite adds guest n to org_a with an invitation, as an add does, and
// returns the invitation's outbox id.
func invite(t *testing.T, db *store.DB, n int) int64 {
	t.Helper()
	m := guest(n)
	ev := club.AuditEvent{ClubCode: m.ClubCode, ActorName: "Olga Owner", Action: club.ActionMemberAdded,
		TargetID: m.UserID, TargetEmail: m.Email, At: time.Now()}
	inv := invitationTo(m)
	if err := db.SaveMember(t.Context(), 0, m, &ev, &inv); err != nil {
		t.Fatalf("save member with invitation: %v", err)
	}
	items, err := db.Recent(t.Context(), m.ClubCode, 1)
	if err != nil || len(items) != 1 || items[0].Invitation.Email != m.Email {
		t.Fatalf("latest invitation = %+v, %v; want %s's", items, err, m.Email)
	}
	return items[0].ID
}

// invitationJobs lists the invitation jobs in River's table, oldest first.
func invitationJobs(t *testing.T, j *Jobs) []*rivertype.JobRow {
	t.Helper()
	res, err := j.client.JobList(t.Context(), river.NewJobListParams().Kinds(KindInvitation))
	if err != nil {
		t.Fatalf("list invitation jobs: %v", err)
	}
	return res.Jobs
}

func argsOf(t *testing.T, job *rivertype.JobRow) invitationArgs {
	t.Helper()
	var a invitationArgs
	if err := json.Unmarshal(job.EncodedArgs, &a); err != nil {
		t.Fatalf("invitation job args: %v", err)
	}
	return a
}

func outboxItem(t *testing.T, db *store.DB, id int64) club.OutboxItem {
	t.Helper()
	it, err := db.OutboxItem(t.Context(), id)
	if err != nil {
		t.Fatalf("outbox item %d: %v", id, err)
	}
	return it
}

// testInvitationJobCommitsWithRow: the invitation an add writes and its job
// are one transaction; the job is unique to the invitation, and Send again
// queues exactly one more.
func testInvitationJobCommitsWithRow(t *testing.T, d database) {
	db := openStore(t, d)
	j := newJobs(t, d, db, Handlers{DueInvitations: db.DueInvitations}, func(c *Config) { c.InvitationAttempts = 4 })
	db.SetInvitationQueue(j)
	ctx := t.Context()

	id := invite(t, db, 1)
	jobs := invitationJobs(t, j)
	if len(jobs) != 1 {
		t.Fatalf("invitation jobs = %d, want 1", len(jobs))
	}
	if got, want := argsOf(t, jobs[0]), (invitationArgs{ID: id}); got != want {
		t.Errorf("job args = %+v, want %+v", got, want)
	}
	if job := jobs[0]; job.State != rivertype.JobStateAvailable || job.MaxAttempts != 4 || job.Queue != queueMail {
		t.Errorf("job = %s in %q with %d attempts, want available in %q with 4", job.State, job.Queue, job.MaxAttempts, queueMail)
	}

	// Queuing it again (say, a transaction run again) changes nothing.
	tx, err := db.JobsDB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.EnqueueInvitationTx(ctx, tx, id); err != nil {
		t.Fatalf("enqueue again: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := len(invitationJobs(t, j)); got != 1 {
		t.Errorf("invitation jobs after queuing again = %d, want 1", got)
	}
	// Nor does the sweep, though it would number the attempts on from the
	// one recorded: the job waiting is unique by invitation.
	if ok, err := db.MarkRetry(ctx, id, 1, time.Now().Add(-time.Minute), "timeout"); err != nil || !ok {
		t.Fatalf("mark retry = %v, %v", ok, err)
	}
	if err := (&invitationSweepWorker{j: j}).Work(ctx, nil); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if jobs := invitationJobs(t, j); len(jobs) != 1 || argsOf(t, jobs[0]) != (invitationArgs{ID: id}) {
		t.Errorf("invitation jobs after a sweep = %d, want the one", len(jobs))
	}

	// Send again: refused while the first is on its way, then allowed.
	m := guest(1)
	resent := club.AuditEvent{ClubCode: m.ClubCode, ActorName: "Olga Owner", Action: club.ActionInvitationResent,
		TargetID: m.UserID, TargetEmail: m.Email, At: time.Now()}
	refused := club.Errorf(club.ECONFLICT, "already on its way")
	if err := db.QueueInvitation(ctx, m.UserID, invitationTo(m), resent, func(club.OutboxItem) error { return refused }); err != refused {
		t.Fatalf("refused Send again = %v, want %v", err, refused)
	}
	if got := len(invitationJobs(t, j)); got != 1 {
		t.Errorf("invitation jobs after a refused Send again = %d, want 1", got)
	}
	if err := db.QueueInvitation(ctx, m.UserID, invitationTo(m), resent, func(club.OutboxItem) error { return nil }); err != nil {
		t.Fatalf("Send again: %v", err)
	}
	items, _ := db.Recent(ctx, m.ClubCode, 1)
	jobs = invitationJobs(t, j)
	if len(jobs) != 2 || argsOf(t, jobs[1]).ID != items[0].ID || items[0].ID == id {
		t.Errorf("after Send again: %d jobs, the newest for %d; want 2, the newest for the new invitation %d", len(jobs), argsOf(t, jobs[len(jobs)-1]).ID, items[0].ID)
	}
}

// failAfter queues the job through q, then fails: as if the transaction
// failed after the invitation's job was queued.
type failAfter struct {
	q   store.InvitationQueue
	err error
}

func (f failAfter) EnqueueInvitationTx(ctx context.Context, tx *sql.Tx, id int64) error {
	if err := f.q.EnqueueInvitationTx(ctx, tx, id); err != nil {
		return err
	}
	return f.err
}

// testInvitationJobRollsBack: a membership save that rolls back leaves
// neither the invitation nor its job, though River had inserted it.
func testInvitationJobRollsBack(t *testing.T, d database) {
	db := openStore(t, d)
	j := newJobs(t, d, db, Handlers{}, nil)
	boom := errors.New("disk full")
	db.SetInvitationQueue(failAfter{q: j, err: boom})

	m := guest(1)
	ev := club.AuditEvent{ClubCode: m.ClubCode, ActorName: "Olga Owner", Action: club.ActionMemberAdded, TargetID: m.UserID, At: time.Now()}
	inv := invitationTo(m)
	if err := db.SaveMember(t.Context(), 0, m, &ev, &inv); !errors.Is(err, boom) {
		t.Fatalf("SaveMember = %v, want %v", err, boom)
	}
	if _, err := db.Member(t.Context(), m.ClubCode, m.UserID); !errors.Is(err, club.ErrNotFound) {
		t.Errorf("member after the rollback: %v, want not found", err)
	}
	if items, _ := db.Recent(t.Context(), m.ClubCode, 10); len(items) != 0 {
		t.Errorf("invitations after the rollback = %+v, want none", items)
	}
	if jobs := invitationJobs(t, j); len(jobs) != 0 {
		t.Errorf("invitation jobs after the rollback = %d, want none", len(jobs))
	}
}

// testInvitationSent: an add's invitation goes out once, through its job.
func testInvitationSent(t *testing.T, d database) {
	db := openStore(t, d)
	sender, sent := mailbox()
	w := mail.NewWorker(db, sender, renderPlain, mail.WorkerConfig{BaseURL: "https://portal.example.org"})
	j := newJobs(t, d, db, Handlers{Invitation: w.Deliver}, nil)
	db.SetInvitationQueue(j)
	done := completions(t, j)
	start(t, j)

	id := invite(t, db, 1)
	if m := receive(t, sent, "the invitation"); m.To != "guest1@example.org" || m.Subject != "Welcome to Alpha" {
		t.Errorf("sent %+v, want guest1's invitation", m)
	}
	finished(t, done, KindInvitation, 1)
	if it := outboxItem(t, db, id); it.Status != club.InvitationSent || it.Attempts != 1 || it.SentAt.IsZero() {
		t.Errorf("invitation = %+v, want sent by attempt 1", it)
	}
	if got, want := jobStates(t, db, KindInvitation), map[string]int{"completed": 1}; !maps.Equal(got, want) {
		t.Errorf("invitation jobs by state = %v, want %v", got, want)
	}
	none(t, sent, "second email")
}

// testInvitationRetrySchedule: a failed attempt waits River's retry for the
// mail worker's backoff, and the invitation's next try says when.
func testInvitationRetrySchedule(t *testing.T, d database) {
	db := openStore(t, d)
	calls := make(chan struct{}, 10)
	w := mail.NewWorker(db, refusing(calls), renderPlain, mail.WorkerConfig{Backoff: func(int) time.Duration { return time.Hour }})
	j := newJobs(t, d, db, Handlers{Invitation: w.Deliver}, func(c *Config) { c.InvitationBackoff = w.Backoff })
	db.SetInvitationQueue(j)
	failed, cancel := j.client.Subscribe(river.EventKindJobFailed)
	t.Cleanup(cancel)
	start(t, j)

	id := invite(t, db, 1)
	for {
		if ev := receive(t, failed, "the failed attempt"); ev.Job != nil && ev.Job.Kind == KindInvitation {
			break
		}
	}
	it := outboxItem(t, db, id)
	if it.Status != club.InvitationQueued || it.Attempts != 1 || it.LastError != "the mail server refused the address" {
		t.Errorf("invitation = %+v, want retrying after attempt 1, with the reason", it)
	}
	jobs := invitationJobs(t, j)
	if len(jobs) != 1 || jobs[0].State != rivertype.JobStateRetryable || jobs[0].Attempt != 1 {
		t.Fatalf("invitation jobs = %+v, want one retryable after attempt 1", jobs)
	}
	if gap := jobs[0].ScheduledAt.Sub(it.NextAttemptAt).Abs(); gap > 5*time.Second || time.Until(it.NextAttemptAt) < 50*time.Minute {
		t.Errorf("job runs again at %s, the page says %s: want both about an hour from now", jobs[0].ScheduledAt, it.NextAttemptAt)
	}
	if got := len(calls); got != 1 {
		t.Errorf("sends = %d, want 1", got)
	}
}

// testInvitationGivenUp: an invitation that keeps failing is retried by
// River until its last attempt, which gives it up: the Invitations page
// shows it given up, with the reason, and the audit log says so once.
func testInvitationGivenUp(t *testing.T, d database) {
	db := openStore(t, d)
	calls := make(chan struct{}, 10)
	w := mail.NewWorker(db, refusing(calls), renderPlain, mail.WorkerConfig{})
	j := newJobs(t, d, db, Handlers{Invitation: w.Deliver}, func(c *Config) { c.InvitationAttempts = 3 })
	db.SetInvitationQueue(j)
	done := completions(t, j)
	start(t, j)

	id := invite(t, db, 1)
	finished(t, done, KindInvitation, 1)

	page, err := db.ClubInvitations(t.Context(), "org_a", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("invitations page = %+v, want one row", page)
	}
	row := page.Items[0]
	if row.ID != id || row.Status != club.InvitationFailed || row.Attempts != 3 || row.LastError != "the mail server refused the address" || row.MemberID != guest(1).UserID {
		t.Errorf("page row = %+v, want given up after 3 attempts, with the reason", row)
	}
	if n, err := db.FailedInvitations(t.Context(), "org_a"); err != nil || n != 1 {
		t.Errorf("failed invitations = %d, %v; want 1", n, err)
	}
	audit, err := db.Events(t.Context(), club.AuditQuery{ClubCode: "org_a", Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	givenUp := 0
	for _, ev := range audit.Events {
		if ev.Action == club.ActionInvitationFailed {
			givenUp++
		}
	}
	if givenUp != 1 {
		t.Errorf("invitation.failed audit rows = %d, want 1", givenUp)
	}
	if got := len(calls); got != 3 {
		t.Errorf("sends = %d, want 3", got)
	}
	if got, want := jobStates(t, db, KindInvitation), map[string]int{"completed": 1}; !maps.Equal(got, want) {
		t.Errorf("invitation jobs by state = %v, want %v", got, want)
	}
}

// testInvitationSweep: invitations written without a job (before the
// queue was set, or by an earlier version) get one from the sweep at
// start, numbered on from the attempts they had; a later sweep queues
// nothing twice, nor an invitation not yet due.
func testInvitationSweep(t *testing.T, d database) {
	db := openStore(t, d)
	fresh := invite(t, db, 1)
	retried := invite(t, db, 2)
	if ok, err := db.MarkRetry(t.Context(), retried, 2, time.Now().Add(-time.Minute), "timeout"); err != nil || !ok {
		t.Fatalf("mark retry = %v, %v", ok, err)
	}
	later := invite(t, db, 3)
	if ok, err := db.MarkRetry(t.Context(), later, 1, time.Now().Add(time.Hour), "greylisted"); err != nil || !ok {
		t.Fatalf("mark retry = %v, %v", ok, err)
	}

	sender, sent := mailbox()
	w := mail.NewWorker(db, sender, renderPlain, mail.WorkerConfig{})
	j := newJobs(t, d, db, Handlers{Invitation: w.Deliver, DueInvitations: db.DueInvitations}, nil)
	events := completions(t, j)
	start(t, j)
	// The sweep at start, and the two jobs it queued.
	waitFor(t, events, map[string]int{KindInvitationSweep: 1, KindInvitation: 2})
	if it := outboxItem(t, db, fresh); it.Status != club.InvitationSent || it.Attempts != 1 {
		t.Errorf("fresh invitation = %+v, want sent by attempt 1", it)
	}
	if it := outboxItem(t, db, retried); it.Status != club.InvitationSent || it.Attempts != 3 {
		t.Errorf("retried invitation = %+v, want sent by attempt 3", it)
	}
	if it := outboxItem(t, db, later); it.Status != club.InvitationQueued || it.Attempts != 1 {
		t.Errorf("invitation not yet due = %+v, want left alone", it)
	}
	want := map[int64]invitationArgs{fresh: {ID: fresh}, retried: {ID: retried, Attempted: 2}}
	jobs := invitationJobs(t, j)
	for _, job := range jobs {
		a := argsOf(t, job)
		if want[a.ID] != a {
			t.Errorf("job %+v, want one of %v", a, want)
		}
		if a.ID == retried && job.MaxAttempts != defaultInvitationAttempts-2 {
			t.Errorf("the retried invitation's job has %d attempts, want the %d left", job.MaxAttempts, defaultInvitationAttempts-2)
		}
	}
	if len(jobs) != 2 {
		t.Errorf("invitation jobs = %d, want 2", len(jobs))
	}

	if _, err := j.client.Insert(t.Context(), invitationSweepArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, events, map[string]int{KindInvitationSweep: 1})
	if got := len(invitationJobs(t, j)); got != 2 {
		t.Errorf("invitation jobs after another sweep = %d, want 2", got)
	}
	if got := len(sent); got != 2 {
		t.Errorf("emails = %d, want 2", got)
	}
}

// waitFor waits until River has completed jobs of each kind as many times
// as counts says, in any order; other kinds are skipped.
func waitFor(t *testing.T, events <-chan *river.Event, counts map[string]int) {
	t.Helper()
	left := maps.Clone(counts)
	remaining := 0
	for _, n := range left {
		remaining += n
	}
	for remaining > 0 {
		ev := receive(t, events, fmt.Sprintf("completed jobs %v", left))
		if ev.Job == nil || left[ev.Job.Kind] == 0 {
			continue
		}
		left[ev.Job.Kind]--
		remaining--
	}
}
