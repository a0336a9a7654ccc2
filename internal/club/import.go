package club

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Import limits. A club moving onto the portal brings a spreadsheet of at
// most MaxImportRows people; the byte cap leaves room for long names and
// many roles on every row while keeping a hostile upload small.
const (
	MaxImportRows  = 5000
	MaxImportBytes = 2 << 20
)

// ImportColumns returns the columns an import file must have (in any
// order). Columns with other names are ignored, and the preview says so.
func ImportColumns() []string { return []string{"email", "first_name", "last_name", "roles"} }

// ImportRowStatus is where one row of an import stands.
type ImportRowStatus string

// Row states. Pending rows still have Kinde work to do; the others are
// final. Skipped rows were refused by the preview (bad or a duplicate) and
// never reach Kinde.
const (
	ImportPending       ImportRowStatus = "pending"
	ImportAdded         ImportRowStatus = "added"
	ImportCreated       ImportRowStatus = "created"
	ImportAlreadyMember ImportRowStatus = "already_member"
	ImportFailed        ImportRowStatus = "failed"
	ImportSkipped       ImportRowStatus = "skipped"
)

// Shown is the status as the club's admins see it. A person the import
// created and a person Kinde already knew (from another club) are both
// "added": telling them apart would tell club B that someone knew the
// person.
func (s ImportRowStatus) Shown() ImportRowStatus {
	if s == ImportCreated {
		return ImportAdded
	}
	return s
}

// ImportStep is the Kinde work a pending row waits for. It is stored with
// the row, so a resumed run picks each row up where it stopped.
type ImportStep string

// Steps of a pending row.
const (
	// StepResolve: find the person (directory, then Kinde) or create them.
	StepResolve ImportStep = ""
	// StepAttach: a person the directory knows, to add to the club with
	// a bulk AddOrganizationUsers call.
	StepAttach ImportStep = "attach"
	// StepUpsert: a person Kinde knows (the directory did not), to add or,
	// when Kinde has them in the club already, give the roles, with a bulk
	// UpdateOrganizationUsers call.
	StepUpsert ImportStep = "upsert"
	// StepGrant: a person this import created in the club, whose roles
	// are granted with a bulk UpdateOrganizationUsers call.
	StepGrant ImportStep = "grant"
)

// ImportRow is one data row of an import file and, once the import runs,
// its outcome.
type ImportRow struct {
	ID        int64
	Line      int // line of the file the row starts on (the header is line 1)
	Email     string
	FirstName string
	LastName  string
	Roles     []string
	Status    ImportRowStatus
	Step      ImportStep
	UserID    string
	// Reason says why a row was skipped or failed, in words an owner
	// can act on. It never holds an upstream error.
	Reason string
	// Attempted marks a row whose Kinde work (a create, or its bulk call)
	// was sent by a run that may have stopped before recording the
	// outcome. Kinde then already has the person in the club, so a run
	// that finds them there counts them added, not already a member.
	Attempted bool
}

// ImportDuplicate is an email that appears on more than one valid row.
// The first of its lines is imported; the others are skipped.
type ImportDuplicate struct {
	Email string
	Lines []int
}

// ImportPreview is what an import file would do, worked out without
// writing anything.
type ImportPreview struct {
	// Rows holds every data row in file order: pending rows will be
	// imported, skipped rows carry their Reason.
	Rows           []ImportRow
	Duplicates     []ImportDuplicate
	IgnoredColumns []string
	// Digest identifies the file's content, so a double-submitted start
	// does not import the same file twice at once.
	Digest string
}

// Valid counts the rows that will be imported.
func (p ImportPreview) Valid() int { return p.count(ImportPending) }

// Skipped counts the rows refused (bad rows and duplicates).
func (p ImportPreview) Skipped() int { return p.count(ImportSkipped) }

// Bad returns the skipped rows that are not duplicates, in file order.
func (p ImportPreview) Bad() []ImportRow {
	var out []ImportRow
	for _, r := range p.Rows {
		if r.Status == ImportSkipped && !strings.HasPrefix(r.Reason, duplicateReason) {
			out = append(out, r)
		}
	}
	return out
}

