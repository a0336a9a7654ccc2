package club

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the web layer's error table.
const (
	EINVALID     = "invalid"     // the input is wrong; the message says how to fix it
	ENOTFOUND    = "not_found"   // the thing does not exist (or is not visible to the caller)
	EFORBIDDEN   = "forbidden"   // the caller may not do this
	ECONFLICT    = "conflict"    // the request clashes with the current state
	EUNAVAILABLE = "unavailable" // Kinde (or another dependency) did not answer; safe to retry
	EINTERNAL    = "internal"    // a bug or an unexpected failure
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

// ErrEmailInUse is returned by Kinde.CreateUser when a person with that
// email already exists in Kinde (Kinde answers "Email already in use").
var ErrEmailInUse = errors.New("club: email already in use")

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
