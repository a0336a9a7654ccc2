package views

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/clubhouse/clubhouse"

// TestDependencies keeps views free of I/O layers: no views package may
// depend on the web layer, storage, Kinde or mail packages, nor import
// net/http itself. (net/http still appears among the transitive
// dependencies because templ's runtime package imports it for its HTTP
// helpers; the test checks that templ is the only way it comes in.)
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go is not on PATH: %v", err)
		}
		t.Skip("go is not on PATH; install Go to run this check")
	}
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-deps", "-f", `{{.ImportPath}}|{{join .Imports ","}}`, "./...")
	cmd.Dir = "." // the views folder
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	banned := []string{
		module + "/web",
		module + "/internal/store",
		module + "/internal/kinde",
		module + "/internal/mail",
		module + "/internal/session",
		module + "/static",
	}
	var ours int
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		for _, b := range banned {
			if pkg == b || strings.HasPrefix(pkg, b+"/") {
				t.Errorf("views depend on %s", pkg)
			}
		}
		importsHTTP := false
		for imp := range strings.SplitSeq(imports, ",") {
			if imp == "net/http" {
				importsHTTP = true
			}
		}
		if strings.HasPrefix(pkg, module+"/views") {
			ours++
			if importsHTTP {
				t.Errorf("%s imports net/http", pkg)
			}
		}
		if importsHTTP && !strings.HasPrefix(pkg, "github.com/a-h/templ") && strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") {
			t.Errorf("%s brings in net/http; only templ's runtime may", pkg)
		}
	}
	if ours < 3 {
		t.Errorf("go list saw %d views packages, want views, views/layout and views/components", ours)
	}
}
