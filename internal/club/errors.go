package club

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Error codes. Each maps to one HTTP status in the web layer's error table.
const (
	EINVALID     = "invalid"      // the input is wrong; the message says how to fix it
	ENOTFOUND    = "not_found"    // the thing does not exist (or is not visible to the caller)
	EFORBIDDEN   = "forbidden"    // the caller may not do this
	ECONFLICT    = "conflict"     // the request clashes with the current state
	EUNAVAILABLE = "unavailable"  // Kinde (or another dependency) did not answer; safe to retry
	EINTERNAL    = "internal"     // a bug or an unexpected failure
	ERATELIMITED = "rate_limited" // the caller asked too often; the message says when to try again
	// EUNAUTHENTICATED means the person must sign in (again).
	EUNAUTHENTICATED = "unauthenticated"
)

// Error is a domain error with a code and a message that is safe to show to a
// club owner. Fields holds per-field messages for form validation.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// Err is the underlying cause. It is logged, never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("club: %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("club: %s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// LogValue is what a log line shows of e: its code, and its message and
// cause with every email address redacted. Messages are written for the
// club owner who made the request, so they may name the person added or
// invited; the log must not.
func (e *Error) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("code", e.Code), slog.String("msg", RedactEmails(e.Message))}
	if e.Err != nil {
		attrs = append(attrs, slog.String("cause", RedactEmails(e.Err.Error())))
	}
	return slog.GroupValue(attrs...)
}

// LogError returns err in the form fit for a log line: its code and its
// text with every email address redacted, wherever in the chain of
// wrapped errors the address came from. Log errors through it rather than
// through err.Error().
func LogError(err error) slog.Value {
	if err == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("code", ErrorCode(err)), slog.String("msg", RedactEmails(err.Error())))
}

// RedactEmails replaces the local part of every email address in s (also
// one URL-encoded, local%40domain) with "***", keeping the domain:
// "adding ana@example.org" becomes "adding ***@example.org". It errs
// towards redacting too much: anything shaped like local@domain goes.
func RedactEmails(s string) string {
	if !strings.Contains(s, "@") && !strings.Contains(s, "%40") {
		return s
	}
	var b strings.Builder
	last := 0 // s[:last] is written or redacted
	for i := 0; i < len(s); i++ {
		at := 0 // length of the @ found at i
		switch {
		case s[i] == '@':
			at = 1
		case s[i] == '%' && i+2 < len(s) && s[i+1] == '4' && s[i+2] == '0':
			at = 3
		default:
			continue
		}
		start := i
		for start > last && isLocalByte(s[start-1]) {
			start--
		}
		end := i + at
		for end < len(s) && isDomainByte(s[end]) {
			end++
		}
		for end > i+at && s[end-1] == '.' { // a full stop ends the sentence, not the domain
			end--
		}
		if start == i || end == i+at {
			continue // no local part or no domain: not an address
		}
		b.WriteString(s[last:start])
		b.WriteString("***")
		b.WriteString(s[i:end])
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// isLocalByte reports whether c may be part of an address's local part:
// the characters RFC 5322 allows unquoted, and any byte of a non-ASCII
// letter, except the few that rather end a URL's path or query parameter
// or a key=value pair ("/", "?", "=", "&"), so "email=ana@example.org"
// keeps its "email=".
func isLocalByte(c byte) bool {
	return isAlnum(c) || c >= 0x80 || strings.IndexByte("!#$%'*+-^_`{|}~.", c) >= 0
}

// isDomainByte reports whether c may be part of an address's domain.
func isDomainByte(c byte) bool { return isAlnum(c) || c >= 0x80 || c == '-' || c == '.' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Errorf returns an *Error with the given code and a formatted, user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of the first *Error in err's
// chain, or a generic message for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "Something went wrong on our side. Nothing was changed. Please try again."
}

// ErrNotFound is the sentinel adapters wrap when a lookup finds nothing.
// Check with errors.Is or ErrorCode(err) == ENOTFOUND.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "Not found."}

// Is makes errors.Is(err, ErrNotFound) true for any ENOTFOUND error, and
// errors.Is(err, ErrUnavailable) true for any EUNAVAILABLE error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && (t == ErrNotFound || t == ErrUnavailable || t == ErrSessionEnded) && e.Code == t.Code
}

// ErrEmailInUse is what Kinde.CreatePerson wraps when a person with that
// email already exists in Kinde (Kinde answers "Email already in use").
// Check with errors.Is: it matches this error only, not every ECONFLICT.
//
// The add-member flow and the import resolve it by looking the person up,
// so no owner should ever see it. Should one, its message must not tell
// them that Kinde (and so perhaps another club) already knows the person.
var ErrEmailInUse = &Error{Code: ECONFLICT, Message: "This email could not be added just now. Please try again."}

// ErrUnavailable is what adapters wrap when Kinde did not answer after
// retries (timeouts, 5xx, rate limits that outlast the retry budget).
var ErrUnavailable = &Error{Code: EUNAVAILABLE, Message: "Kinde did not answer. Nothing was changed. Try again in a minute."}

// Unavailable wraps cause as an EUNAVAILABLE error with the standard message.
func Unavailable(cause error) error {
	return &Error{Code: EUNAVAILABLE, Message: ErrUnavailable.Message, Err: cause}
}

// ErrSessionEnded is what the sign-in adapter wraps when Kinde refuses to
// refresh a session (revoked, expired, or the person left the club).
var ErrSessionEnded = &Error{Code: EUNAUTHENTICATED, Message: "Your session has ended. Please sign in again."}
