package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views/components"
)

// memImportStore is an in-memory club.ImportStore for the handler tests.
type memImportStore struct {
	mu      sync.Mutex
	imports []club.Import
	rows    map[int64][]club.ImportRow
	saved   []club.Member
}

func (s *memImportStore) CreateImport(_ context.Context, imp club.Import, rows []club.ImportRow, _ club.AuditEvent) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cur := range s.imports { // one unfinished import per file, as the store
		if cur.ClubCode == imp.ClubCode && cur.Digest == imp.Digest && !cur.Done() {
			return cur.ID, nil
		}
	}
	imp.ID = int64(len(s.imports) + 1)
	s.imports = append(s.imports, imp)
	if s.rows == nil {
		s.rows = map[int64][]club.ImportRow{}
	}
	for i, r := range rows {
		r.ID = imp.ID*10_000 + int64(i)
		s.rows[imp.ID] = append(s.rows[imp.ID], r)
	}
	return imp.ID, nil
}

func (s *memImportStore) get(id int64) (club.Import, error) {
	if id < 1 || id > int64(len(s.imports)) {
		return club.Import{}, fmt.Errorf("mem: import: %w", club.ErrNotFound)
	}
	imp := s.imports[id-1]
	for _, r := range s.rows[id] {
		imp.Counts.Add(r.Status, 1)
	}
	return imp, nil
}

func (s *memImportStore) Import(_ context.Context, code string, id int64) (club.Import, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	imp, err := s.get(id)
	if err == nil && imp.ClubCode != code {
		return club.Import{}, fmt.Errorf("mem: import: %w", club.ErrNotFound)
	}
	return imp, err
}

func (s *memImportStore) ImportByID(_ context.Context, id int64) (club.Import, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(id)
}

func (s *memImportStore) ImportRows(_ context.Context, _ string, id int64) ([]club.ImportRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rows[id]), nil
}

func (s *memImportStore) PendingImportRows(_ context.Context, id int64) ([]club.ImportRow, error) {
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

func (s *memImportStore) MarkImportRunning(_ context.Context, id int64, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.imports[id-1].Status, s.imports[id-1].StartedAt = club.ImportRunning, at
	return nil
}

func (s *memImportStore) SaveImportRows(_ context.Context, id int64, _ club.Version, rows []club.ImportRow, ms []club.Member, _ []club.Invitation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rows {
		i := slices.IndexFunc(s.rows[id], func(x club.ImportRow) bool { return x.ID == r.ID })
		s.rows[id][i] = r
	}
	s.saved = append(s.saved, ms...)
	return nil
}

func (s *memImportStore) FinishImport(_ context.Context, id int64, at time.Time, _ club.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.imports[id-1].Status, s.imports[id-1].FinishedAt = club.ImportDone, at
	return nil
}

// fakeImportIdentities creates everyone it is asked to and adds everyone to
// the club, counting its calls.
type fakeImportIdentities struct {
	mu    sync.Mutex
	calls int
}

func (k *fakeImportIdentities) FindPersonByEmail(context.Context, string) (club.Person, error) {
	return club.Person{}, club.ErrNotFound
}

func (k *fakeImportIdentities) CreatePerson(_ context.Context, p club.Person, _ string) (club.Person, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls++
	p.ID = "kp_" + strings.ReplaceAll(p.Email, "@", "_")
	return p, nil
}

func (k *fakeImportIdentities) BulkAddMembers(_ context.Context, _ string, ms []club.BulkMember) ([]string, error) {
	return k.bulk(ms)
}

func (k *fakeImportIdentities) BulkUpdateMembers(_ context.Context, _ string, ms []club.BulkMember) ([]string, error) {
	return k.bulk(ms)
}

func (k *fakeImportIdentities) bulk(ms []club.BulkMember) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls++
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.UserID)
	}
	return ids, nil
}

// fakeImportQueue records the imports queued.
type fakeImportQueue struct {
	mu  sync.Mutex
	ids []int64
	err error
}

func (q *fakeImportQueue) EnqueueImport(_ context.Context, id int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.ids = append(q.ids, id)
	return nil
}

type importEnv struct {
	*env
	store    *memImportStore
	kinde    *fakeImportIdentities
	queue    *fakeImportQueue
	importer *club.Importer
}

func newImportEnv(t *testing.T) *importEnv {
	t.Helper()
	ie := &importEnv{store: &memImportStore{}, kinde: &fakeImportIdentities{}, queue: &fakeImportQueue{}}
	ie.env = newEnv(t, func(d *Deps) {
		ie.importer = club.NewImporter(ie.store, d.Directory, ie.kinde, d.Now, nil)
		d.Imports = &BulkImport{Importer: ie.importer, Queue: ie.queue}
	})
	return ie
}

