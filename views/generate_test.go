package views

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedCodeIsCurrent checks that every *_templ.go is what
// `go tool templ generate` (run from the repository root) makes of its
// .templ file today, so the committed code is what the templates say. It
// generates copies of the templates in a temporary folder and compares.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs templ; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go is not on PATH: %v", err)
		}
		t.Skip("go is not on PATH; install Go to run this check")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	var templs []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".templ") {
			return err
		}
		templs = append(templs, path)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(tmp, "views", path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, src, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(templs) < 3 {
		t.Fatalf("found %d .templ files", len(templs))
	}
	cmd := exec.CommandContext(t.Context(), goBin, "tool", "templ", "generate", "-path", tmp)
	cmd.Dir = root // where go.mod declares the templ tool
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("templ generate: %v\n%s", err, out)
	}
	for _, path := range templs {
		t.Run(path, func(t *testing.T) {
			gen := strings.TrimSuffix(path, ".templ") + "_templ.go"
			want, err := os.ReadFile(filepath.Join(tmp, "views", gen))
			if err != nil {
				t.Fatalf("templ did not generate %s: %v", gen, err)
			}
			got, err := os.ReadFile(gen)
			if err != nil {
				t.Fatalf("read %s: %v", gen, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("views/%s is stale; run `go tool templ generate` from the repository root", gen)
			}
		})
	}
}
