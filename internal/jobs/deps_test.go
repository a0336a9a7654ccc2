package jobs

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLeavesOutTheStore keeps the job queue one adapter (over River) that
// does not depend on another: the production package must not import
// internal/store, directly or through another package. It declares what it
// needs of the store (Inbox, Delivery, Dialect) and cmd/clubhouse wires the
// store in. Its tests may use the real store; go list without -test leaves
// them out.
func TestLeavesOutTheStore(t *testing.T) {
	const module = "github.com/clubhouse/clubhouse/"
	// go test puts its own GOROOT/bin first on the PATH of the tests it
	// runs, so this is the go that builds this package. The empty -tags
	// overrides any GOFLAGS.
	cmd := exec.CommandContext(t.Context(), "go", "list", "-tags=", "-deps", ".")
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("go list -deps: %v\n%s", err, exit.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/riverqueue/river") {
		t.Fatalf("go list -deps does not list River: this test no longer sees what it guards against; got %v", deps)
	}
	for _, p := range deps {
		if p == module+"internal/store" || strings.HasPrefix(p, module+"internal/store/") {
			t.Errorf("internal/jobs imports %s: declare what the jobs need in internal/jobs and wire the store in cmd/clubhouse", p)
		}
	}
}