// upload posts a multipart form with the fields and, when data is non-nil,
// a file field "file".
func (b *browser) upload(target string, fields map[string]string, fileName string, data []byte, header ...string) *http.Response {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			b.e.t.Fatal(err)
		}
	}
	if data != nil {
		fw, err := mw.CreateFormFile("file", fileName)
		if err != nil {
			b.e.t.Fatal(err)
		}
		if _, err := fw.Write(data); err != nil {
			b.e.t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		b.e.t.Fatal(err)
	}
	r := httptest.NewRequestWithContext(b.e.t.Context(), http.MethodPost, "http://portal.test"+target, &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return b.send(r, header...)
}

func manyRows(n int) []byte {
	var b strings.Builder
	b.WriteString("email,first_name,last_name,roles\n")
	for i := range n {
		fmt.Fprintf(&b, "p%d@example.org,A,B,member\n", i)
	}
	return []byte(b.String())
}

func TestImportFormIsAccessible(t *testing.T) {
	e := newImportEnv(t)
	b := e.browser()
	b.signIn(olivia)
	res := b.get("/members/import")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", res.StatusCode)
	}
	d := doc(t, res)
	form := testid(d, "import-upload-form")
	if m, _ := form.Attr("enctype"); m != "multipart/form-data" {
		t.Errorf("enctype = %q", m)
	}
	input := form.Find(`input[type="file"][name="file"]`)
	id, _ := input.Attr("id")
	if id == "" || form.Find(`label[for="`+id+`"]`).Length() != 1 {
		t.Error("the file input has no label")
	}
	limits := fmt.Sprintf("At most %s people and %d MB per file", components.FormatCount(club.MaxImportRows), club.MaxImportBytes>>20)
	if got := testid(d, "import-upload").Text(); !strings.Contains(got, limits) {
		t.Errorf("upload page = %q, want the limits %q", strings.Join(strings.Fields(got), " "), limits)
	}
}

func TestImportNeedsMembersWrite(t *testing.T) {
	tests := []struct {
		name       string
		id         *club.Identity
		wantStatus int
	}{
		{"plain member", &mia, http.StatusForbidden},
		{"signed out", nil, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newImportEnv(t)
			b := e.browser()
			if tt.id != nil {
				b.signIn(*tt.id)
			}
			for _, target := range []string{"/members/import", "/imports/1", "/imports/1/results.csv"} {
				if res := b.get(target); res.StatusCode != tt.wantStatus {
					t.Errorf("GET %s: status = %d, want %d", target, res.StatusCode, tt.wantStatus)
				}
			}
			csv := []byte("email,first_name,last_name,roles\na@example.org,A,B,member\n")
			if res := b.upload("/members/import", nil, "a.csv", csv); res.StatusCode != tt.wantStatus {
				t.Errorf("POST upload: status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if res := b.upload("/members/import/start", map[string]string{"csv": string(csv)}, "", nil); res.StatusCode != tt.wantStatus {
				t.Errorf("POST start: status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if len(e.store.imports) != 0 {
				t.Errorf("%d imports stored", len(e.store.imports))
			}
		})
	}
}

func TestImportRefusesBadFilesAndWritesNothing(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		wantMsg string
	}{
		{"Latin-1", []byte("email,first_name,last_name,roles\nj@example.org,Jos\xe9,L,member\n"), "not UTF-8"},
		{"missing columns", []byte("email,name\na@example.org,Ana\n"), "missing the columns first_name, last_name, roles"},
		{"10,000 rows", manyRows(10_000), "10,000 rows"},
		{"larger than the body limit", bytes.Repeat([]byte("x"), importBodyLimit+1), "larger than 2 MB"},
		{"no file", nil, "Choose a CSV file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newImportEnv(t)
			b := e.browser()
			b.signIn(olivia)
			for _, target := range []string{"/members/import", "/members/import/start"} {
				var res *http.Response
				if target == "/members/import" {
					res = b.upload(target, nil, "members.csv", tt.data)
				} else {
					res = b.upload(target, map[string]string{"csv": string(tt.data)}, "", nil)
				}
				if target == "/members/import/start" && tt.data == nil {
					continue
				}
				if res.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("POST %s: status = %d, want 422", target, res.StatusCode)
				}
				d := doc(t, res)
				if got := testid(d, "form-error").Text(); !strings.Contains(got, tt.wantMsg) {
					t.Errorf("POST %s: error = %q, want it to say %q", target, got, tt.wantMsg)
				}
			}
			if len(e.store.imports) != 0 || e.kinde.calls != 0 || len(e.queue.ids) != 0 {
				t.Errorf("wrote %d imports, made %d Kinde calls, queued %v; want nothing", len(e.store.imports), e.kinde.calls, e.queue.ids)
			}
		})
	}
}

const previewCSV = "email,first_name,last_name,roles,phone\n" +
	"ana@example.org,Ana,López,coach;member,555\n" +
	"bo@example.org,=cmd|' /C calc'!A0,Ng,member,\n" +
	"ANA@example.org,Ana,L,member,\n" +
	"cy@example.org,Cy,Young,,\n"

