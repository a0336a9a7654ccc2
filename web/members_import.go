package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// importBodyLimit bounds an upload's request body: the file's own cap plus
// room for the multipart framing and the other fields.
const importBodyLimit = club.MaxImportBytes + 64<<10

// handleImportForm shows the upload form.
func (s *Server) handleImportForm() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return s.render(w, r, http.StatusOK, importUploadView(""))
	})
}

// handleImportPreview reads an uploaded CSV and shows what importing it
// would do. It writes nothing: the file travels back with the start form.
func (s *Server) handleImportPreview() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		name, data, err := readUpload(w, r)
		if err != nil {
			return &formError{err: err, form: importUploadView(club.ErrorMessage(err))}
		}
		roles, err := s.clubRoles(r)
		if err != nil {
			return err
		}
		p, err := s.importer.Preview(id.Actor(), roles, bytes.NewReader(data))
		if err != nil {
			return &formError{err: err, form: importUploadView(club.ErrorMessage(err))}
		}
		page := previewPage(p, name, currentClub(id).Name)
		page.CSV = string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
		return s.render(w, r, http.StatusOK, view{
			Title: "Check the import",
			Nav:   layout.NavMembers,
			Page: func(sh layout.ShellProps) templ.Component {
				page.Shell = sh
				return views.ImportPreview(page)
			},
		})
	})
}

// readUpload reads the multipart upload's file field, bounded.
func readUpload(w http.ResponseWriter, r *http.Request) (name string, data []byte, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, importBodyLimit)
	if err := r.ParseMultipartForm(importBodyLimit); err != nil {
		return "", nil, uploadError(err)
	}
	f, h, err := r.FormFile("file")
	if err != nil {
		return "", nil, &club.Error{Code: club.EINVALID, Err: fmt.Errorf("web: import upload: %w", err),
			Message: "Choose a CSV file to upload."}
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, club.MaxImportBytes+1))
	if err != nil {
		return "", nil, uploadError(err)
	}
	if len(data) > club.MaxImportBytes {
		return "", nil, uploadTooLarge(nil)
	}
	return path.Base(strings.ReplaceAll(h.Filename, `\`, "/")), data, nil
}

func uploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return uploadTooLarge(err)
	}
	return &club.Error{Code: club.EINVALID, Err: fmt.Errorf("web: import upload: %w", err),
		Message: "The upload could not be read. Nothing was imported. Try again."}
}

func uploadTooLarge(err error) error {
	return &club.Error{Code: club.EINVALID, Err: err, Message: fmt.Sprintf(
		"The file is larger than %d MB. Split it into smaller files. Nothing was imported.", club.MaxImportBytes>>20)}
}

// handleImportStart stores the import of the file sent back by the
// preview's form and queues it, then shows its progress. A second submit
// of the same file returns the import already under way.
func (s *Server) handleImportStart() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, _ := identityFrom(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, 2*importBodyLimit)
		var err error
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			err = r.ParseMultipartForm(2 * importBodyLimit)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			err = uploadError(err)
			return &formError{err: err, form: importUploadView(club.ErrorMessage(err))}
		}
		roles, err := s.clubRoles(r)
		if err != nil {
			return err
		}
		imp, err := s.importer.Start(ctx, id.Actor(), currentClub(id), roles, r.FormValue("file_name"), strings.NewReader(r.FormValue("csv")))
		if err != nil {
			if club.ErrorCode(err) == club.EINVALID {
				return &formError{err: err, form: importUploadView(club.ErrorMessage(err))}
			}
			return err
		}
		if err := s.imports.EnqueueImport(ctx, imp.ID); err != nil {
			return &club.Error{Code: club.EUNAVAILABLE, Err: fmt.Errorf("web: queue import %d: %w", imp.ID, err),
				Message: "The import is saved but could not be started. Submit the same file again in a minute to start it."}
		}
		s.redirect(w, r, importURL(imp.ID))
		return nil
	})
}

// handleImportProgress shows an import's progress: the page, or for htmx's
// polling the progress fragment alone.
func (s *Server) handleImportProgress() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		imp, err := s.clubImport(r, id)
		if err != nil {
			return err
		}
		p := progressView(imp)
		return s.render(w, r, http.StatusOK, view{
			Title: "Importing members",
			Nav:   layout.NavMembers,
			Page: func(sh layout.ShellProps) templ.Component {
				return views.ImportProgressView(views.ImportProgressPage{Shell: sh, Progress: p})
			},
			Fragment: views.ImportProgressFragment(p),
		})
	})
}

// handleImportResults downloads an import's rows with their outcomes as
// CSV. Cells a spreadsheet would run as formulas are neutralised.
func (s *Server) handleImportResults() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id, _ := identityFrom(r.Context())
		imp, err := s.clubImport(r, id)
		if err != nil {
			return err
		}
		rows, err := s.importer.Rows(r.Context(), id.ClubCode, imp.ID)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := club.WriteImportResults(&buf, rows); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%d-results.csv"`, imp.ID))
		w.Header().Set("Cache-Control", "no-store")
		// A write error means the client went away.
		_, _ = buf.WriteTo(w)
		return nil
	})
}

// clubImport is the import named in the URL, looked up in the token's club
// only: another club's import is not found.
func (s *Server) clubImport(r *http.Request, id club.Identity) (club.Import, error) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		return club.Import{}, &club.Error{Code: club.ENOTFOUND, Message: "That import does not exist in this club."}
	}
	return s.importer.Import(r.Context(), id.ClubCode, n)
}

func importURL(id int64) string { return "/imports/" + strconv.FormatInt(id, 10) }

func importUploadView(errMsg string) view {
	return view{
		Title: "Import members",
		Nav:   layout.NavMembers,
		Page: func(sh layout.ShellProps) templ.Component {
			return views.ImportUpload(views.ImportUploadPage{Shell: sh,
				MaxRows: club.MaxImportRows, MaxMB: club.MaxImportBytes >> 20, Error: errMsg})
		},
	}
}

func previewPage(p club.ImportPreview, fileName, clubName string) views.ImportPreviewPage {
	page := views.ImportPreviewPage{ClubName: clubName, FileName: fileName, Valid: p.Valid(), Skipped: p.Skipped(),
		IgnoredColumns: p.IgnoredColumns}
	for _, b := range p.Bad() {
		if len(page.Bad) == views.MaxPreviewProblems {
			page.MoreBad++
			continue
		}
		page.Bad = append(page.Bad, views.ImportProblem{Line: b.Line, Email: b.Email, Reason: b.Reason})
	}
	for _, d := range p.Duplicates {
		if len(page.Duplicates) == views.MaxPreviewProblems {
			page.MoreDuplicates++
			continue
		}
		lines := make([]string, len(d.Lines))
		for i, l := range d.Lines {
			lines[i] = strconv.Itoa(l)
		}
		page.Duplicates = append(page.Duplicates, views.ImportDuplicate{Email: d.Email, Lines: strings.Join(lines, ", ")})
	}
	return page
}

func progressView(imp club.Import) views.ImportProgress {
	c := imp.Counts
	return views.ImportProgress{
		URL: importURL(imp.ID), ResultsURL: importURL(imp.ID) + "/results.csv",
		FileName: imp.FileName, StartedBy: imp.ActorName,
		Done: imp.Done(), Waiting: imp.Status == club.ImportQueued,
		ToRun: c.ToRun(), Finished: c.Finished(), Percent: c.Percent(),
		Added: c.AddedShown(), AlreadyMember: c.AlreadyMember, Failed: c.Failed, Skipped: c.Skipped,
	}
}
