package club_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

func TestRedactEmails(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"none", "Kinde did not answer.", "Kinde did not answer."},
		{"at without address", "@ the club, a@ and @b", "@ the club, a@ and @b"},
		{"one", "adding ana@example.org is not finished", "adding ***@example.org is not finished"},
		{"several", "ana@example.org, tom+club@sub.example.co.uk", "***@example.org, ***@sub.example.co.uk"},
		{"end of sentence", "Invited ana@example.org.", "Invited ***@example.org."},
		{"quoted", `create "Ana.B-c_d@Example.ORG": 500`, `create "***@Example.ORG": 500`},
		{"url-encoded", "GET /api/v1/users?email=ana%40example.org&page_size=2", "GET /api/v1/users?email=***%40example.org&page_size=2"},
		{"non-ASCII local part", "adding josé@example.org", "adding ***@example.org"},
		{"unusual characters", "o'brien!x#y@example.org", "***@example.org"},
		{"key=value", "email=ana@example.org", "email=***@example.org"},
		{"already redacted", "***@example.org", "***@example.org"},
		{"staff domain", "sam@clubhouse.example", "***@clubhouse.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := club.RedactEmails(tt.in); got != tt.want {
				t.Errorf("RedactEmails(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// logged returns what a text log line shows of an attribute err=v.
func logged(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Error("request failed", "err", v)
	return buf.String()
}

// TestErrorLogValue is issue 12: a domain error's message may name the
// person added, and it reached the ERROR log whole. Logged, an *Error
// shows its code and its message and cause with emails redacted.
func TestErrorLogValue(t *testing.T) {
	cause := fmt.Errorf("kinde: grant roles to ana@example.org: %w", club.ErrUnavailable)
	domain := &club.Error{Code: club.EUNAVAILABLE, Err: cause,
		Message: "Kinde did not answer, so adding ana@example.org is not finished. Try again in a minute to finish it."}
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{"the error itself", domain, []string{"err.code=unavailable", "adding ***@example.org is not finished", "err.cause=", "grant roles to ***@example.org"}},
		{"LogError of the error", club.LogError(domain), []string{"err.code=unavailable", "adding ***@example.org"}},
		{"LogError of a wrapped error", club.LogError(fmt.Errorf("web: add member: %w", domain)), []string{"err.code=unavailable", "web: add member: club: unavailable", "***@example.org"}},
		{"LogError of a plain error", club.LogError(errors.New("smtp: 550 no such user ana@example.org")), []string{"err.code=internal", "no such user ***@example.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := logged(t, tt.v)
			if strings.Contains(got, "ana@example.org") {
				t.Errorf("log line carries the email: %s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("log line %s\nlacks %q", got, w)
				}
			}
		})
	}
	// The error still says everything to code that handles it.
	if !strings.Contains(domain.Error(), "ana@example.org") || club.ErrorMessage(domain) != domain.Message {
		t.Errorf("Error() = %q: redaction must only change what is logged", domain.Error())
	}
}

func TestLogErrorNil(t *testing.T) {
	if got := logged(t, club.LogError(nil)); !strings.Contains(got, "err=<nil>") {
		t.Errorf("LogError(nil) logged as %s", got)
	}
}

// TestErrEmailInUse is issue 12: ErrEmailInUse was a bare sentinel beside
// the domain's one error type. It is an *Error now, and errors.Is still
// finds it however an adapter wraps it, and only it: another conflict is
// not taken for "Kinde knows this email", which would send an add down the
// look-up path.
func TestErrEmailInUse(t *testing.T) {
	var e *club.Error
	if !errors.As(club.ErrEmailInUse, &e) {
		t.Fatalf("ErrEmailInUse is a %T, want *club.Error", club.ErrEmailInUse)
	}
	if got, want := e.Code, club.ECONFLICT; got != want {
		t.Errorf("code: got %q, want %q", got, want)
	}
	msg := club.ErrorMessage(club.ErrEmailInUse)
	if msg == club.ErrorMessage(errors.New("x")) {
		t.Errorf("message: got the generic %q, want one of its own", msg)
	}
	// An owner must not learn from it that Kinde (another club) knows the person.
	for _, leak := range []string{"Kinde", "exist", "already", "in use"} {
		if strings.Contains(msg, leak) {
			t.Errorf("message %q says %q: it must not tell an owner that Kinde knows the person", msg, leak)
		}
	}

	apiErr := errors.New("kinde: POST /api/v1/user: 400 Email already in use")
	tests := []struct {
		name     string
		err      error
		wantIs   bool
		wantCode string
	}{
		{"itself", club.ErrEmailInUse, true, club.ECONFLICT},
		{"wrapped by the Kinde adapter", fmt.Errorf("kinde: create person: %w (%w)", club.ErrEmailInUse, apiErr), true, club.ECONFLICT},
		{"wrapped twice", fmt.Errorf("club: add member: %w", fmt.Errorf("kinde: create person: %w", club.ErrEmailInUse)), true, club.ECONFLICT},
		{"another conflict", club.Errorf(club.ECONFLICT, "A club needs at least one owner."), false, club.ECONFLICT},
		{"a conflict with the same message", &club.Error{Code: club.ECONFLICT, Message: msg}, false, club.ECONFLICT},
		{"not found", club.ErrNotFound, false, club.ENOTFOUND},
		{"a plain error", apiErr, false, club.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, club.ErrEmailInUse); got != tt.wantIs {
				t.Errorf("errors.Is(%v, ErrEmailInUse) = %v, want %v", tt.err, got, tt.wantIs)
			}
			if got := club.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
		})
	}
	// Nor is it taken for the sentinels matched by code.
	inUse := fmt.Errorf("kinde: create person: %w", club.ErrEmailInUse)
	for _, s := range []error{club.ErrNotFound, club.ErrUnavailable, club.ErrSessionEnded} {
		if errors.Is(inUse, s) {
			t.Errorf("errors.Is(%v, %v) = true", inUse, s)
		}
	}
}
