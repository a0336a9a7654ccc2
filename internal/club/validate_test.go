package club_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/clubhouse/clubhouse/internal/club"
)

// emailNotTextMessage is what an owner reads when the email they sent is
// not UTF-8 text.
const emailNotTextMessage = "The email address contains characters we cannot read. Type it again, like ana@example.org."

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"ana@example.org", "ana@example.org", true},
		{"  Ana.Lima@Example.ORG ", "ana.lima@example.org", true},
		{"ana+club@example.org", "ana+club@example.org", true},
		{"", "", false},
		{"ana", "", false},
		{"ana@localhost", "", false},
		{"Ana <ana@example.org>", "", false},
		{"ana@example.org, bob@example.org", "", false},
		{"ana@@example.org", "", false},
		{"ana@example.org.", "", false},
		{strings.Repeat("a", 250) + "@example.org", "", false},
		{"<script>@example.org", "", false},
		// Not UTF-8: refused as typed, never lower-cased into
		// "in\uFFFDvalid@x.example" first.
		{"in\xffvalid@x.example", "", false},
		{"IN\xffVALID@X.EXAMPLE", "", false},
		{"ana@exa\xc3mple.org", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := club.NormalizeEmail(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
			if err != nil && club.ErrorCode(err) != club.EINVALID {
				t.Errorf("error code = %q, want invalid", club.ErrorCode(err))
			}
			if got, want := club.ErrorMessage(err), emailNotTextMessage; !utf8.ValidString(tt.in) && got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
		})
	}
}

// TestAddMemberInputRefusesNonUTF8Email: the add-member form (and each
// import row) says what is wrong with the email field, and keeps nothing.
func TestAddMemberInputRefusesNonUTF8Email(t *testing.T) {
	in := club.AddMemberInput{Email: "in\xffvalid@x.example", FirstName: "Ana", Roles: []string{club.RoleMember}}
	out, err := in.Validate(testRoles)
	var e *club.Error
	if !errors.As(err, &e) || e.Code != club.EINVALID {
		t.Fatalf("Validate = %+v, %v; want an invalid-input error", out, err)
	}
	if got, want := e.Fields["email"], emailNotTextMessage; got != want {
		t.Errorf("email field error = %q, want %q", got, want)
	}
	if out.Email != "" {
		t.Errorf("cleaned email = %q, want none", out.Email)
	}
}

func TestValidateClubName(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"Lakeside Chess", true}, {"  Lakeside Chess  ", true}, {"", false}, {"A", false},
		{strings.Repeat("x", 81), false}, {"<b>Club</b>", false}, {"Club\x00", false},
	} {
		_, err := club.ValidateClubName(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateClubName(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
	// The message names the club limit, however long the name.
	for _, n := range []int{81, 101, 300} {
		if _, err := club.ValidateClubName(strings.Repeat("x", n)); club.ErrorMessage(err) != "Club name can be at most 80 characters." {
			t.Errorf("%d characters: %q", n, club.ErrorMessage(err))
		}
	}
}

// FuzzAddMemberInput checks that validation never panics and that whatever
// it accepts is clean: a plain lower-case email, short names without markup
// or control characters, and known role keys only.
func FuzzAddMemberInput(f *testing.F) {
	f.Add("ana@example.org", "Ana", "Lima", "member")
	f.Add("Ana <ana@example.org>", "<script>", "x", "owner,admin")
	f.Add("\xff@example.org", "\x00", strings.Repeat("é", 101), "")
	f.Fuzz(func(t *testing.T, email, first, last, roles string) {
		in := club.AddMemberInput{Email: email, FirstName: first, LastName: last, Roles: strings.Split(roles, ",")}
		out, err := in.Validate(testRoles)
		if err != nil {
			if club.ErrorCode(err) != club.EINVALID {
				t.Fatalf("error code = %q", club.ErrorCode(err))
			}
			return
		}
		if out.Email != strings.ToLower(out.Email) || !strings.Contains(out.Email, "@") {
			t.Fatalf("accepted email %q", out.Email)
		}
		// What is accepted is what was typed, trimmed and lower-cased:
		// never a mangled copy of bytes that were not text.
		if !utf8.ValidString(email) || out.Email != strings.ToLower(strings.TrimSpace(email)) {
			t.Fatalf("accepted email %q for %q", out.Email, email)
		}
		for _, s := range []string{out.FirstName, out.LastName} {
			if utf8.RuneCountInString(s) > club.MaxNameLength || strings.ContainsAny(s, "<>\x00") || !utf8.ValidString(s) {
				t.Fatalf("accepted name %q", s)
			}
		}
		if len(out.Roles) == 0 {
			t.Fatal("accepted no roles")
		}
		for _, r := range out.Roles {
			found := false
			for _, k := range testRoles {
				found = found || k.Key == r
			}
			if !found {
				t.Fatalf("accepted role %q", r)
			}
		}
	})
}

// FuzzValidateClubName checks that the club name check (onboarding and the
// settings page) never panics, that what it accepts is clean, and that it
// refuses with a message for the name field.
func FuzzValidateClubName(f *testing.F) {
	for _, s := range []string{"Riverside Rowing Club", "  x ", "<b>Club</b>", "Club\x00", "\xff\xfe", strings.Repeat("é", 81), "Ünïcödé Club"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		name, err := club.ValidateClubName(in)
		if err != nil {
			var e *club.Error
			if !errors.As(err, &e) || e.Code != club.EINVALID || e.Fields["name"] == "" {
				t.Fatalf("refusal %v is not an invalid-input error for the name field", err)
			}
			return
		}
		n := utf8.RuneCountInString(name)
		if name != strings.TrimSpace(name) || n < club.MinClubNameLength || n > club.MaxClubNameLength ||
			!utf8.ValidString(name) || strings.ContainsAny(name, "<>") || strings.ContainsFunc(name, unicode.IsControl) {
			t.Fatalf("accepted %q", name)
		}
	})
}
