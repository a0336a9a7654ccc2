package web

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clubhouse/clubhouse/internal/club"
)

// FuzzParseAddMemberForm feeds arbitrary form bodies to the add-member
// parser. It must never panic, and whatever it accepts must already be
// clean: a normalised email, short names without markup or control
// characters, and known club roles. Anything else never reaches the
// domain service.
func FuzzParseAddMemberForm(f *testing.F) {
	for _, seed := range []string{
		"email=ana%40example.org&first_name=Ana&last_name=Lima&roles=member",
		"email=ANA%40Example.ORG&roles=member&roles=coach&roles=member",
		"email=not-an-email&roles=member",
		"email=ana%40example.org&first_name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&roles=member",
		"email=ana%40example.org&roles=superuser",
		"email=ana%40example.org&roles=staff",
		"email=Ana+%3Cana%40example.org%3E&roles=member",
		"email=ana%40example.org&last_name=%00%01&roles=member",
		"email=ana%40example.org&first_name=%FF%FE&roles=owner",
		"email=&first_name=&roles=",
		"%zz=1&email",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return // the handler's ParseForm refuses it with a 400
		}
		in, err := parseAddMemberForm(form, testRoles[:4])
		if err != nil {
			if club.ErrorCode(err) != club.EINVALID {
				t.Fatalf("error code = %q, want %q", club.ErrorCode(err), club.EINVALID)
			}
			if in.Email != "" || len(in.Roles) != 0 {
				t.Fatalf("refused input still returned %+v", in)
			}
			return
		}
		if norm, err := club.NormalizeEmail(in.Email); err != nil || norm != in.Email {
			t.Fatalf("accepted email %q is not normalised", in.Email)
		}
		for _, name := range []string{in.FirstName, in.LastName} {
			if !utf8.ValidString(name) || utf8.RuneCountInString(name) > club.MaxNameLength || strings.ContainsAny(name, "<>") {
				t.Fatalf("accepted name %q", name)
			}
		}
		if len(in.Roles) == 0 {
			t.Fatal("accepted no roles")
		}
		for _, k := range in.Roles {
			if !slices.ContainsFunc(testRoles[:4], func(r club.Role) bool { return r.Key == k }) {
				t.Fatalf("accepted unknown role %q", k)
			}
		}
		// What the parser accepts, the service's own validation accepts
		// unchanged.
		again, err := in.Validate(testRoles[:4])
		if err != nil || !slices.Equal(again.Roles, in.Roles) || again.Email != in.Email {
			t.Fatalf("service validation disagrees: %+v, %v", again, err)
		}
	})
}
