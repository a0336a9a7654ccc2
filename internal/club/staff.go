package club

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the reason a staff person gives for viewing a club as one of
// its members.
const (
	MinViewAsReason = 10
	MaxViewAsReason = 500
)

// ViewAsOwner is the target of a view-as that means "one of the club's
// owners" rather than a specific person.
const ViewAsOwner = "owner"

// ValidateViewAsReason trims a staff person's reason for a view-as and
// checks it: 10 to 500 characters of readable text. Line breaks are kept;
// other control characters are refused.
func ValidateViewAsReason(s string) (string, error) {
	s = strings.TrimSpace(s)
	msg := ""
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		msg = "The reason contains characters we cannot read."
	case n == 0:
		msg = "Say why you need to see this club, e.g. the support ticket and the question."
	case n < MinViewAsReason:
		msg = "Give a reason of at least 10 characters, e.g. the support ticket and the question."
	case n > MaxViewAsReason:
		msg = "Keep the reason to 500 characters or fewer."
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		msg = "The reason cannot contain control characters."
	}
	if msg != "" {
		return "", &Error{Code: EINVALID, Message: "Check the reason. Nothing was started.", Fields: map[string]string{"reason": msg}}
	}
	return s, nil
}
