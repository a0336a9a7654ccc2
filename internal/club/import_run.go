package club

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"
)

// Audit actions of a bulk import: one row when it starts and one when it
// finishes, never one per imported person.
const (
	ActionImportStarted  = "import.started"
	ActionImportFinished = "import.finished"
)

// MaxBulkMembers is the most people one bulk Kinde call takes.
const MaxBulkMembers = 100

// BulkMember is one person in a bulk Kinde call, with the role keys they
// should hold in the club.
type BulkMember struct {
	UserID string
	Roles  []string
}

// ImportIdentities is the part of the identity provider's management side
// an import needs. Implementation: internal/kinde. Errors as for
// Identities.
type ImportIdentities interface {
	FindPersonByEmail(ctx context.Context, email string) (Person, error)
	CreatePerson(ctx context.Context, p Person, clubCode string) (Person, error)
	// BulkAddMembers adds people Kinde knows to the club with their roles,
	// at most MaxBulkMembers per Kinde call (AddOrganizationUsers). It
	// returns the ids Kinde added; people already in the club are left as
	// they are and not returned.
	BulkAddMembers(ctx context.Context, clubCode string, ms []BulkMember) (added []string, err error)
	// BulkUpdateMembers adds people to the club, or gives the roles to
	// those already in it (keeping the roles they hold), at most
	// MaxBulkMembers per Kinde call (UpdateOrganizationUsers). It returns
	// the ids that were not members before.
	BulkUpdateMembers(ctx context.Context, clubCode string, ms []BulkMember) (added []string, err error)
}

// ImportStore keeps imports and their rows. Implementation: internal/store.
// Lookups that find nothing return an error for which errors.Is(err,
// ErrNotFound) is true.
type ImportStore interface {
	// CreateImport stores a queued import with its rows and appends ev, in
	// one transaction, and returns the import's id. When the club has an
	// unfinished import of the same file (digest), from any instance, it
	// writes nothing and returns that import's id.
	CreateImport(ctx context.Context, imp Import, rows []ImportRow, ev AuditEvent) (int64, error)
	// Import returns the club's import id with its counts. An import of
	// another club is not found.
	Import(ctx context.Context, clubCode string, id int64) (Import, error)
	// ImportByID returns any club's import (for the job that runs it).
	ImportByID(ctx context.Context, id int64) (Import, error)
	// ImportRows lists the club's import's rows in file order.
	ImportRows(ctx context.Context, clubCode string, id int64) ([]ImportRow, error)
	// PendingImportRows lists the import's pending rows in file order.
	PendingImportRows(ctx context.Context, id int64) ([]ImportRow, error)
	// MarkImportRunning records that a run started (the first start time
	// is kept).
	MarkImportRunning(ctx context.Context, id int64, at time.Time) error
	// SaveImportRows records the rows' status, step, user id and reason,
	// writes ms to the directory as of version v (taken once Kinde did the
	// rows' work; 0 means now) and queues invs, in one transaction.
	SaveImportRows(ctx context.Context, importID int64, v Version, rows []ImportRow, ms []Member, invs []Invitation) error
	// FinishImport marks the import done and appends ev, in one
	// transaction. Finishing a finished import changes nothing.
	FinishImport(ctx context.Context, id int64, at time.Time, ev AuditEvent) error
}

// Importer imports members into a club in bulk from a CSV file: a preview
// that writes nothing, a start that stores the import, and a run (in a
// background job) that does the Kinde work row by row, resumable.
type Importer struct {
	store      ImportStore
	dir        Directory
	identities ImportIdentities
	now        func() time.Time
	logger     *slog.Logger
	locks      keyLock
}

// NewImporter returns an Importer. now may be nil (time.Now); logger may
// be nil.
func NewImporter(store ImportStore, dir Directory, identities ImportIdentities, now func() time.Time, logger *slog.Logger) *Importer {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Importer{store: store, dir: dir, identities: identities, now: now, logger: logger}
}

// Preview reads the file and says what importing it would do. It writes
// nothing.
func (im *Importer) Preview(actor Actor, clubRoles []Role, r io.Reader) (ImportPreview, error) {
	return ParseImport(r, clubRoles, actor)
}

