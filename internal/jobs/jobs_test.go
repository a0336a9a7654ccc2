package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/store"
)

// database is one test database that several Jobs (instances) may share.
type database struct {
	url string
}

func sqliteDatabase(t *testing.T) database {
	t.Helper()
	return database{url: "sqlite:" + filepath.Join(t.TempDir(), "clubhouse.db")}
}

// postgresDatabase returns a fresh schema on the test server, dropped when
// the test ends. Without CLUBHOUSE_TEST_POSTGRES_URL the test is skipped,
// except under CI, where it fails.
func postgresDatabase(t *testing.T) database {
	t.Helper()
	base := os.Getenv("CLUBHOUSE_TEST_POSTGRES_URL")
	if base == "" {
		msg := "CLUBHOUSE_TEST_POSTGRES_URL is not set; set it to a PostgreSQL URL such as " +
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run the PostgreSQL tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("parse CLUBHOUSE_TEST_POSTGRES_URL: %v", err)
	}
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.WithoutCancel(t.Context()), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return database{url: u.String()}
}

func (d database) dialect() Dialect {
	if strings.HasPrefix(d.url, "sqlite:") {
		return SQLite
	}
	return Postgres
}

func testLogger(t testing.TB) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// storeInbox is the store as the jobs' Inbox, as cmd/clubhouse wires it:
// the two name a delivery each in their own type.
type storeInbox struct{ db *store.DB }

func (i storeInbox) RecordWebhook(ctx context.Context, d Delivery, enqueue func(ctx context.Context, tx *sql.Tx) error) (bool, error) {
	return i.db.RecordWebhook(ctx, store.WebhookDelivery(d), enqueue)
}

// The store queues each invitation's job through Jobs.
var _ store.InvitationQueue = (*Jobs)(nil)

// openStore opens the store on d, closed when the test ends.
func openStore(t testing.TB, d database) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), d.url, testLogger(t))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newJobs builds (not starts) Jobs on db, stopped when the test ends. A
// failed job is retried at once, not after River's backoff.
func newJobs(t *testing.T, d database, db *store.DB, h Handlers, edit func(*Config)) *Jobs {
	t.Helper()
	cfg := Config{DB: db.JobsDB(), Dialect: d.dialect(), Inbox: storeInbox{db}, Handlers: h, Logger: testLogger(t),
		PollInterval: 50 * time.Millisecond,
		RetryDelay:   func(int) time.Duration { return 0 },
		// One job per event, at once, unless a test coalesces.
		WebhookCoalesce: -1}
	if d.dialect() == Postgres {
		cfg.PostgresURL = d.url
	}
	if edit != nil {
		edit(&cfg)
	}
	j, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	t.Cleanup(func() {
		if err := j.Stop(context.WithoutCancel(t.Context())); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return j
}

func start(t *testing.T, j *Jobs) {
	t.Helper()
	if err := j.Start(t.Context()); err != nil {
		t.Fatalf("start: %v", err)
	}
}

// receive waits for a value on ch, failing the test after a generous
// bound (a hung job, not a slow one).
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// none checks that nothing is waiting on ch. It does not wait, so it
// proves nothing until every job that could send has finished (finished).
func none[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Errorf("unexpected %s: %v", what, v)
	default:
	}
}

// completions subscribes to River's job completions. Subscribe before
// Start, so that no completion is missed.
func completions(t *testing.T, j *Jobs) <-chan *river.Event {
	t.Helper()
	events, cancel := j.client.Subscribe(river.EventKindJobCompleted)
	t.Cleanup(cancel)
	return events
}

// finished waits until River has recorded n jobs of kind as completed (its
// completion events come once the job's row says so). Other kinds'
// completions, such as the periodic jobs', are skipped.
func finished(t *testing.T, events <-chan *river.Event, kind string, n int) {
	t.Helper()
	for n > 0 {
		if ev := receive(t, events, "a completed "+kind+" job"); ev.Job != nil && ev.Job.Kind == kind {
			n--
		}
	}
}

// jobStates counts the jobs of kind in River's table by state.
func jobStates(t *testing.T, db *store.DB, kind string) map[string]int {
	t.Helper()
	rows, err := db.JobsDB().QueryContext(t.Context(), `SELECT state, COUNT(*) FROM river_job WHERE kind = $1 GROUP BY state`, kind)
	if err != nil {
		t.Fatalf("count %s jobs: %v", kind, err)
	}
	defer rows.Close()
	states := map[string]int{}
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			t.Fatalf("count %s jobs: %v", kind, err)
		}
		states[state] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("count %s jobs: %v", kind, err)
	}
	return states
}

func userEvent(id string, minute int) club.IdentityEvent {
	return club.IdentityEvent{ID: "event_" + id, Type: club.EventPersonChanged, At: time.Date(2025, 1, 1, 0, minute, 0, 0, time.UTC),
		Person: &club.PersonChange{Person: club.Person{ID: id, Email: id + "@example.org"}, Clubs: []club.ClubRoles{}}}
}

