package components

import (
	"hash/fnv"
	"strconv"
	"strings"
	"unicode"

	"github.com/a-h/templ"
)

// Role is one of a club's roles as a badge shows it.
type Role struct {
	Key  string // e.g. "owner"
	Name string // e.g. "Owner"; the key, capitalised, when empty
}

// Label is the role's display name.
func (r Role) Label() string {
	if r.Name != "" {
		return r.Name
	}
	return capitalise(r.Key)
}

func capitalise(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}

// badgeClass picks the colour of a role badge. The four well-known roles
// have their own colour; any other role shares a neutral one, so a role key
// never becomes a class name.
func badgeClass(key string) string {
	switch key {
	case "owner", "admin", "coach", "member":
		return "badge badge--" + key
	}
	return "badge badge--other"
}

// RoleOption is one role checkbox in a form.
type RoleOption struct {
	Key     string
	Name    string
	Checked bool
	// Disabled shows the choice but does not let the person change it (for
	// example "owner" for an admin). A checked disabled option is still
	// submitted, through a hidden input.
	Disabled bool
	// Hint is a short line under the choice, e.g. "Only owners can change this."
	Hint string
}

// Label is the option's display name.
func (o RoleOption) Label() string { return Role{Key: o.Key, Name: o.Name}.Label() }

// RoleOptions lists roles as checkboxes, checking the keys in selected.
func RoleOptions(roles []Role, selected []string) []RoleOption {
	out := make([]RoleOption, 0, len(roles))
	for _, r := range roles {
		checked := false
		for _, s := range selected {
			if s == r.Key {
				checked = true
				break
			}
		}
		out = append(out, RoleOption{Key: r.Key, Name: r.Name, Checked: checked})
	}
	return out
}

// avatarClass gives each name one of six calm background colours, so the
// same person always gets the same colour.
func avatarClass(name string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(name)))
	return "avatar avatar--" + strconv.Itoa(int(h.Sum32()%6))
}

// Variant is a button's look.
type Variant string

// Button looks.
const (
	Primary   Variant = "primary"
	Secondary Variant = "secondary"
	Danger    Variant = "danger"
	Ghost     Variant = "ghost"
)

func buttonClass(v Variant, extra string) string {
	switch v {
	case Primary, Secondary, Danger, Ghost:
	default:
		v = Secondary
	}
	c := "btn btn--" + string(v)
	if extra != "" {
		c += " " + extra
	}
	return c
}

// ButtonProps describes a <button>.
type ButtonProps struct {
	Label   string
	Type    string // "submit" (default), "button" or "reset"
	Variant Variant
	Class   string // extra classes
	// Attrs carries htmx and data attributes, e.g. hx-post.
	Attrs templ.Attributes
}

func (p ButtonProps) buttonType() string {
	switch p.Type {
	case "button", "reset":
		return p.Type
	}
	return "submit"
}

// LinkButtonProps describes a link that looks like a button.
type LinkButtonProps struct {
	Label   string
	Href    string
	Variant Variant
	Class   string
	Attrs   templ.Attributes
}

// FieldProps describes a labelled text input with its hint and error.
type FieldProps struct {
	ID           string // element id; the label points at it
	Name         string // form field name; also names the error ("error-<name>")
	Label        string
	Type         string // "text" (default), "email", "search", ...
	Value        string
	Hint         string
	Error        string
	Required     bool
	Autocomplete string
	MaxLength    int
	Autofocus    bool
	Attrs        templ.Attributes
}

func (p FieldProps) inputType() string {
	if p.Type == "" {
		return "text"
	}
	return p.Type
}

func (p FieldProps) errorID() string { return p.ID + "-error" }
func (p FieldProps) hintID() string  { return p.ID + "-hint" }

func (p FieldProps) describedBy() string {
	var ids []string
	if p.Hint != "" {
		ids = append(ids, p.hintID())
	}
	if p.Error != "" {
		ids = append(ids, p.errorID())
	}
	return strings.Join(ids, " ")
}

// RoleChoicesProps describes a fieldset of role checkboxes.
type RoleChoicesProps struct {
	IDPrefix string // makes the checkbox ids unique on the page
	Name     string // form field name, usually "roles"
	Legend   string
	Options  []RoleOption
	Error    string
	// Autofocus focuses the first choice (htmx and the native dialog honour it).
	Autofocus bool
}

func (p RoleChoicesProps) optionID(key string) string {
	return p.IDPrefix + "-" + SafeID(key)
}

func (p RoleChoicesProps) errorID() string { return p.IDPrefix + "-error" }

// SafeID turns s into a string usable inside an HTML id: letters, digits,
// '-' and '_' are kept and everything else becomes '-'.
func SafeID(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_'):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// EmptyStateProps describes an empty list: a title, a line of help, and
// (as children) what to do next.
type EmptyStateProps struct {
	Title string
	Body  string
	// Kind tells apart empty states on one page, e.g. "empty" or "no-results".
	Kind string
}

// PaginationProps describes Prev/Next links and the "Showing 1–50 of
// 1,204" summary.
type PaginationProps struct {
	Page    int // 1-based
	Size    int
	Total   int
	PrevURL string // "" on the first page
	NextURL string // "" on the last page
	// HXTarget, when set, makes the links swap that element with htmx and
	// push the URL, instead of loading a full page.
	HXTarget string
	Label    string // aria-label of the nav, e.g. "Members pages"
}

func (p PaginationProps) summary() string { return PageSummary(p.Page, p.Size, p.Total) }

func (p PaginationProps) linkAttrs(url string) templ.Attributes {
	if p.HXTarget == "" {
		return nil
	}
	return templ.Attributes{
		"hx-get":       url,
		"hx-target":    p.HXTarget,
		"hx-swap":      "outerHTML",
		"hx-push-url":  "true",
		"hx-indicator": p.HXTarget,
	}
}

func (p PaginationProps) label() string {
	if p.Label == "" {
		return "Pages"
	}
	return p.Label
}