func (p ImportPreview) count(s ImportRowStatus) int {
	n := 0
	for _, r := range p.Rows {
		if r.Status == s {
			n++
		}
	}
	return n
}

// duplicateReason starts the reason of a row collapsed into an earlier one.
const duplicateReason = "Duplicate of line "

// ImportStatus is where a whole import stands.
type ImportStatus string

// Import states.
const (
	ImportQueued  ImportStatus = "queued"
	ImportRunning ImportStatus = "running"
	ImportDone    ImportStatus = "done"
)

// Import is a bulk import of members into one club.
type Import struct {
	ID         int64
	ClubCode   string
	ClubName   string
	ActorID    string
	ActorName  string
	FileName   string
	Digest     string
	Status     ImportStatus
	CreatedAt  time.Time
	StartedAt  time.Time // zero until a run starts
	FinishedAt time.Time // zero until every row is final
	Counts     ImportCounts
}

// Done reports whether every row of the import is final.
func (i Import) Done() bool { return i.Status == ImportDone }

// ImportCounts counts an import's rows by status.
type ImportCounts struct {
	Pending       int
	Added         int
	Created       int
	AlreadyMember int
	Failed        int
	Skipped       int
}

// AddedShown counts the rows added to the club, as admins see them: new to
// Kinde or not (see ImportRowStatus.Shown).
func (c ImportCounts) AddedShown() int { return c.Added + c.Created }

// Total counts every row of the file.
func (c ImportCounts) Total() int {
	return c.Pending + c.Added + c.Created + c.AlreadyMember + c.Failed + c.Skipped
}

// ToRun counts the rows the import sends to Kinde (all but the skipped).
func (c ImportCounts) ToRun() int { return c.Total() - c.Skipped }

// Finished counts the rows sent to Kinde that are final.
func (c ImportCounts) Finished() int { return c.Added + c.Created + c.AlreadyMember + c.Failed }

// Percent is how far the run is, 0 to 100.
func (c ImportCounts) Percent() int {
	if c.ToRun() == 0 {
		return 100
	}
	return c.Finished() * 100 / c.ToRun()
}

// Add counts one row of status s.
func (c *ImportCounts) Add(s ImportRowStatus, n int) {
	switch s {
	case ImportPending:
		c.Pending += n
	case ImportAdded:
		c.Added += n
	case ImportCreated:
		c.Created += n
	case ImportAlreadyMember:
		c.AlreadyMember += n
	case ImportFailed:
		c.Failed += n
	case ImportSkipped:
		c.Skipped += n
	}
}

