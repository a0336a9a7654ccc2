package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// vendorWords are the names of outside systems the domain must not speak
// in: its identifiers say what a thing is in the club domain, and the
// adapters translate. Comments may still name them, as the example
// provider.
var vendorWords = []string{"kinde"}

// TestDomainSpeaksItsOwnWords checks that no identifier (exported or not)
// in the non-test files of internal/club, in any build, names a vendor.
func TestDomainSpeaksItsOwnWords(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "go", "list", "-f", "{{.Dir}}", module+"/internal/club/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var files []string
	for dir := range strings.FieldsSeq(string(out)) {
		// Every file, whatever its build tags, but no tests: fakes may
		// say whom they fake.
		matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range matches {
			if !strings.HasSuffix(f, "_test.go") {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("found no files in internal/club: the check no longer sees the domain")
	}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		for _, hit := range vendorIdents(fset, file) {
			t.Errorf("%s: the domain speaks a vendor's word; name it for what it is in the club domain", hit)
		}
	}
}

// vendorIdents returns "file:line: name" for every identifier of file
// that contains one of vendorWords, in any case.
func vendorIdents(fset *token.FileSet, file *ast.File) []string {
	var hits []string
	ast.Inspect(file, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		name := strings.ToLower(id.Name)
		if slices.ContainsFunc(vendorWords, func(w string) bool { return strings.Contains(name, w) }) {
			p := fset.Position(id.Pos())
			hits = append(hits, fmt.Sprintf("%s:%d: %s", filepath.Base(p.Filename), p.Line, id.Name))
		}
		return true
	})
	return hits
}

// TestVendorIdents keeps the check honest: it finds a vendor's word in
// every kind of identifier, and not in comments or strings.
func TestVendorIdents(t *testing.T) {
	src := `package club

// Kinde is the example provider: comments may say so.
type KindeEvent struct{ kindeID string }

func (s *Service) handle(ev KindeEvent) error {
	var fromKinde = "kinde"
	_ = fromKinde
	return nil
}
`
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "club.go", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	got := vendorIdents(fset, file)
	want := []string{"club.go:4: KindeEvent", "club.go:4: kindeID", "club.go:6: KindeEvent", "club.go:7: fromKinde", "club.go:8: fromKinde"}
	if !slices.Equal(got, want) {
		t.Errorf("vendorIdents = %q, want %q", got, want)
	}
}
