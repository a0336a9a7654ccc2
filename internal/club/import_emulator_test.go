package club_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
)

// These tests run bulk imports against the in-process Kinde emulator
// through the real Management API client. The emulator's clock is a
// FakeClock that only the client's waits move (rate-limit resets and
// retry backoff), so simulated time says how long an import takes under
// Kinde's rate limit without the test waiting for it.

// memImports is an in-memory club.ImportStore. Its SaveImportRows writes
// members through the memDirectory, and can be told to fail (a crash)
// before writing anything.
type memImports struct {
	mu      sync.Mutex
	dir     *memDirectory
	imports map[int64]*club.Import
	rows    map[int64][]club.ImportRow
	invites []club.Invitation
	audit   []club.AuditEvent
	nextID  int64
	saves   int
	// crashAt makes the crashAt-th SaveImportRows fail (0 = never).
	crashAt int
	// finals counts how often each row was recorded final.
	finals map[int64]int
}

var errCrash = errors.New("mem: simulated crash")

func newMemImports(dir *memDirectory) *memImports {
	return &memImports{dir: dir, imports: map[int64]*club.Import{}, rows: map[int64][]club.ImportRow{}, finals: map[int64]int{}}
}

func (s *memImports) CreateImport(_ context.Context, imp club.Import, rows []club.ImportRow, ev club.AuditEvent) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, cur := range s.imports { // one unfinished import per file, as the store
		if cur.ClubCode == imp.ClubCode && cur.Digest == imp.Digest && !cur.Done() {
			return id, nil
		}
	}
	s.nextID++
	imp.ID = s.nextID
	s.imports[imp.ID] = &imp
	for i := range rows {
		r := rows[i]
		r.ID = imp.ID*100_000 + int64(i)
		r.Roles = slices.Clone(r.Roles)
		s.rows[imp.ID] = append(s.rows[imp.ID], r)
	}
	s.audit = append(s.audit, ev)
	return imp.ID, nil
}

func (s *memImports) load(id int64) (club.Import, error) {
	imp, ok := s.imports[id]
	if !ok {
		return club.Import{}, fmt.Errorf("mem: import: %w", club.ErrNotFound)
	}
	out := *imp
	out.Counts = club.ImportCounts{}
	for _, r := range s.rows[id] {
		out.Counts.Add(r.Status, 1)
	}
	return out, nil
}

func (s *memImports) Import(_ context.Context, code string, id int64) (club.Import, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	imp, err := s.load(id)
	if err == nil && imp.ClubCode != code {
		return club.Import{}, fmt.Errorf("mem: import: %w", club.ErrNotFound)
	}
	return imp, err
}

func (s *memImports) ImportByID(_ context.Context, id int64) (club.Import, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load(id)
}

func (s *memImports) ImportRows(_ context.Context, code string, id int64) ([]club.ImportRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if imp, ok := s.imports[id]; !ok || imp.ClubCode != code {
		return nil, nil
	}
	return slices.Clone(s.rows[id]), nil
}

