package store

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clubhouse/clubhouse/internal/club"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// fold is the form in which names are sorted and searched: lower case with
// accents removed, so that "Émile" sorts among the e's and "emile" finds
// him. Both databases then compare plain bytes, and agree.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// Bounds on the derived keys, in bytes. They keep an index entry well under
// PostgreSQL's limit (about 2.7 kB) whatever Kinde sends; a name longer
// than this sorts and matches by its start.
const (
	maxSortKey   = 200
	maxSearchKey = 600
)

// memberKeys returns a membership's derived columns: the key it sorts by
// (its display name, falling back to the email, as club.Member.Name does)
// and the text a search looks in (name and email). A newline separates the
// two, so a search cannot match across them.
func memberKeys(first, last, email string) (sortName, search string) {
	name := strings.TrimSpace(first + " " + last)
	sortName = name
	if sortName == "" {
		sortName = email
	}
	email = truncate(strings.ToLower(email), maxSearchKey)
	return truncate(fold(sortName), maxSortKey), truncate(fold(name), maxSearchKey) + "\n" + email
}

// normalizeEmail lower-cases and trims an email the way club.NormalizeEmail
// does, without rejecting what Kinde sends.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// normalizeMember returns m as the store keeps it: email normalised, roles
// sorted, unique and never nil, times in UTC at the microsecond precision
// both databases keep.
func normalizeMember(m club.Member) club.Member {
	m.Email = normalizeEmail(m.Email)
	roles := make([]string, 0, len(m.Roles))
	for _, r := range m.Roles {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	slices.Sort(roles)
	m.Roles = slices.Compact(roles)
	m.JoinedAt = m.JoinedAt.UTC().Truncate(time.Microsecond)
	return m
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