// ParseImport reads an import file (CSV, UTF-8, with a header naming the
// columns email, first_name, last_name and roles in any order) and works
// out what importing it into a club with clubRoles would do. It writes
// nothing.
//
// A file that cannot be imported at all (too large, too many rows, not
// UTF-8, not CSV, a column missing) is refused with an EINVALID *Error whose
// message says what to fix. Otherwise each row is checked on its own: a bad
// row is skipped with a reason and the rest import.
//
// Rules for rows: roles are role keys separated by ";", "," or spaces, and an
// empty roles cell means "member"; only an owner may grant the owner role;
// a name or email starting with =, +, - or @ is refused, because a
// spreadsheet would run it as a formula; the second and later rows with an
// email already seen are skipped as duplicates (the first valid one wins).
func ParseImport(r io.Reader, clubRoles []Role, actor Actor) (ImportPreview, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return ImportPreview{}, fmt.Errorf("club: parse import: read: %w", err)
	}
	if len(data) > MaxImportBytes {
		return ImportPreview{}, importTooLarge()
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return ImportPreview{}, Errorf(EINVALID, "The file is not UTF-8 text. In your spreadsheet, save it as \"CSV UTF-8\" and upload it again. Nothing was imported.")
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return ImportPreview{}, Errorf(EINVALID, "The file is not a CSV file. Save your spreadsheet as \"CSV UTF-8\" and upload it again. Nothing was imported.")
	}
	sum := sha256.Sum256(data)
	preview := ImportPreview{Digest: hex.EncodeToString(sum[:])}

	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return ImportPreview{}, Errorf(EINVALID, "The file is empty. It needs a header line (email,first_name,last_name,roles) and one line per person.")
	}
	if err != nil {
		return ImportPreview{}, csvError(err)
	}
	cols, ignored, err := importHeader(header)
	if err != nil {
		return ImportPreview{}, err
	}
	preview.IgnoredColumns = ignored

	type record struct {
		line   int
		fields []string
	}
	var records []record
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ImportPreview{}, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		records = append(records, record{line, fields})
	}
	switch n := len(records); {
	case n == 0:
		return ImportPreview{}, Errorf(EINVALID, "The file has a header but no people. Add one line per person under the header.")
	case n > MaxImportRows:
		return ImportPreview{}, Errorf(EINVALID, "The file has %s rows; one import takes at most %s. Split it into smaller files. Nothing was imported.",
			thousands(n), thousands(MaxImportRows))
	}

	firstLine := map[string]int{} // email → index in Rows of its first valid row
	for _, rec := range records {
		row := importRow(rec.line, rec.fields, len(header), cols, clubRoles, actor)
		if row.Status == ImportPending {
			if i, seen := firstLine[row.Email]; seen {
				kept := preview.Rows[i].Line
				row.Status, row.Reason = ImportSkipped, duplicateReason+strconv.Itoa(kept)+": the same email is imported once."
				j := slices.IndexFunc(preview.Duplicates, func(d ImportDuplicate) bool { return d.Email == row.Email })
				if j < 0 {
					preview.Duplicates = append(preview.Duplicates, ImportDuplicate{Email: row.Email, Lines: []int{kept}})
					j = len(preview.Duplicates) - 1
				}
				preview.Duplicates[j].Lines = append(preview.Duplicates[j].Lines, row.Line)
			} else {
				firstLine[row.Email] = len(preview.Rows)
			}
		}
		preview.Rows = append(preview.Rows, row)
	}
	return preview, nil
}

func importTooLarge() error {
	return Errorf(EINVALID, "The file is larger than %d MB. Split it into smaller files. Nothing was imported.", MaxImportBytes>>20)
}

// csvError turns the CSV reader's error into a message naming the line.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{Code: EINVALID, Err: err, Message: fmt.Sprintf(
			"Line %d is not valid CSV (a quote is out of place). Fix that line, or save the spreadsheet as \"CSV UTF-8\" again. Nothing was imported.", pe.StartLine)}
	}
	return fmt.Errorf("club: parse import: %w", err)
}

// importHeader maps each required column to its index, and lists the other
// columns, which are ignored.
func importHeader(header []string) (map[string]int, []string, error) {
	required := ImportColumns()
	cols := map[string]int{}
	var ignored []string
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		name = strings.ReplaceAll(name, " ", "_")
		if !slices.Contains(required, name) {
			if name != "" {
				ignored = append(ignored, truncate(strings.TrimSpace(h), 40))
			}
			continue
		}
		if _, dup := cols[name]; dup {
			return nil, nil, Errorf(EINVALID, "The header names the column %s twice. Keep one and upload again. Nothing was imported.", name)
		}
		cols[name] = i
	}
	var missing []string
	for _, c := range required {
		if _, ok := cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, nil, &Error{Code: EINVALID, Message: fmt.Sprintf(
			"The file is missing the column%s %s. The first line must name the columns email, first_name, last_name and roles. Nothing was imported.",
			plural(len(missing)), strings.Join(missing, ", "))}
	}
	return cols, ignored, nil
}