// Start reads the file again (the preview wrote nothing), stores the import
// with its rows, queued, and returns it. The caller queues Run. A second
// start of the same file while the first is unfinished returns the first.
func (im *Importer) Start(ctx context.Context, actor Actor, c Club, clubRoles []Role, fileName string, r io.Reader) (Import, error) {
	p, err := ParseImport(r, clubRoles, actor)
	if err != nil {
		return Import{}, err
	}
	if p.Valid() == 0 {
		return Import{}, Errorf(EINVALID, "No row of the file can be imported. Fix the rows listed and upload the file again. Nothing was imported.")
	}
	// A second start of the file finds the first in CreateImport, which
	// settles it for every instance at once.
	now := im.now().UTC()
	imp := Import{ClubCode: c.Code, ClubName: c.Name, ActorID: actor.UserID, ActorName: actor.Name,
		FileName: truncate(fileName, 120), Digest: p.Digest, Status: ImportQueued, CreatedAt: now}
	ev := AuditEvent{ClubCode: c.Code, ActorID: actor.UserID, ActorName: actor.Name, Action: ActionImportStarted,
		Detail: fmt.Sprintf("%d rows to import, %d skipped", p.Valid(), p.Skipped()), At: now}
	id, err := im.store.CreateImport(ctx, imp, p.Rows, ev)
	if err != nil {
		return Import{}, fmt.Errorf("club: start import: %w", err)
	}
	return im.store.Import(ctx, c.Code, id)
}

// Import returns the club's import with its counts.
func (im *Importer) Import(ctx context.Context, clubCode string, id int64) (Import, error) {
	imp, err := im.store.Import(ctx, clubCode, id)
	if err != nil {
		return Import{}, importLookupError(err)
	}
	return imp, nil
}

// Rows returns the club's import's rows in file order, for the results
// download.
func (im *Importer) Rows(ctx context.Context, clubCode string, id int64) ([]ImportRow, error) {
	if _, err := im.Import(ctx, clubCode, id); err != nil {
		return nil, err
	}
	rows, err := im.store.ImportRows(ctx, clubCode, id)
	if err != nil {
		return nil, fmt.Errorf("club: import rows: %w", err)
	}
	return rows, nil
}

func importLookupError(err error) error {
	if errors.Is(err, ErrNotFound) {
		return &Error{Code: ENOTFOUND, Message: "That import does not exist in this club.", Err: err}
	}
	return fmt.Errorf("club: import: %w", err)
}

// Run does the Kinde work of import id's pending rows and records each
// row's outcome as soon as its Kinde work is done. It is resumable and
// idempotent: a run after a crash (or a second run) picks up the pending
// rows where they stopped and never repeats a row that is recorded.
//
// Kinde calls: none for people already in the club's directory; one bulk
// AddOrganizationUsers per 100 people the directory knows; for the others,
// CreatePerson (plus a lookup when Kinde has the email already) and one
// bulk UpdateOrganizationUsers per 100 of them for their roles.
//
// When Kinde does not answer (after the client's retries and rate-limit
// waits) Run stops with an EUNAVAILABLE error and the rows not yet done
// stay pending, for the job's next attempt.
func (im *Importer) Run(ctx context.Context, id int64) error {
	unlock := im.locks.lock(fmt.Sprintf("run\x00%d", id))
	defer unlock()
	imp, err := im.store.ImportByID(ctx, id)
	if err != nil {
		return fmt.Errorf("club: run import %d: %w", id, err)
	}
	if imp.Done() {
		return nil
	}
	if err := im.store.MarkImportRunning(ctx, id, im.now().UTC()); err != nil {
		return fmt.Errorf("club: run import %d: %w", id, err)
	}
	rows, err := im.store.PendingImportRows(ctx, id)
	if err != nil {
		return fmt.Errorf("club: run import %d: %w", id, err)
	}
	c := Club{Code: imp.ClubCode, Name: imp.ClubName}
	// Rows an earlier run sent to Kinde without recording the outcome.
	earlier := map[int64]bool{}
	for _, r := range rows {
		earlier[r.ID] = r.Attempted
	}
	for i := range rows {
		if rows[i].Step != StepResolve {
			continue
		}
		if err := im.resolve(ctx, imp, &rows[i]); err != nil {
			return err
		}
	}
	byStep := func(steps ...ImportStep) []ImportRow {
		var out []ImportRow
		for _, r := range rows {
			if r.Status == ImportPending && slices.Contains(steps, r.Step) {
				out = append(out, r)
			}
		}
		return out
	}
	for chunk := range slices.Chunk(byStep(StepAttach), MaxBulkMembers) {
		if err := im.bulk(ctx, imp, c, chunk, earlier, im.identities.BulkAddMembers); err != nil {
			return err
		}
	}
	for chunk := range slices.Chunk(byStep(StepUpsert, StepGrant), MaxBulkMembers) {
		if err := im.bulk(ctx, imp, c, chunk, earlier, im.identities.BulkUpdateMembers); err != nil {
			return err
		}
	}
	return im.finish(ctx, imp)
}

