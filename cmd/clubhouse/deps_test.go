package main

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestProductionBuildLeavesOutTheEmulator keeps the local Kinde (and the
// spec checks that come with it) out of the binary that is deployed: only
// the development build (-tags dev, what `make run` uses) links it. The dev
// row shows the check would see the emulator if it were there.
func TestProductionBuildLeavesOutTheEmulator(t *testing.T) {
	const module = "github.com/clubhouse/clubhouse/"
	devOnly := []string{module + "internal/kinde/emulator", module + "internal/kinde/kindespec"}
	tests := []struct {
		name string
		tags string // -tags; the empty value overrides any GOFLAGS
		want bool   // whether the emulator is linked
	}{
		{"production build", "", false},
		{"development build", "dev", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// go test puts its own GOROOT/bin first on the PATH of the
			// tests it runs, so this is the go that builds this package.
			cmd := exec.CommandContext(t.Context(), "go", "list", "-tags="+tt.tags, "-deps", ".")
			out, err := cmd.Output()
			if err != nil {
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					t.Fatalf("go list -deps: %v\n%s", err, exit.Stderr)
				}
				t.Fatalf("go list -deps: %v", err)
			}
			deps := strings.Fields(string(out))
			var linked []string
			for _, p := range deps {
				if slices.ContainsFunc(devOnly, func(d string) bool { return p == d || strings.HasPrefix(p, d+"/") }) {
					linked = append(linked, p)
				}
			}
			switch got := slices.Contains(linked, module+"internal/kinde/emulator"); {
			case !tt.want && len(linked) > 0:
				t.Errorf("the production build links %v: keep development wiring behind the dev build tag", linked)
			case tt.want && !got:
				t.Errorf("-tags=%s does not link the emulator: this test no longer sees what it guards against", tt.tags)
			}
		})
	}
}
