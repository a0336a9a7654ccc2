package emulator

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/clubhouse/clubhouse/internal/kinde/kindespec"
)

// TestOperationsMatchSpec checks the operation table against the pinned
// spec: each operationId exists with the same method and path, its scope is
// the spec's x-scope (or the <code> scope of the description where x-scope
// is absent), and the documented statuses and media types agree.
func TestOperationsMatchSpec(t *testing.T) {
	spec := kindespec.Load(t)
	codeScope := regexp.MustCompile(`<code>([^<]+)</code>`)
	for _, op := range operations() {
		t.Run(op.ID, func(t *testing.T) {
			method, path, sop, ok := spec.Operation(op.ID)
			if !ok {
				t.Fatalf("operationId %q is not in the spec", op.ID)
			}
			if method != op.Method || path != op.Path {
				t.Errorf("route = %s %s, spec has %s %s", op.Method, op.Path, method, path)
			}
			want, _ := sop.Extensions["x-scope"].(string)
			if want == "" {
				if m := codeScope.FindStringSubmatch(sop.Description); m != nil {
					want = m[1]
				}
			}
			if op.Scope != want {
				t.Errorf("scope = %q, spec says %q", op.Scope, want)
			}
			var statuses []int
			for st, resp := range sop.Responses.Map() {
				n, err := strconv.Atoi(st)
				if err != nil {
					t.Fatalf("status %q", st)
				}
				statuses = append(statuses, n)
				mt, ok := op.media[n]
				if !ok {
					continue
				}
				if len(resp.Value.Content) == 0 {
					if mt != mtNone {
						t.Errorf("status %d: table has %q, spec documents no body", n, mt)
					}
					continue
				}
				if _, ok := resp.Value.Content[mt]; !ok {
					t.Errorf("status %d: table has %q, spec declares %v", n, mt, slices.Sorted(maps.Keys(resp.Value.Content)))
				}
			}
			slices.Sort(statuses)
			if got := slices.Sorted(maps.Keys(op.media)); !slices.Equal(got, statuses) {
				t.Errorf("statuses = %v, spec documents %v", got, statuses)
			}
		})
	}
}

func TestEveryOperationHasAHandler(t *testing.T) {
	e, err := New("http://127.0.0.1:1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	handlers := e.apiHandlers()
	var ids []string
	for _, op := range operations() {
		ids = append(ids, op.ID)
		if _, ok := handlers[op.ID]; !ok {
			t.Errorf("operation %s has no handler", op.ID)
		}
	}
	for id := range handlers {
		if !slices.Contains(ids, id) {
			t.Errorf("handler %s has no operation in the table", id)
		}
	}
}