func TestJobsSQLite(t *testing.T) {
	t.Parallel()
	runJobsSuite(t, sqliteDatabase)
}

func TestJobsPostgres(t *testing.T) {
	t.Parallel()
	runJobsSuite(t, postgresDatabase)
}

func runJobsSuite(t *testing.T, newDB func(t *testing.T) database) {
	tests := []struct {
		name string
		run  func(t *testing.T, d database)
	}{
		{"WebhookAppliedOnceAndRetried", testWebhookJob},
		{"WebhookBurstIsOneReread", testWebhookCoalesced},
		{"RestartLosesNothing", testRestart},
		{"ImportQueuedOnce", testImport},
		{"InvitationJobCommitsWithItsRow", testInvitationJobCommitsWithRow},
		{"InvitationJobRollsBackWithTheMember", testInvitationJobRollsBack},
		{"InvitationSent", testInvitationSent},
		{"InvitationRetryIsWhenThePageSays", testInvitationRetrySchedule},
		{"InvitationRetriedThenGivenUp", testInvitationGivenUp},
		{"InvitationSweep", testInvitationSweep},
		{"ReconcileEveryClub", testReconcile},
		{"Metrics", testMetrics},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newDB(t))
		})
	}
}

func testWebhookJob(t *testing.T, d database) {
	db := openStore(t, d)
	applied := make(chan club.IdentityEvent, 10)
	var mu sync.Mutex
	failures := map[string]int{"event_kp_flaky": 1}
	j := newJobs(t, d, db, Handlers{Webhook: func(ctx context.Context, ev club.IdentityEvent) error {
		mu.Lock()
		defer mu.Unlock()
		if failures[ev.ID] > 0 {
			failures[ev.ID]--
			return errors.New("directory is busy")
		}
		applied <- ev
		return nil
	}}, nil)
	done := completions(t, j)
	start(t, j)
	ctx := t.Context()

	ev := userEvent("kp_a", 1)
	for i, wantDup := range []bool{false, true, true} {
		dup, err := j.AcceptWebhook(ctx, "msg_a", ev)
		if err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
		if dup != wantDup {
			t.Errorf("accept %d: duplicate = %v, want %v", i, dup, wantDup)
		}
	}
	got := receive(t, applied, "the webhook job")
	if got.ID != ev.ID || got.Person == nil || got.Person.Person.ID != "kp_a" || !got.At.Equal(ev.At) {
		t.Errorf("applied %+v, want %+v", got, ev)
	}

	// A failing job is retried.
	if _, err := j.AcceptWebhook(ctx, "msg_flaky", userEvent("kp_flaky", 2)); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, applied, "the retried webhook job"); got.ID != "event_kp_flaky" {
		t.Errorf("retried %s", got.ID)
	}
	// Once River has finished both jobs, nothing can run them again: one
	// job per delivery, both completed, and no other application.
	finished(t, done, KindWebhook, 2)
	if got, want := jobStates(t, db, KindWebhook), map[string]int{"completed": 2}; !maps.Equal(got, want) {
		t.Errorf("webhook jobs by state = %v, want %v", got, want)
	}
	none(t, applied, "second application")
}

func testRestart(t *testing.T, d database) {
	db := openStore(t, d)
	// The first instance queues work and stops before working it, as a
	// portal that went down right after answering Kinde.
	first := newJobs(t, d, db, Handlers{}, nil)
	if _, err := first.AcceptWebhook(t.Context(), "msg_r", userEvent("kp_r", 1)); err != nil {
		t.Fatal(err)
	}
	if err := first.EnqueueImport(t.Context(), 7); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}

	applied := make(chan string, 2)
	imports := make(chan int64, 2)
	second := newJobs(t, d, db, Handlers{
		Webhook: func(_ context.Context, ev club.IdentityEvent) error { applied <- ev.ID; return nil },
		Import:  func(_ context.Context, id int64) error { imports <- id; return nil },
	}, nil)
	start(t, second)
	if got := receive(t, applied, "the webhook queued before the restart"); got != "event_kp_r" {
		t.Errorf("applied %s", got)
	}
	if got := receive(t, imports, "the import queued before the restart"); got != 7 {
		t.Errorf("import %d", got)
	}
}

func testImport(t *testing.T, d database) {
	db := openStore(t, d)
	imports := make(chan int64, 4)
	release := make(chan struct{})
	j := newJobs(t, d, db, Handlers{Import: func(ctx context.Context, id int64) error {
		imports <- id
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}}, nil)
	done := completions(t, j)
	start(t, j)
	ctx := t.Context()
	if err := j.EnqueueImport(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, imports, "import 42"); got != 42 {
		t.Fatalf("import %d", got)
	}
	// Queued again while running (a double click): no second run.
	if err := j.EnqueueImport(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if err := j.EnqueueImport(ctx, 43); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, imports, "import 43"); got != 43 {
		t.Fatalf("import %d", got)
	}
	close(release)
	// Once River has finished both jobs, nothing can run them again: the
	// second 42 was never queued, and no import ran twice.
	finished(t, done, KindImport, 2)
	if got, want := jobStates(t, db, KindImport), map[string]int{"completed": 2}; !maps.Equal(got, want) {
		t.Errorf("import jobs by state = %v, want %v", got, want)
	}
	none(t, imports, "second run of import 42")
}