// resolve finds the person of a row without Kinde work done yet: from the
// directory (no Kinde call), or by creating them in the club (one call; a
// lookup more when Kinde has the email already). It records the row's next
// step, or its final status.
func (im *Importer) resolve(ctx context.Context, imp Import, row *ImportRow) error {
	person, err := im.dir.PersonByEmail(ctx, row.Email)
	switch {
	case err == nil:
		m, err := im.dir.Member(ctx, imp.ClubCode, person.ID)
		switch {
		case err == nil && !m.Pending:
			row.Status, row.UserID = ImportAlreadyMember, person.ID
		case err == nil && m.Pending:
			// Created earlier (by an add or by this import before a
			// crash) but without roles yet: finish it.
			row.Step, row.UserID = StepGrant, person.ID
		case errors.Is(err, ErrNotFound):
			row.Step, row.UserID = StepAttach, person.ID
		default:
			return fmt.Errorf("club: run import %d: %w", imp.ID, err)
		}
		return im.saveRows(ctx, imp, []ImportRow{*row}, nil, nil)
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("club: run import %d: %w", imp.ID, err)
	}

	// Recorded before the call: should this run stop before the outcome is
	// recorded, the next one knows the person may be in the club by its
	// doing.
	if !row.Attempted {
		row.Attempted = true
		if err := im.saveRows(ctx, imp, []ImportRow{*row}, nil, nil); err != nil {
			return err
		}
	}
	created, err := im.identities.CreatePerson(ctx, Person{Email: row.Email, FirstName: row.FirstName, LastName: row.LastName}, imp.ClubCode)
	switch {
	case err == nil:
		// In the club without roles: record it pending in the directory
		// too, so that an add of the same email finishes it should this
		// import never get there.
		row.Step, row.UserID = StepGrant, created.ID
		pending := im.member(imp, *row)
		pending.Roles, pending.Pending = []string{}, true
		return im.saveRows(ctx, imp, []ImportRow{*row}, []Member{pending}, nil)
	case errors.Is(err, ErrEmailInUse):
		found, err := im.identities.FindPersonByEmail(ctx, row.Email)
		switch {
		case err == nil:
			row.Step, row.UserID = StepUpsert, found.ID
		case errors.Is(err, ErrNotFound):
			row.Status, row.Reason = ImportFailed, "Kinde has this email but would not say whose it is. Add this person by hand."
		case ErrorCode(err) == EUNAVAILABLE:
			return err
		default:
			im.logger.WarnContext(ctx, "import: find person failed", "import_id", imp.ID, "line", row.Line, "err", err)
			row.Status, row.Reason = ImportFailed, "Kinde refused to look this person up. Add them by hand."
		}
	case ErrorCode(err) == EUNAVAILABLE:
		return err
	default:
		im.logger.WarnContext(ctx, "import: create person failed", "import_id", imp.ID, "line", row.Line, "err", err)
		row.Status, row.Reason = ImportFailed, "Kinde refused to create this person. Check the email and add them by hand."
	}
	return im.saveRows(ctx, imp, []ImportRow{*row}, nil, nil)
}