func (s *memImports) PendingImportRows(_ context.Context, id int64) ([]club.ImportRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []club.ImportRow
	for _, r := range s.rows[id] {
		if r.Status == club.ImportPending {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *memImports) MarkImportRunning(_ context.Context, id int64, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if imp := s.imports[id]; !imp.Done() {
		imp.Status = club.ImportRunning
		if imp.StartedAt.IsZero() {
			imp.StartedAt = at
		}
	}
	return nil
}

func (s *memImports) SaveImportRows(ctx context.Context, id int64, _ club.Version, rows []club.ImportRow, ms []club.Member, invs []club.Invitation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	if s.saves == s.crashAt {
		return errCrash
	}
	for _, r := range rows {
		// Every attempt to record an outcome counts, even one the store
		// ignores because the row is final already.
		if r.Status != club.ImportPending {
			s.finals[r.ID]++
		}
		i := slices.IndexFunc(s.rows[id], func(x club.ImportRow) bool { return x.ID == r.ID })
		if i < 0 || s.rows[id][i].Status != club.ImportPending {
			continue
		}
		s.rows[id][i] = r
	}
	for _, m := range ms {
		if err := s.dir.SaveMember(ctx, 0, m, nil, nil); err != nil {
			return err
		}
	}
	s.invites = append(s.invites, invs...)
	return nil
}

func (s *memImports) FinishImport(_ context.Context, id int64, at time.Time, ev club.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if imp := s.imports[id]; !imp.Done() {
		imp.Status, imp.FinishedAt = club.ImportDone, at
		s.audit = append(s.audit, ev)
	}
	return nil
}

// importRig is an emulator with a fake clock, a client whose waits move
// that clock, and an importer over in-memory stores.
type importRig struct {
	emu   *emulator.Emulator
	clock *emulator.FakeClock
	admin *kinde.Admin
	dir   *memDirectory
	store *memImports
	roles []club.Role

	mu    sync.Mutex
	slept time.Duration
}

// importEpoch is the fake clock's start, on a minute boundary so that the
// emulator's one-minute rate-limit windows start with the import.
var importEpoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newImportRig(t testing.TB, opts ...emulatortest.Option) *importRig {
	t.Helper()
	rig := &importRig{clock: emulator.NewFakeClock(importEpoch), dir: newMemDirectory()}
	rig.emu = emulatortest.Start(t, append(opts, emulatortest.WithClock(rig.clock))...)
	rig.store = newMemImports(rig.dir)
	id, secret := emulatortest.M2M(t, rig.emu)
	admin, err := kinde.NewAdmin(kinde.AdminConfig{
		Issuer: rig.emu.Issuer(), ClientID: id, ClientSecret: secret,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		// A fixed backoff keeps the simulated time of the fault tests
		// reproducible.
		Backoff: func(int) time.Duration { return 100 * time.Millisecond },
		Sleep: func(ctx context.Context, d time.Duration) error {
			rig.mu.Lock()
			rig.slept += d
			rig.mu.Unlock()
			rig.clock.Advance(d)
			return ctx.Err()
		},
		// A one-minute window can ask for up to 60 seconds.
		MaxRateLimitWait: 2 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	rig.admin = admin
	if rig.roles, err = admin.Roles(t.Context()); err != nil {
		t.Fatal(err)
	}
	return rig
}

func (rig *importRig) importer() *club.Importer {
	return club.NewImporter(rig.store, rig.dir, rig.admin, rig.clock.Now, nil)
}

func (rig *importRig) elapsed() time.Duration { return rig.clock.Now().Sub(importEpoch) }

// apiCalls counts Management API requests (retries and 429s included).
func (rig *importRig) apiCalls() int {
	n := 0
	for _, r := range rig.emu.Requests() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			n++
		}
	}
	return n
}

// bulkPeople adds n people to Kinde, in no club, and returns their emails.
func (rig *importRig) bulkPeople(n int) []string {
	var emails []string
	for _, id := range emulatortest.Bulk(rig.emu, n) {
		u, _ := rig.emu.World().UserByID(id)
		emails = append(emails, u.Email)
	}
	return emails
}

// know puts Kinde's person with email into the directory (as a member of
// clubCode when it is not "").
func (rig *importRig) know(t testing.TB, email, clubCode string) {
	t.Helper()
	u, ok := rig.emu.World().UserByEmail(email)
	if !ok {
		t.Fatalf("Kinde has no %s", email)
	}
	code := clubCode
	if code == "" {
		code = "org_elsewhere"
	}
	if err := rig.dir.SaveMember(t.Context(), 0, club.Member{ClubCode: code, UserID: u.ID, Email: email, Roles: []string{club.RoleMember}}, nil, nil); err != nil {
		t.Fatal(err)
	}
}

func (rig *importRig) start(t testing.TB, csv string) club.Import {
	t.Helper()
	imp, err := rig.importer().Start(t.Context(), importOwner, emuRiverside, rig.roles, "members.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return imp
}

// runToEnd runs the import until it is done, as the job queue would retry
// it after Kinde stopped answering.
func (rig *importRig) runToEnd(t testing.TB, id int64) (attempts int) {
	t.Helper()
	for attempts = 1; attempts <= 20; attempts++ {
		err := rig.importer().Run(t.Context(), id)
		if err == nil {
			return attempts
		}
		if club.ErrorCode(err) != club.EUNAVAILABLE && !errors.Is(err, errCrash) {
			t.Fatalf("run: %v", err)
		}
	}
	t.Fatalf("import %d not done after 20 runs", id)
	return attempts
}

func (rig *importRig) kindeRoles(t testing.TB, email string) []string {
	t.Helper()
	u, ok := rig.emu.World().UserByEmail(email)
	if !ok {
		t.Fatalf("Kinde has no user %s", email)
	}
	var keys []string
	for _, r := range rig.emu.World().MemberRoles(emuRiverside.Code, u.ID) {
		keys = append(keys, r.Key)
	}
	slices.Sort(keys)
	return keys
}

func (rig *importRig) usersWithEmail(email string) int {
	n := 0
	for _, u := range rig.emu.World().Snapshot().Users {
		if strings.EqualFold(u.Email, email) {
			n++
		}
	}
	return n
}

func TestImportRunAgainstEmulator(t *testing.T) {
	rig := newImportRig(t)
	people := rig.bulkPeople(4)
	member, known, inKinde, inClubOnlyInKinde := people[0], people[1], people[2], people[3]
	for _, e := range []string{member, inClubOnlyInKinde} {
		u, _ := rig.emu.World().UserByEmail(e)
		if err := rig.emu.World().AddMember(emuRiverside.Code, u.ID, []string{club.RoleMember}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	rig.know(t, member, emuRiverside.Code)
	rig.know(t, known, "")
	csv := "email,first_name,last_name,roles\n" +
		member + ",Mem,Ber,coach\n" +
		known + ",Kno,Wn,coach;member\n" +
		"brand.new@example.org,Bran,New,admin\n" +
		inKinde + ",In,Kinde,member\n" +
		inClubOnlyInKinde + ",Only,Kinde,coach\n" +
		"bad-email,X,Y,member\n"
	imp := rig.start(t, csv)
	if imp.Status != club.ImportQueued || imp.Counts.Pending != 5 || imp.Counts.Skipped != 1 {
		t.Fatalf("started import = %+v", imp)
	}
	rig.emu.ResetRequests()
	if err := rig.importer().Run(t.Context(), imp.ID); err != nil {
		t.Fatalf("run: %v", err)
	}

	rows, err := rig.store.ImportRows(t.Context(), emuRiverside.Code, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		email     string
		status    club.ImportRowStatus
		wantRoles []string // in Kinde, afterwards
		inDir     bool     // a member in the directory afterwards
	}{
		{member, club.ImportAlreadyMember, []string{"member"}, true},
		{known, club.ImportAdded, []string{"coach", "member"}, true},
		{"brand.new@example.org", club.ImportCreated, []string{"admin"}, true},
		{inKinde, club.ImportAdded, []string{"member"}, true},
		{inClubOnlyInKinde, club.ImportAlreadyMember, []string{"coach", "member"}, false},
	}
	for i, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			if rows[i].Email != tt.email || rows[i].Status != tt.status {
				t.Errorf("row = %s %s, want %s %s", rows[i].Email, rows[i].Status, tt.email, tt.status)
			}
			if got := rig.kindeRoles(t, tt.email); !slices.Equal(got, tt.wantRoles) {
				t.Errorf("Kinde roles = %v, want %v", got, tt.wantRoles)
			}
			m, err := rig.dir.Member(t.Context(), emuRiverside.Code, rows[i].UserID)
			if got := err == nil && !m.Pending; got != tt.inDir {
				t.Errorf("in directory = %v (%+v, %v), want %v", got, m, err, tt.inDir)
			}
		})
	}
	if rows[5].Status != club.ImportSkipped {
		t.Errorf("bad row = %+v", rows[5])
	}

	// 1 bulk add (known), 1 create (new), 2 creates refused + 2 lookups
	// (in Kinde), 1 bulk update (created and in-Kinde people).
	wantOps := map[string]int{"AddOrganizationUsers": 1, "createUser": 3, "getUsers": 2, "UpdateOrganizationUsers": 1}
	gotOps := map[string]int{}
	for _, r := range rig.emu.Requests() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			gotOps[r.Operation]++
		}
	}
	if fmt.Sprint(gotOps) != fmt.Sprint(wantOps) {
		t.Errorf("Kinde calls = %v, want %v", gotOps, wantOps)
	}
	var invited []string
	for _, inv := range rig.store.invites {
		invited = append(invited, inv.Email)
	}
	slices.Sort(invited)
	if want := []string{"brand.new@example.org", inKinde, known}; !slices.Equal(invited, sorted(want)) {
		t.Errorf("invitations = %v, want %v", invited, sorted(want))
	}
	var actions []string
	for _, ev := range rig.store.audit {
		actions = append(actions, ev.Action)
	}
	if want := []string{club.ActionImportStarted, club.ActionImportFinished}; !slices.Equal(actions, want) {
		t.Errorf("audit = %v, want %v", actions, want)
	}
	done, err := rig.importer().Import(t.Context(), emuRiverside.Code, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (club.ImportCounts{Added: 2, Created: 1, AlreadyMember: 2, Skipped: 1}); !done.Done() || done.Counts != want {
		t.Errorf("import = %s %+v, want done %+v", done.Status, done.Counts, want)
	}

	// What the owner sees does not tell who Kinde knew from elsewhere: the
	// new person and the people other clubs knew are all "added".
	var buf strings.Builder
	if err := club.WriteImportResults(&buf, rows); err != nil {
		t.Fatal(err)
	}
	results := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n")[1:] {
		cells := strings.Split(line, ",")
		results[cells[1]] = cells[5]
	}
	for _, email := range []string{known, "brand.new@example.org", inKinde} {
		if results[email] != "added" {
			t.Errorf("results file says %q for %s, want added like every other new member", results[email], email)
		}
	}
	if got := rig.store.audit[len(rig.store.audit)-1].Detail; got != "3 added, 2 already members, 0 failed, 1 skipped" || strings.Contains(got, "created") {
		t.Errorf("finished audit detail = %q, want 3 added with no word of who was created", got)
	}

	// A second run of a finished import does nothing.
	rig.emu.ResetRequests()
	if err := rig.importer().Run(t.Context(), imp.ID); err != nil {
		t.Fatal(err)
	}
	if n := rig.apiCalls(); n != 0 {
		t.Errorf("second run made %d Kinde calls", n)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestImportStartAndLookups(t *testing.T) {
	rig := newImportRig(t)
	csv := "email,first_name,last_name,roles\na@example.org,A,L,member\n"
	first := rig.start(t, csv)
	if again := rig.start(t, csv); again.ID != first.ID {
		t.Errorf("a second start of the same file made import %d, want %d", again.ID, first.ID)
	}
	if _, err := rig.importer().Import(t.Context(), "org_other", first.ID); club.ErrorCode(err) != club.ENOTFOUND {
		t.Errorf("another club's import: err = %v, want ENOTFOUND", err)
	}
	_, err := rig.importer().Start(t.Context(), importOwner, emuRiverside, rig.roles, "x.csv",
		strings.NewReader("email,first_name,last_name,roles\nnope,A,L,member\n"))
	if club.ErrorCode(err) != club.EINVALID {
		t.Errorf("start with no valid row: err = %v, want EINVALID", err)
	}
	if n := len(rig.store.imports); n != 1 {
		t.Errorf("%d imports stored, want 1", n)
	}
}

// importScenario is the benchmark's file: n rows, half of them people the
// directory knows (in Kinde, in no club yet), and of the other half one in
// five people Kinde knows from elsewhere (their create is refused and they
// are looked up), the rest new.
type importScenario struct {
	csv                            string
	known, unknown, unknownInKinde int
	emails                         []string
}

func newImportScenario(t testing.TB, rig *importRig, n int) importScenario {
	t.Helper()
	s := importScenario{known: n / 2, unknown: n - n/2}
	s.unknownInKinde = s.unknown / 5
	people := rig.bulkPeople(s.known + s.unknownInKinde)
	for _, e := range people[:s.known] {
		rig.know(t, e, "")
	}
	var b strings.Builder
	b.WriteString("email,first_name,last_name,roles\n")
	add := func(email string, i int) {
		s.emails = append(s.emails, email)
		fmt.Fprintf(&b, "%s,First%d,Last%d,%s\n", email, i, i, []string{"member", "coach;member", "admin"}[i%3])
	}
	for i, e := range people {
		add(e, i)
	}
	for i := range s.unknown - s.unknownInKinde {
		add(fmt.Sprintf("new-%04d@import.example", i), i)
	}
	s.csv = b.String()
	return s
}

// budget is the bound on Kinde calls: ceil(known/100) + 2 × unknown.
func (s importScenario) budget() int {
	return int(math.Ceil(float64(s.known)/100)) + 2*s.unknown
}

// expectedCalls is what the importer makes: one bulk add per 100 known,
// one create per unknown, one lookup per unknown Kinde refused, one bulk
// update per 100 unknown.
func (s importScenario) expectedCalls() int {
	return int(math.Ceil(float64(s.known)/100)) + s.unknown + s.unknownInKinde + int(math.Ceil(float64(s.unknown)/100))
}

// allowed is the least time a fixed one-minute window of perMinute calls
// lets calls calls take: every full window before the last call's.
func allowed(calls, perMinute int) time.Duration {
	return time.Duration((calls-1)/perMinute) * time.Minute
}

func TestImportCallBudgetAndRateLimit(t *testing.T) {
	tests := []struct {
		name      string
		perMinute int
	}{
		{"600 a minute", 600},
		{"100 a minute", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newImportRig(t)
			s := newImportScenario(t, rig, 1000)
			imp := rig.start(t, s.csv)
			rig.emu.ResetRequests()
			rig.emu.SetRateLimit(tt.perMinute)
			rig.runToEnd(t, imp.ID)

			var calls, throttled int
			for _, r := range rig.emu.Requests() {
				if strings.HasPrefix(r.Path, "/api/v1/") {
					calls++
					if r.Status == http.StatusTooManyRequests {
						throttled++
					}
				}
			}
			made := calls - throttled
			if made != s.expectedCalls() || made > s.budget() {
				t.Errorf("Kinde calls = %d (+%d throttled), want %d, within the budget of %d", made, throttled, s.expectedCalls(), s.budget())
			}
			want := allowed(made, tt.perMinute)
			got := rig.elapsed()
			if got < want || float64(got) > 1.1*float64(want)+float64(time.Second) {
				t.Errorf("simulated time = %s, want within 10%% of the %s the rate limit allows for %d calls", got, want, made)
			}
			t.Logf("%d rows (%d known, %d unknown of which %d in Kinde): %d Kinde calls (budget %d), %d throttled; simulated %s, the limit allows %s (%.1f%% over)",
				len(s.emails), s.known, s.unknown, s.unknownInKinde, made, s.budget(), throttled, got, want,
				100*(float64(got)-float64(want))/math.Max(float64(want), 1))
			checkImportedOnce(t, rig, imp.ID, s)
		})
	}
}

// checkImportedOnce checks that every row of the scenario ended in the club
// with its roles, each person once in Kinde, each row recorded final once,
// and each added or created person invited once.
func checkImportedOnce(t *testing.T, rig *importRig, id int64, s importScenario) {
	t.Helper()
	imp, err := rig.store.ImportByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !imp.Done() || imp.Counts.Pending != 0 || imp.Counts.Failed != 0 || imp.Counts.Finished() != len(s.emails) {
		t.Errorf("import = %s %+v, want every row done", imp.Status, imp.Counts)
	}
	rows, _ := rig.store.ImportRows(t.Context(), emuRiverside.Code, id)
	for _, r := range rows {
		if n := rig.store.finals[r.ID]; n != 1 {
			t.Errorf("row %d (%s) recorded final %d times", r.Line, r.Email, n)
		}
		if n := rig.usersWithEmail(r.Email); n != 1 {
			t.Errorf("%s is %d people in Kinde", r.Email, n)
		}
		if got := rig.kindeRoles(t, r.Email); !slices.Equal(got, r.Roles) {
			t.Errorf("%s holds %v in Kinde, want %v", r.Email, got, r.Roles)
		}
	}
	invited := map[string]int{}
	for _, inv := range rig.store.invites {
		invited[inv.Email]++
	}
	for e, n := range invited {
		if n != 1 {
			t.Errorf("%s invited %d times", e, n)
		}
	}
	if got, want := len(invited), imp.Counts.Added+imp.Counts.Created; got != want {
		t.Errorf("%d people invited, want %d (added + created)", got, want)
	}
}

func TestImportSurvivesInjected5xx(t *testing.T) {
	rig := newImportRig(t)
	s := newImportScenario(t, rig, 1000)
	imp := rig.start(t, s.csv)
	rig.emu.ResetRequests()
	rig.emu.SetRateLimit(600)
	rig.emu.Faults().Add(emulator.FaultRule{PathPrefix: "/api/v1/", Status: http.StatusServiceUnavailable, Probability: 0.1, Seed: 6})
	attempts := rig.runToEnd(t, imp.ID)
	faults := 0
	for _, r := range rig.emu.Faults().Rules() {
		faults += r.Fired
	}
	if faults == 0 {
		t.Fatal("no fault fired")
	}
	t.Logf("%d injected 5xx over %d Kinde requests; the import took %d runs; simulated %s", faults, rig.apiCalls(), attempts, rig.elapsed())
	checkImportedOnce(t, rig, imp.ID, s)
}

func TestImportResumesAfterCrash(t *testing.T) {
	// Saves in a run of the 30-row scenario, rows resolved in file order:
	// 15 known to the directory (one save each, no Kinde call: saves
	// 1–15); 3 that Kinde refused to create and that were looked up (a
	// save before the create, one after: 16–21); 12 created (22–45); then
	// the bulk add of the 15 known (a save before, one after: 46, 47) and
	// the bulk update of the 15 others (48; marked before their creates
	// already). A crash is a save that fails: those after a Kinde call lose
	// its answer.
	tests := []struct {
		name    string
		crashAt int
	}{
		{"after a directory lookup", 1},
		{"before a create", 22},
		{"after a create Kinde refused and a lookup", 17},
		{"after a create", 23},
		{"before the bulk add", 46},
		{"after the bulk add", 47},
		{"after the bulk update", 48},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newImportRig(t)
			s := newImportScenario(t, rig, 30)
			imp := rig.start(t, s.csv)
			rig.store.crashAt = tt.crashAt
			if err := rig.importer().Run(t.Context(), imp.ID); !errors.Is(err, errCrash) {
				t.Fatalf("first run: err = %v, want the crash", err)
			}
			// A new importer, as after a restart.
			if err := rig.importer().Run(t.Context(), imp.ID); err != nil {
				t.Fatalf("resumed run: %v", err)
			}
			// As if nothing had happened: everyone added once, invited once.
			checkImportedOnce(t, rig, imp.ID, s)
			done, _ := rig.store.ImportByID(t.Context(), imp.ID)
			if done.Counts.AddedShown() != 30 || done.Counts.AlreadyMember != 0 || len(rig.store.invites) != 30 {
				t.Errorf("after the crash: %+v and %d invitations; want all 30 added and invited", done.Counts, len(rig.store.invites))
			}
			for _, e := range s.emails {
				if m, err := rig.dir.PersonByEmail(t.Context(), e); err != nil {
					t.Errorf("%s is not in the directory: %v", e, err)
				} else if mm, err := rig.dir.Member(t.Context(), emuRiverside.Code, m.ID); err != nil || mm.Pending {
					t.Errorf("%s is not a listed member: %+v, %v", e, mm, err)
				}
			}
		})
	}
}

// BenchmarkImport1000 imports 1,000 rows (half known to the directory)
// under a 600-a-minute rate limit on a fake clock, and reports the Kinde
// calls made and the simulated minutes taken.
func BenchmarkImport1000(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		rig := newImportRig(b)
		s := newImportScenario(b, rig, 1000)
		imp := rig.start(b, s.csv)
		rig.emu.ResetRequests()
		rig.emu.SetRateLimit(600)
		b.StartTimer()
		rig.runToEnd(b, imp.ID)
		b.StopTimer()
		b.ReportMetric(float64(rig.apiCalls()), "kinde-calls/op")
		b.ReportMetric(rig.elapsed().Seconds(), "simulated-s/op")
		b.StartTimer()
	}
}
