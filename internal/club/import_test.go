package club_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clubhouse/clubhouse/internal/club"
)

var (
	importOwner = club.Actor{UserID: "kp_owner", Name: "Olga Owner", Roles: []string{club.RoleOwner}}
	importAdmin = club.Actor{UserID: "kp_admin", Name: "Adam Admin", Roles: []string{club.RoleAdmin}}
)

func parse(t *testing.T, data string, actor club.Actor) (club.ImportPreview, error) {
	t.Helper()
	return club.ParseImport(strings.NewReader(data), testRoles, actor)
}

func TestParseImportRefusesFiles(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		b.WriteString("email,first_name,last_name,roles\n")
		for i := range n {
			fmt.Fprintf(&b, "p%d@example.org,A,B,member\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name    string
		data    string
		wantMsg string
	}{
		{"Latin-1", "email,first_name,last_name,roles\nana@example.org,Jos\xe9,L\xf3pez,member\n", "not UTF-8"},
		{"missing columns", "email,name\nana@example.org,Ana\n", "missing the columns first_name, last_name, roles"},
		{"one missing column", "email,first_name,last_name\nana@example.org,Ana,L\n", "missing the column roles."},
		{"10,000 rows", many(10_000), "The file has 10,000 rows; one import takes at most 5,000."},
		{"5,001 rows", many(5001), "5,001 rows"},
		{"empty", "", "The file is empty"},
		{"header only", "email,first_name,last_name,roles\n", "no people"},
		{"bad quoting", "email,first_name,last_name,roles\nana@example.org,\"Ana,L,member\nbo@example.org,B,C,member\n", "Line 2 is not valid CSV"},
		{"column twice", "email,email,first_name,last_name,roles\n", "names the column email twice"},
		{"binary", "email,first_name,last_name,roles\n\x00\x01", "not a CSV file"},
		{"too large", "email,first_name,last_name,roles\n" + strings.Repeat("x", club.MaxImportBytes), "larger than 2 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.data, importOwner)
			if club.ErrorCode(err) != club.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			if got := club.ErrorMessage(err); !strings.Contains(got, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", got, tt.wantMsg)
			}
		})
	}
}