// importRow checks one data row. The row comes back pending, normalised,
// or skipped with a reason.
func importRow(line int, fields []string, width int, cols map[string]int, clubRoles []Role, actor Actor) ImportRow {
	cell := func(name string) string {
		if i := cols[name]; i < len(fields) {
			return fields[i]
		}
		return ""
	}
	row := ImportRow{
		Line:      line,
		Email:     strings.TrimSpace(cell("email")),
		FirstName: strings.TrimSpace(cell("first_name")),
		LastName:  strings.TrimSpace(cell("last_name")),
		Status:    ImportSkipped,
	}
	// Skipped rows are stored and shown as they were: keep them short.
	row.Email = truncate(row.Email, MaxEmailLength+1)
	row.FirstName = truncate(row.FirstName, MaxNameLength+1)
	row.LastName = truncate(row.LastName, MaxNameLength+1)
	skip := func(reason string) ImportRow {
		row.Reason = reason
		return row
	}
	if len(fields) != width {
		return skip(fmt.Sprintf("This line has %d cells; the header has %d.", len(fields), width))
	}
	for _, c := range []struct{ name, v string }{{"Email", row.Email}, {"First name", row.FirstName}, {"Last name", row.LastName}} {
		if FormulaLike(c.v) {
			return skip(c.name + " starts with " + c.v[:1] + ", which a spreadsheet would run as a formula. Remove that character.")
		}
	}
	roleCell := strings.TrimSpace(cell("roles"))
	roles := strings.FieldsFunc(roleCell, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\t' })
	if len(roles) == 0 {
		roles = []string{RoleMember}
	}
	if len(roles) > maxImportRoles {
		return skip("List at most 20 roles.")
	}
	for i, k := range roles {
		roles[i] = strings.ToLower(k)
	}
	in, err := AddMemberInput{Email: row.Email, FirstName: row.FirstName, LastName: row.LastName, Roles: roles}.Validate(clubRoles)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			var msgs []string
			for _, f := range []string{"email", "first_name", "last_name", "roles"} {
				if m := e.Fields[f]; m != "" {
					if f == "roles" {
						m = "Roles: " + m + " Known roles: " + roleKeys(clubRoles) + "."
					}
					msgs = append(msgs, m)
				}
			}
			return skip(strings.Join(msgs, " "))
		}
		return skip("This line could not be read.")
	}
	if slices.Contains(in.Roles, RoleOwner) && !actor.IsOwner() {
		return skip("Only owners can grant the owner role.")
	}
	row.Email, row.FirstName, row.LastName, row.Roles = in.Email, in.FirstName, in.LastName, in.Roles
	row.Status = ImportPending
	return row
}

// maxImportRoles bounds the roles on one row.
const maxImportRoles = 20

// FormulaLike reports whether a spreadsheet would read s as a formula: it
// starts with =, +, - or @ (or a tab or carriage return, which some
// spreadsheets skip before looking).
func FormulaLike(s string) bool {
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

// NeutralizeCell makes a cell safe to open in a spreadsheet: a cell that
// would be read as a formula gets a leading apostrophe, which spreadsheets
// show as text.
func NeutralizeCell(s string) string {
	if FormulaLike(s) {
		return "'" + s
	}
	return s
}

// WriteImportResults writes an import's rows as CSV, one line per row of
// the file, with every cell neutralised.
func WriteImportResults(w io.Writer, rows []ImportRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"line", "email", "first_name", "last_name", "roles", "result", "reason"}); err != nil {
		return fmt.Errorf("club: import results: %w", err)
	}
	for _, r := range rows {
		rec := []string{strconv.Itoa(r.Line), r.Email, r.FirstName, r.LastName, strings.Join(r.Roles, ";"), string(r.Status.Shown()), r.Reason}
		for i := range rec {
			rec[i] = NeutralizeCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("club: import results: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("club: import results: %w", err)
	}
	return nil
}

func roleKeys(rs []Role) string {
	keys := make([]string, 0, len(rs))
	for _, r := range rs {
		keys = append(keys, r.Key)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// thousands formats n with comma separators (5000 → "5,000").
func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