// bulk sends a chunk of rows to Kinde in one call and records the outcome
// of each, with the directory's new members and their invitations, in one
// transaction. A call Kinde refuses outright fails the chunk's rows.
// earlier names the rows an earlier run already sent to Kinde.
func (im *Importer) bulk(ctx context.Context, imp Import, c Club, chunk []ImportRow, earlier map[int64]bool,
	call func(context.Context, string, []BulkMember) ([]string, error)) error {
	ms := make([]BulkMember, len(chunk))
	mark := false
	for i, r := range chunk {
		ms[i] = BulkMember{UserID: r.UserID, Roles: slices.Clone(r.Roles)}
		mark = mark || !r.Attempted
		chunk[i].Attempted = true
	}
	// Recorded before the call, as for a create (see resolve).
	if mark {
		if err := im.saveRows(ctx, imp, chunk, nil, nil); err != nil {
			return err
		}
	}
	added, err := call(ctx, c.Code, ms)
	if ErrorCode(err) == EUNAVAILABLE {
		return err
	}
	var members []Member
	var invs []Invitation
	for i := range chunk {
		r := &chunk[i]
		switch {
		case err != nil:
			r.Status, r.Reason = ImportFailed, "Kinde refused to add this person to the club. Add them by hand."
			continue
		case r.Step == StepGrant:
			r.Status = ImportCreated
		case slices.Contains(added, r.UserID) || earlier[r.ID]:
			// Added now, or by this import's earlier call whose answer was
			// lost with its run.
			r.Status = ImportAdded
		default:
			// Kinde had them in the club already, though the directory did
			// not. Their roles in Kinde are not read back (that would cost
			// a call per person): the directory learns them from Kinde's
			// webhook or the next sync.
			r.Status = ImportAlreadyMember
			continue
		}
		m := im.member(imp, *r)
		members = append(members, m)
		invs = append(invs, invitationFor(c, m, imp.ActorName))
	}
	if err != nil {
		im.logger.WarnContext(ctx, "import: bulk call refused", "import_id", imp.ID, "rows", len(chunk), "err", err)
	}
	return im.saveRows(ctx, imp, chunk, members, invs)
}

func (im *Importer) member(imp Import, r ImportRow) Member {
	return newMember(imp.ClubCode, r.UserID, r.Email, r.FirstName, r.LastName, r.Roles, im.now())
}

func (im *Importer) saveRows(ctx context.Context, imp Import, rows []ImportRow, ms []Member, invs []Invitation) error {
	// The version is taken now, after the rows' Kinde work and before the
	// save: a removal of one of these people that Kinde made after it, and
	// that was saved first, is not undone (imports do not hold the club's
	// lock, so an owner's change may interleave).
	var v Version
	if len(ms) > 0 {
		var err error
		if v, err = im.dir.BeginRead(ctx); err != nil {
			return fmt.Errorf("club: import %d: %w", imp.ID, err)
		}
	}
	if err := im.store.SaveImportRows(ctx, imp.ID, v, rows, ms, invs); err != nil {
		return fmt.Errorf("club: run import %d: save rows: %w", imp.ID, err)
	}
	return nil
}

// finish marks the import done once no row is pending.
func (im *Importer) finish(ctx context.Context, imp Import) error {
	cur, err := im.store.ImportByID(ctx, imp.ID)
	if err != nil {
		return fmt.Errorf("club: run import %d: %w", imp.ID, err)
	}
	if cur.Counts.Pending > 0 {
		return fmt.Errorf("club: run import %d: %d rows still pending", imp.ID, cur.Counts.Pending)
	}
	n := cur.Counts
	ev := AuditEvent{ClubCode: imp.ClubCode, ActorID: imp.ActorID, ActorName: imp.ActorName, Action: ActionImportFinished,
		Detail: fmt.Sprintf("%d added, %d already members, %d failed, %d skipped",
			n.AddedShown(), n.AlreadyMember, n.Failed, n.Skipped), At: im.now().UTC()}
	if err := im.store.FinishImport(ctx, imp.ID, ev.At, ev); err != nil {
		return fmt.Errorf("club: run import %d: %w", imp.ID, err)
	}
	return nil
}