func TestParseImportRows(t *testing.T) {
	type want struct {
		line   int
		status club.ImportRowStatus
		email  string
		roles  []string
		reason string // substring
	}
	tests := []struct {
		name    string
		data    string
		actor   club.Actor
		want    []want
		dups    []club.ImportDuplicate
		ignored []string
	}{
		{
			name:  "columns in any order, BOM, roles by ; or space, empty roles mean member",
			data:  "\xef\xbb\xbfRoles,Last_Name,EMAIL,first_name\r\ncoach;member,López,Ana@Example.org ,Ana\r\nadmin coach,Bo,bo@example.org,Bo\r\n,Cy,cy@example.org,\r\n",
			actor: importOwner,
			want: []want{
				{line: 2, status: club.ImportPending, email: "ana@example.org", roles: []string{"coach", "member"}},
				{line: 3, status: club.ImportPending, email: "bo@example.org", roles: []string{"admin", "coach"}},
				{line: 4, status: club.ImportPending, email: "cy@example.org", roles: []string{"member"}},
			},
		},
		{
			name:    "extra columns are ignored",
			data:    "email,phone,first_name,last_name,roles\nana@example.org,555,Ana,L,member\n",
			actor:   importOwner,
			want:    []want{{line: 2, status: club.ImportPending, email: "ana@example.org", roles: []string{"member"}}},
			ignored: []string{"phone"},
		},
		{
			name: "duplicates collapse onto the first valid row",
			data: "email,first_name,last_name,roles\nnot-an-email,A,B,member\nana@example.org,Ana,L,member\nANA@example.org,Ana,L,coach\nbo@example.org,Bo,B,member\nana@example.org,X,Y,member\n",
			want: []want{
				{line: 2, status: club.ImportSkipped, reason: "valid email"},
				{line: 3, status: club.ImportPending, email: "ana@example.org"},
				{line: 4, status: club.ImportSkipped, email: "ana@example.org", reason: "Duplicate of line 3"},
				{line: 5, status: club.ImportPending, email: "bo@example.org"},
				{line: 6, status: club.ImportSkipped, email: "ana@example.org", reason: "Duplicate of line 3"},
			},
			actor: importOwner,
			dups:  []club.ImportDuplicate{{Email: "ana@example.org", Lines: []int{3, 4, 6}}},
		},
		{
			name: "formula injection in any cell is refused",
			data: "email,first_name,last_name,roles\n" +
				"a@example.org,=cmd|' /C calc'!A0,L,member\n" +
				"b@example.org,Bo,+1,member\n" +
				"c@example.org,-Cy,L,member\n" +
				"d@example.org,@SUM(1),L,member\n" +
				"=e@example.org,E,L,member\n" +
				"f@example.org,Fé,O'Neil-Smith,member\n",
			actor: importOwner,
			want: []want{
				{line: 2, status: club.ImportSkipped, reason: "First name starts with =, which a spreadsheet would run as a formula"},
				{line: 3, status: club.ImportSkipped, reason: "Last name starts with +"},
				{line: 4, status: club.ImportSkipped, reason: "First name starts with -"},
				{line: 5, status: club.ImportSkipped, reason: "First name starts with @"},
				{line: 6, status: club.ImportSkipped, reason: "Email starts with ="},
				{line: 7, status: club.ImportPending, email: "f@example.org"},
			},
		},
		{
			name: "bad rows say why",
			data: "email,first_name,last_name,roles\n" +
				"a@example.org,A,L,captain\n" +
				"b@example.org,<b>,L,member\n" +
				"c@example.org,C,L\n" +
				"d@example.org,D,L,owner\n",
			actor: importAdmin,
			want: []want{
				{line: 2, status: club.ImportSkipped, reason: "Roles: Choose roles from the list. Known roles: admin, coach, member, owner."},
				{line: 3, status: club.ImportSkipped, reason: "First name cannot contain < or >."},
				{line: 4, status: club.ImportSkipped, reason: "This line has 3 cells; the header has 4."},
				{line: 5, status: club.ImportSkipped, reason: "Only owners can grant the owner role."},
			},
		},
		{
			name:  "a quoted cell over two lines keeps its line number",
			data:  "email,first_name,last_name,roles\n\"a@example.org\",\"Ann\nMarie\",L,member\nb@example.org,B,L,member\n",
			actor: importOwner,
			want: []want{
				{line: 2, status: club.ImportSkipped, reason: "control characters"},
				{line: 4, status: club.ImportPending, email: "b@example.org"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parse(t, tt.data, tt.actor)
			if err != nil {
				t.Fatalf("ParseImport: %v", err)
			}
			if len(p.Rows) != len(tt.want) {
				t.Fatalf("rows = %d (%+v), want %d", len(p.Rows), p.Rows, len(tt.want))
			}
			for i, w := range tt.want {
				got := p.Rows[i]
				if got.Line != w.line || got.Status != w.status || (w.email != "" && got.Email != w.email) ||
					(w.roles != nil && !slices.Equal(got.Roles, w.roles)) || !strings.Contains(got.Reason, w.reason) {
					t.Errorf("row %d = %+v, want %+v", i, got, w)
				}
				if (got.Status == club.ImportSkipped) != (got.Reason != "") {
					t.Errorf("row %d: status %s with reason %q", i, got.Status, got.Reason)
				}
			}
			if !slices.EqualFunc(p.Duplicates, tt.dups, func(a, b club.ImportDuplicate) bool {
				return a.Email == b.Email && slices.Equal(a.Lines, b.Lines)
			}) {
				t.Errorf("duplicates = %+v, want %+v", p.Duplicates, tt.dups)
			}
			if !slices.Equal(p.IgnoredColumns, tt.ignored) {
				t.Errorf("ignored = %v, want %v", p.IgnoredColumns, tt.ignored)
			}
		})
	}
}

func TestParseImportDigest(t *testing.T) {
	a, err := parse(t, "email,first_name,last_name,roles\na@example.org,A,L,member\n", importOwner)
	if err != nil {
		t.Fatal(err)
	}
	b, err := parse(t, "\xef\xbb\xbfemail,first_name,last_name,roles\na@example.org,A,L,member\n", importOwner)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parse(t, "email,first_name,last_name,roles\nb@example.org,A,L,member\n", importOwner)
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != b.Digest || a.Digest == c.Digest || len(a.Digest) != 64 {
		t.Errorf("digests %s %s %s: want the BOM ignored and content to count", a.Digest, b.Digest, c.Digest)
	}
}

func TestWriteImportResultsNeutralises(t *testing.T) {
	rows := []club.ImportRow{
		{Line: 2, Email: "a@example.org", FirstName: "=HYPERLINK(\"x\")", LastName: "+1", Roles: []string{"member"}, Status: club.ImportSkipped, Reason: "-bad"},
		{Line: 3, Email: "@b@example.org", FirstName: "Bo", LastName: "Ng", Roles: []string{"coach", "member"}, Status: club.ImportAdded},
	}
	var buf bytes.Buffer
	if err := club.WriteImportResults(&buf, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"line", "email", "first_name", "last_name", "roles", "result", "reason"},
		{"2", "a@example.org", "'=HYPERLINK(\"x\")", "'+1", "member", "skipped", "'-bad"},
		{"3", "'@b@example.org", "Bo", "Ng", "coach;member", "added", ""},
	}
	if !slices.EqualFunc(recs, want, slices.Equal) {
		t.Errorf("got %q, want %q", recs, want)
	}
}