func TestImportPreviewWritesNothing(t *testing.T) {
	e := newImportEnv(t)
	b := e.browser()
	b.signIn(olivia)
	res := b.upload("/members/import", nil, "members.csv", []byte("\xef\xbb\xbf"+previewCSV))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", res.StatusCode)
	}
	d := doc(t, res)
	if got := testid(d, "import-valid").Text(); got != "2" {
		t.Errorf("valid = %q, want 2", got)
	}
	if got := testid(d, "import-skipped").Text(); got != "2" {
		t.Errorf("skipped = %q, want 2", got)
	}
	bad := testid(d, "import-bad-row")
	if bad.Length() != 1 || !strings.Contains(bad.Text(), "First name starts with =") {
		t.Errorf("bad rows = %q", bad.Text())
	}
	dup := testid(d, "import-duplicate")
	if dup.Length() != 1 || !strings.Contains(dup.Text(), "ana@example.org") || !strings.Contains(dup.Text(), "2, 4") {
		t.Errorf("duplicates = %q", dup.Text())
	}
	if got := testid(d, "import-ignored").Text(); !strings.Contains(got, "phone") {
		t.Errorf("ignored columns = %q", got)
	}
	start := testid(d, "import-start-form")
	if got := start.Find(`textarea[name="csv"]`).Text(); got != previewCSV {
		t.Errorf("the start form carries %q, want the file without its BOM", got)
	}
	if len(e.store.imports) != 0 || e.kinde.calls != 0 || len(e.queue.ids) != 0 {
		t.Errorf("the preview wrote %d imports, made %d Kinde calls, queued %v", len(e.store.imports), e.kinde.calls, e.queue.ids)
	}
}

func TestImportStartProgressAndResults(t *testing.T) {
	e := newImportEnv(t)
	b := e.browser()
	b.signIn(olivia)
	fields := map[string]string{"csv": previewCSV, "file_name": "members.csv"}
	res := b.upload("/members/import/start", fields, "", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/imports/1" {
		t.Fatalf("start: status %d to %q, want 303 to /imports/1", res.StatusCode, res.Header.Get("Location"))
	}
	// A double submit starts nothing new.
	res = b.upload("/members/import/start", fields, "", nil, HXRequest, "true")
	if got := res.Header.Get(HXRedirect); got != "/imports/1" {
		t.Errorf("second start redirects to %q, want /imports/1", got)
	}
	if len(e.store.imports) != 1 || !slices.Equal(e.queue.ids, []int64{1, 1}) {
		t.Fatalf("imports = %d, queued %v; want one import, queued (again) as 1", len(e.store.imports), e.queue.ids)
	}

	d := doc(t, b.get("/imports/1"))
	prog := testid(d, "import-progress")
	if trig, _ := prog.Attr("hx-trigger"); trig != "every 1s" {
		t.Errorf("hx-trigger = %q, want polling while queued", trig)
	}
	if d.Find("h1").Length() != 1 {
		t.Error("the progress page is not a full page")
	}

	if err := e.importer.Run(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	d = doc(t, b.get("/imports/1", HXRequest, "true"))
	if d.Find("h1").Length() != 0 {
		t.Error("the polling answer is a full page, want the fragment")
	}
	prog = testid(d, "import-progress")
	if _, polls := prog.Attr("hx-trigger"); polls {
		t.Error("a finished import still polls")
	}
	counts := map[string]string{}
	for _, k := range []string{"count-added", "count-already", "count-failed", "count-skipped"} {
		counts[k] = testid(d, k).Text()
	}
	// Both rows were new to Kinde; the page says "added", as it would for
	// people another club knew.
	if want := map[string]string{"count-added": "2", "count-already": "0", "count-failed": "0", "count-skipped": "2"}; fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts = %v, want %v", counts, want)
	}

	res = b.get("/imports/1/results.csv")
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type = %q", ct)
	}
	recs, err := csv.NewReader(strings.NewReader(body(t, res))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Fatalf("results = %q, want a header and 4 rows", recs)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if club.FormulaLike(cell) {
				t.Errorf("cell %q is not neutralised", cell)
			}
		}
	}
	if got := recs[2][2]; got != "'=cmd|' /C calc'!A0" {
		t.Errorf("formula cell = %q, want it prefixed with '", got)
	}
	if got := recs[1][5]; got != "added" {
		t.Errorf("row 1 result = %q", got)
	}
}

func TestImportIsScopedToTheClub(t *testing.T) {
	e := newImportEnv(t)
	owner := e.browser()
	owner.signIn(olivia)
	if res := owner.upload("/members/import/start", map[string]string{"csv": previewCSV}, "", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: status %d", res.StatusCode)
	}
	tom := club.Identity{UserID: "kp_tom", Email: "tom@example.org", GivenName: "Tom", ClubCode: hilltop, ClubName: hilltopClub.Name,
		Roles: []string{club.RoleOwner}, Permissions: []string{club.PermMembersRead, club.PermMembersWrite}, Clubs: []club.Club{hilltopClub}}
	other := e.browser()
	other.signIn(tom)
	for _, target := range []string{"/imports/1", "/imports/1/results.csv", "/imports/abc", "/imports/0"} {
		if res := other.get(target); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s from another club: status = %d, want 404", target, res.StatusCode)
		}
	}
}
