package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// statusOf maps a domain error code to its HTTP status. EUNAUTHENTICATED
// is absent: it becomes a sign-in redirect, not a status.
var statusOf = map[string]int{
	club.EINVALID:     http.StatusBadRequest,
	club.ENOTFOUND:    http.StatusNotFound,
	club.EFORBIDDEN:   http.StatusForbidden,
	club.ECONFLICT:    http.StatusConflict,
	club.EUNAVAILABLE: http.StatusServiceUnavailable,
	club.EINTERNAL:    http.StatusInternalServerError,
	club.ERATELIMITED: http.StatusTooManyRequests,
}

// formError is a failed form submission: the form is shown again with the
// error next to its fields and the typed values kept.
type formError struct {
	err  error
	form view // the form with its errors and values
}

func (e *formError) Error() string { return e.err.Error() }
func (e *formError) Unwrap() error { return e.err }

// errorStatus returns the HTTP status for err.
func errorStatus(err error) int {
	code := club.ErrorCode(err)
	var fe *formError
	if code == club.EINVALID && errors.As(err, &fe) {
		return http.StatusUnprocessableEntity
	}
	if st, ok := statusOf[code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// serveError is the one place that turns an error into a response. It
// picks the status from the domain error code, logs only server-side
// failures (with details, but every email address in them redacted: see
// club.LogError), and shows the person a safe message: never a stack
// trace, an internal id or an upstream error. A failed form is shown again
// with its errors; a missing sign-in becomes a redirect.
func (s *Server) serveError(w http.ResponseWriter, r *http.Request, err error) {
	if club.ErrorCode(err) == club.EUNAUTHENTICATED {
		s.redirect(w, r, signInURL(r))
		return
	}
	status := errorStatus(err)
	if status >= 500 {
		s.logger.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.String("request_id", requestID(r)),
			slog.Any("err", club.LogError(err)))
	}
	var fe *formError
	if errors.As(err, &fe) && status != http.StatusInternalServerError {
		if rerr := s.render(w, r, status, fe.form); rerr == nil {
			return
		}
	}
	if rerr := s.render(w, r, status, s.errorView(status, err)); rerr != nil {
		s.logger.ErrorContext(r.Context(), "web: render error page", "err", club.LogError(rerr))
		http.Error(w, http.StatusText(status), status)
	}
}

// signInURL is where a person who must sign in is sent; GET requests come
// back to where they were.
func signInURL(r *http.Request) string {
	if r.Method != http.MethodGet || r.URL.Path == "/" {
		return "/auth/login"
	}
	return "/auth/login?return_to=" + url.QueryEscape(r.URL.RequestURI())
}

func requestID(r *http.Request) string {
	if info := infoFrom(r.Context()); info != nil {
		return info.id
	}
	return ""
}

// errorView is the error page for status, with err's safe message when it
// has one.
func (s *Server) errorView(status int, err error) view {
	page := views.ErrorFor(status)
	var de *club.Error
	if errors.As(err, &de) && de.Message != "" && status != http.StatusInternalServerError &&
		!(status == http.StatusNotFound && de.Message == club.ErrNotFound.Message) {
		page.Message = de.Message
	}
	if club.ErrorCode(err) == club.ERATELIMITED {
		page.Title = "Too many attempts"
		page.BackURL, page.BackLabel = "/", "Go to the start page"
	}
	for _, st := range staffErrorPages {
		if errors.Is(err, st.err) {
			page.Title = st.title
			if st.toHome {
				page.BackURL, page.BackLabel = "/", "Go to the start page"
			}
			break
		}
	}
	return view{
		Title:    page.Title,
		Page:     func(sh layout.ShellProps) templ.Component { page.Shell = sh; return views.Error(page) },
		Fragment: views.ErrorFragment(page),
	}
}