// FuzzParseImport checks that no input makes the parser panic, and that
// what it accepts holds: unique, valid, formula-free emails and names on
// pending rows, a reason on every skipped row, and at most MaxImportRows.
func FuzzParseImport(f *testing.F) {
	for _, s := range []string{
		"email,first_name,last_name,roles\nana@example.org,Ana,L,member\n",
		"\xef\xbb\xbfroles,email,first_name,last_name\r\ncoach;member,a@example.org,A,B\r\n",
		"email,first_name,last_name,roles\n\"a@example.org\",\"A\"\"B\",L,member\na@example.org,x,y,coach\n",
		"email,first_name,last_name,roles\n=cmd@example.org,@A,-B,+C\n",
		"email,name\nx\n",
		"email,first_name,last_name,roles\nJos\xe9\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := club.ParseImport(bytes.NewReader(data), testRoles, importOwner)
		if err != nil {
			if club.ErrorCode(err) != club.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			return
		}
		if len(p.Rows) == 0 || len(p.Rows) > club.MaxImportRows {
			t.Fatalf("%d rows accepted", len(p.Rows))
		}
		seen := map[string]bool{}
		for _, r := range p.Rows {
			switch r.Status {
			case club.ImportPending:
				if seen[r.Email] {
					t.Fatalf("email %q pending twice", r.Email)
				}
				seen[r.Email] = true
				if _, err := club.NormalizeEmail(r.Email); err != nil || len(r.Roles) == 0 {
					t.Fatalf("pending row %+v is not valid", r)
				}
				for _, s := range []string{r.Email, r.FirstName, r.LastName} {
					if club.FormulaLike(s) || !utf8.ValidString(s) {
						t.Fatalf("pending row %+v holds %q", r, s)
					}
				}
			case club.ImportSkipped:
				if r.Reason == "" {
					t.Fatalf("skipped row %+v has no reason", r)
				}
			default:
				t.Fatalf("row status %q", r.Status)
			}
		}
	})
}