func testReconcile(t *testing.T, d database) {
	db := openStore(t, d)
	clubs := []club.Club{{Code: "org_a", Name: "A"}, {Code: "org_b"}, {Code: "org_c"}}
	synced := make(chan string, 10)
	var mu sync.Mutex
	running := 0
	j := newJobs(t, d, db, Handlers{
		Clubs: func(context.Context) ([]club.Club, error) { return clubs, nil },
		Reconcile: func(_ context.Context, c club.Club) error {
			mu.Lock()
			running++
			if running > 1 {
				t.Errorf("%d clubs reconciled at once, want one at a time", running)
			}
			mu.Unlock()
			defer func() { mu.Lock(); running--; mu.Unlock() }()
			synced <- c.Code
			return nil
		},
	}, nil)
	start(t, j)
	if _, err := j.client.Insert(t.Context(), reconcileArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for range clubs {
		got[receive(t, synced, "a club reconciled")] = true
	}
	for _, c := range clubs {
		if !got[c.Code] {
			t.Errorf("%s was not reconciled", c.Code)
		}
	}
}

func testMetrics(t *testing.T, d database) {
	db := openStore(t, d)
	reg := prometheus.NewRegistry()
	done := make(chan struct{}, 1)
	j := newJobs(t, d, db, Handlers{Webhook: func(context.Context, club.IdentityEvent) error { done <- struct{}{}; return nil }},
		func(c *Config) { c.Registerer = reg })
	if _, err := j.AcceptWebhook(t.Context(), "msg_m", userEvent("kp_m", 1)); err != nil {
		t.Fatal(err)
	}
	// Before Start the job is waiting.
	if got := gauge(t, reg, KindWebhook, "available"); got != 1 {
		t.Errorf("clubhouse_jobs{kind=webhook,state=available} = %v, want 1", got)
	}
	start(t, j)
	receive(t, done, "the job")
	// The run is counted once the worker returns; River records completion
	// just after, so wait for the state on the subscription channel.
	events, cancel := j.client.Subscribe(river.EventKindJobCompleted)
	defer cancel()
	if gauge(t, reg, KindWebhook, "completed") != 1 {
		receive(t, events, "completion")
	}
	if got := gauge(t, reg, KindWebhook, "completed"); got != 1 {
		t.Errorf("clubhouse_jobs{kind=webhook,state=completed} = %v, want 1", got)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, kind, state string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "clubhouse_jobs" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == kind && labels["state"] == state {
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// A burst of events for one person inside the coalescing window is one
// job (one re-read of Kinde); another person's events get their own.
func testWebhookCoalesced(t *testing.T, d database) {
	db := openStore(t, d)
	handled := make(chan string, 10)
	j := newJobs(t, d, db, Handlers{Webhook: func(_ context.Context, ev club.IdentityEvent) error {
		handled <- ev.Person.Person.ID
		return nil
	}}, func(c *Config) { c.WebhookCoalesce = time.Minute })
	done := completions(t, j)
	ctx := t.Context()
	for i := range 5 {
		if _, err := j.AcceptWebhook(ctx, fmt.Sprintf("msg_burst_%d", i), userEvent("kp_burst", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := j.AcceptWebhook(ctx, "msg_other", userEvent("kp_other", 9)); err != nil {
		t.Fatal(err)
	}
	// Every delivery is recorded (a retry of any is a duplicate), but the
	// six events wait as two jobs, a window after they came.
	var recorded int
	if err := db.JobsDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != 6 {
		t.Errorf("%d deliveries recorded, want 6", recorded)
	}
	if got, want := jobStates(t, db, KindWebhook), map[string]int{"scheduled": 2}; !maps.Equal(got, want) {
		t.Fatalf("webhook jobs by state = %v, want %v", got, want)
	}
	// Due now, they run once each.
	if _, err := db.JobsDB().ExecContext(ctx, `UPDATE river_job SET scheduled_at = $1 WHERE kind = $2`, time.Now().Add(-time.Minute).UTC(), KindWebhook); err != nil {
		t.Fatal(err)
	}
	start(t, j)
	finished(t, done, KindWebhook, 2)
	got := []string{receive(t, handled, "a re-read"), receive(t, handled, "a re-read")}
	slices.Sort(got)
	if want := []string{"kp_burst", "kp_other"}; !slices.Equal(got, want) {
		t.Errorf("re-read %v, want %v", got, want)
	}
	none(t, handled, "another re-read")
}
