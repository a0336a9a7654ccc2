package club

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input limits.
const (
	MaxEmailLength    = 254
	MaxNameLength     = 100
	MaxClubNameLength = 80
	MinClubNameLength = 2
)

// NormalizeEmail trims and lower-cases s and checks that it is one plain
// address ("ana@example.org", not "Ana <ana@example.org>").
func NormalizeEmail(s string) (string, error) {
	// First of all: strings.ToLower turns bytes that are not UTF-8 into
	// U+FFFD, which would make an address nobody typed look valid.
	if !utf8.ValidString(s) {
		return "", Errorf(EINVALID, "The email address contains characters we cannot read. Type it again, like ana@example.org.")
	}
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return "", Errorf(EINVALID, "Enter an email address.")
	case len(s) > MaxEmailLength:
		return "", Errorf(EINVALID, "An email address can be at most %d characters.", MaxEmailLength)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", Errorf(EINVALID, "Enter a valid email address, like ana@example.org.")
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", Errorf(EINVALID, "Enter a valid email address, like ana@example.org.")
	}
	return s, nil
}

// normalizeName trims s and checks it is a plausible name: at most max
// characters, no control characters, no markup.
func normalizeName(s, what string, required bool, max int) (string, string) {
	if !utf8.ValidString(s) {
		return "", what + " contains characters we cannot read."
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return "", "Enter a " + strings.ToLower(what) + "."
	case utf8.RuneCountInString(s) > max:
		return "", fmt.Sprintf("%s can be at most %d characters.", what, max)
	case strings.ContainsAny(s, "<>"):
		return "", what + " cannot contain < or >."
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", what + " cannot contain control characters."
	}
	return s, ""
}

// AddMemberInput is what an owner types to add a member.
type AddMemberInput struct {
	Email     string
	FirstName string
	LastName  string
	Roles     []string // role keys
}

// Validate normalises the input against the club's roles. It returns the
// cleaned input, or an EINVALID *Error whose Fields name each bad field
// ("email", "first_name", "last_name", "roles").
func (in AddMemberInput) Validate(clubRoles []Role) (AddMemberInput, error) {
	fields := map[string]string{}
	out := AddMemberInput{}
	var err error
	if out.Email, err = NormalizeEmail(in.Email); err != nil {
		fields["email"] = ErrorMessage(err)
	}
	var msg string
	if out.FirstName, msg = normalizeName(in.FirstName, "First name", false, MaxNameLength); msg != "" {
		fields["first_name"] = msg
	}
	if out.LastName, msg = normalizeName(in.LastName, "Last name", false, MaxNameLength); msg != "" {
		fields["last_name"] = msg
	}
	if out.Roles, msg = validateRoles(in.Roles, clubRoles); msg != "" {
		fields["roles"] = msg
	}
	if len(fields) > 0 {
		return AddMemberInput{}, &Error{Code: EINVALID, Message: "Check the highlighted fields. Nothing was changed.", Fields: fields}
	}
	return out, nil
}

// validateRoles dedupes and sorts keys and checks each is a known role.
func validateRoles(keys []string, clubRoles []Role) ([]string, string) {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if k == "" || slices.Contains(out, k) {
			continue
		}
		if !slices.ContainsFunc(clubRoles, func(r Role) bool { return r.Key == k }) {
			return nil, "Choose roles from the list."
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, "Choose at least one role."
	}
	slices.Sort(out)
	return out, ""
}

// ValidateRoleKeys checks a set of role keys for a role change: each must be
// a known club role, and at least one is needed.
func ValidateRoleKeys(keys []string, clubRoles []Role) ([]string, error) {
	out, msg := validateRoles(keys, clubRoles)
	if msg != "" {
		return nil, &Error{Code: EINVALID, Message: msg, Fields: map[string]string{"roles": msg}}
	}
	return out, nil
}

// ValidateClubName checks the name of a new club.
func ValidateClubName(s string) (string, error) {
	name, msg := normalizeName(s, "Club name", true, MaxClubNameLength)
	if msg == "" && utf8.RuneCountInString(name) < MinClubNameLength {
		msg = fmt.Sprintf("Club name needs at least %d characters.", MinClubNameLength)
	}
	if msg != "" {
		return "", &Error{Code: EINVALID, Message: msg, Fields: map[string]string{"name": msg}}
	}
	return name, nil
}
