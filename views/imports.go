package views

import "github.com/clubhouse/clubhouse/views/layout"

// ImportUploadPage is the bulk import's upload form.
type ImportUploadPage struct {
	Shell   layout.ShellProps
	MaxRows int // people per file
	MaxMB   int
	// Error says why the last upload was refused (nothing was imported).
	Error string
}

// ImportProblem is one row of an upload that will not be imported.
type ImportProblem struct {
	Line   int
	Email  string
	Reason string
}

// ImportDuplicate is an email on several rows; the first line is imported.
type ImportDuplicate struct {
	Email string
	Lines string // "3, 7, 12"
}

// ImportPreviewPage says what an upload would do, before anything is
// written, and offers to start the import.
type ImportPreviewPage struct {
	Shell          layout.ShellProps
	ClubName       string
	FileName       string
	Valid          int
	Skipped        int
	Bad            []ImportProblem // at most MaxPreviewProblems
	MoreBad        int             // bad rows not listed
	Duplicates     []ImportDuplicate
	MoreDuplicates int
	IgnoredColumns []string
	// CSV is the uploaded file, sent back with the start form: the
	// portal keeps nothing until the import starts.
	CSV string
}

// MaxPreviewProblems bounds the bad rows and duplicates a preview lists.
const MaxPreviewProblems = 100

// ImportProgress is an import's live counts.
type ImportProgress struct {
	URL        string // of the progress page (and fragment)
	ResultsURL string
	FileName   string
	StartedBy  string
	Done       bool
	// Waiting is true while no run has started yet (queued).
	Waiting  bool
	ToRun    int
	Finished int
	Percent  int
	// Added counts everyone the import added, whether or not Kinde knew
	// them before: telling those apart would tell another club's secret.
	Added         int
	AlreadyMember int
	Failed        int
	Skipped       int
}

// ImportProgressPage is the page of one import's progress.
type ImportProgressPage struct {
	Shell    layout.ShellProps
	Progress ImportProgress
}

// plural picks the singular or plural phrase for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
