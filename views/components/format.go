package components

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// RelativeTime describes t relative to now in plain words, such as
// "just now", "5 minutes ago", "yesterday", "3 days ago" or "in 2 hours".
// A zero t reads "never".
func RelativeTime(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var amount string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		amount = plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		amount = plural(int(d/time.Hour), "hour")
	case d < 48*time.Hour:
		if future {
			return "tomorrow"
		}
		return "yesterday"
	case d < 30*24*time.Hour:
		amount = plural(int(d/(24*time.Hour)), "day")
	case d < 365*24*time.Hour:
		amount = plural(int(d/(30*24*time.Hour)), "month")
	default:
		amount = plural(int(d/(365*24*time.Hour)), "year")
	}
	if future {
		return "in " + amount
	}
	return amount + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// ExactTime formats t for a tooltip or a detail line, in UTC so that every
// reader sees the same value: "3 Mar 2025, 14:05 UTC".
func ExactTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006, 15:04 MST")
}

// MachineTime formats t for a <time datetime> attribute (RFC 3339, UTC).
func MachineTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Initials returns up to two upper-case initials for an avatar: the first
// letters of the first and last words of name ("Mia Chen" -> "MC"), or the
// first letter of an email's local part ("ana@example.org" -> "A"). It
// returns "?" when name has no letter or digit.
func Initials(name string) string {
	name = strings.TrimSpace(name)
	if local, _, ok := strings.Cut(name, "@"); ok && !strings.ContainsAny(name, " \t") {
		name = local
	}
	words := strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || r == '.' || r == '_' || r == '-'
	})
	var out []rune
	for _, w := range words {
		if r, ok := firstAlnum(w); ok {
			out = append(out, unicode.ToUpper(r))
		}
	}
	switch len(out) {
	case 0:
		return "?"
	case 1:
		return string(out)
	default:
		return string([]rune{out[0], out[len(out)-1]})
	}
}

func firstAlnum(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r, true
		}
	}
	return 0, false
}

// FormatCount writes n with thousands separators: 1204 -> "1,204".
func FormatCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// PageCount returns how many pages of size hold total items (at least 1).
func PageCount(size, total int) int {
	if size <= 0 || total <= 0 {
		return 1
	}
	return (total + size - 1) / size
}

// PageSummary describes which items a page shows: "Showing 1–50 of 1,204".
// page is 1-based; a page past the end reads "Showing 0 of 1,204".
func PageSummary(page, size, total int) string {
	if page < 1 {
		page = 1
	}
	if size <= 0 || total <= 0 {
		return "Showing 0 of " + FormatCount(max(total, 0))
	}
	first := (page-1)*size + 1
	if first > total {
		return "Showing 0 of " + FormatCount(total)
	}
	last := min(page*size, total)
	return fmt.Sprintf("Showing %s–%s of %s", FormatCount(first), FormatCount(last), FormatCount(total))
}
