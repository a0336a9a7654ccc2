package archtest

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/clubhouse/clubhouse"

// A graph maps each package of the module, by its path inside the module
// ("internal/club"), to its direct imports: the module's own written the
// same way, every other in full ("net/http"). It holds the imports of the
// packages' non-test files only; tests may reach further (the end-to-end
// tests start the emulator and a real store).
type graph map[string][]string

// ours reports whether p is a package of the module. Every one of them is a
// key of the graph, as go list lists them all.
func (g graph) ours(p string) bool {
	_, ok := g[p]
	return ok
}

// under returns the packages of the graph in or below root, in order.
func (g graph) under(root string) []string {
	var ps []string
	for p := range g {
		if within(p, root) {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	return ps
}

// reach returns every package of ours that from depends on, directly or
// through others, each with the chain of imports that leads to it.
func (g graph) reach(from string) map[string][]string {
	chains := map[string][]string{from: {from}}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range g[p] {
			if _, seen := chains[imp]; seen || !g.ours(imp) {
				continue
			}
			chains[imp] = append(slices.Clip(chains[p]), imp)
			queue = append(queue, imp)
		}
	}
	delete(chains, from)
	return chains
}

// within reports whether p is root or below it.
func within(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }

// adapters are the packages that each talk to one outside system; a
// package belongs to the adapter whose folder it is in (the emulator and
// the spec checks to internal/kinde). The job package is internal/jobs,
// internal/river before its rename: either name counts.
var adapters = []string{"internal/store", "internal/kinde", "internal/mail", "internal/session", "internal/jobs", "internal/river"}

// adapterOf returns the adapter p belongs to, or "" when it is none.
func adapterOf(p string) string {
	for _, a := range adapters {
		if within(p, a) {
			return a
		}
	}
	return ""
}

// A rule is one kind of arrow that must never exist, as
// docs/ARCHITECTURE.md lists it.
type rule struct {
	name string
	// productionOnly: the rule holds for the build without tags only.
	productionOnly bool
	// check returns the arrows of g that break the rule, as import chains.
	check func(g graph) []string
}

// forbidden returns, for each package of g under from, the chains to the
// packages it depends on for which bad is true.
func forbidden(g graph, from string, bad func(from, dep string) bool) []string {
	var found []string
	for _, p := range g.under(from) {
		chains := g.reach(p)
		deps := make([]string, 0, len(chains))
		for d := range chains {
			deps = append(deps, d)
		}
		slices.Sort(deps)
		for _, d := range deps {
			if bad(p, d) {
				found = append(found, strings.Join(chains[d], " → "))
			}
		}
	}
	return found
}

var rules = []rule{
	{name: "the domain imports nothing of ours", check: func(g graph) []string {
		var found []string
		for _, p := range g.under("internal/club") {
			for _, imp := range g[p] {
				if g.ours(imp) && !within(imp, "internal/club") {
					found = append(found, p+" → "+imp)
				}
			}
		}
		return found
	}},
	{name: "views depend on nothing of ours but views and the domain", check: func(g graph) []string {
		return forbidden(g, "views", func(_, dep string) bool {
			return !within(dep, "views") && !within(dep, "internal/club")
		})
	}},
	{name: "views do not import net/http", check: func(g graph) []string {
		var found []string
		for _, p := range g.under("views") {
			if slices.Contains(g[p], "net/http") {
				found = append(found, p+" → net/http")
			}
		}
		return found
	}},
	{name: "no adapter depends on another adapter", check: func(g graph) []string {
		var found []string
		for _, a := range adapters {
			found = append(found, forbidden(g, a, func(_, dep string) bool {
				b := adapterOf(dep)
				return b != "" && b != a
			})...)
		}
		return found
	}},
	{name: "web depends on no adapter but internal/session", check: func(g graph) []string {
		return forbidden(g, "web", func(_, dep string) bool {
			a := adapterOf(dep)
			return a != "" && a != "internal/session"
		})
	}},
	// cmd/clubhouse/deps_test.go checks the same with go list -deps,
	// stdlib and all, and shows the development build does link it.
	{name: "the production build of cmd/clubhouse has no emulator", productionOnly: true, check: func(g graph) []string {
		return forbidden(g, "cmd/clubhouse", func(_, dep string) bool {
			return within(dep, "internal/kinde/emulator") || within(dep, "internal/kinde/kindespec")
		})
	}},
}

// A violation is an arrow that breaks a rule.
type violation struct {
	rule  string
	arrow string
}

// check returns every arrow of g that breaks a rule. production says
// whether g is the build without tags.
func check(g graph, production bool) []violation {
	var vs []violation
	for _, r := range rules {
		if r.productionOnly && !production {
			continue
		}
		for _, a := range r.check(g) {
			vs = append(vs, violation{r.name, a})
		}
	}
	return vs
}

// TestArchitecture checks the rules on the module as it is, in the
// production build and in the development build (-tags dev).
func TestArchitecture(t *testing.T) {
	for _, build := range []struct {
		name string
		tags string // the empty value overrides any -tags in GOFLAGS
	}{
		{"production build", ""},
		{"development build", "dev"},
	} {
		t.Run(build.name, func(t *testing.T) {
			g := load(t, build.tags)
			// The rules look at these: they must be there to be looked at.
			for _, p := range []string{"internal/club", "views", "views/components", "web", "cmd/clubhouse",
				"internal/store", "internal/kinde", "internal/kinde/emulator", "internal/mail", "internal/session"} {
				if !g.ours(p) {
					t.Errorf("go list did not list %s: the rules no longer see it", p)
				}
			}
			if !g.ours("internal/jobs") && !g.ours("internal/river") {
				t.Errorf("go list listed neither internal/jobs nor internal/river: update the adapters of this test")
			}
			for _, v := range check(g, build.tags == "") {
				t.Errorf("%s: %s (see docs/ARCHITECTURE.md)", v.rule, v.arrow)
			}
			if build.tags == "dev" {
				// The development build links the emulator, which the
				// production rule must see were it in the other build.
				var prod []violation
				for _, v := range check(g, true) {
					if v.rule == "the production build of cmd/clubhouse has no emulator" {
						prod = append(prod, v)
					}
				}
				if len(prod) == 0 {
					t.Errorf("the production rule finds no emulator in the development build: it no longer sees what it guards against")
				}
			}
		})
	}
}

// load returns the module's import graph for a build with the given tags.
func load(t *testing.T, tags string) graph {
	t.Helper()
	// go test puts its own GOROOT/bin first on the PATH of the tests it
	// runs, so this is the go that builds this package.
	cmd := exec.CommandContext(t.Context(), "go", "list", "-tags="+tags, "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...")
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("go list: %v\n%s", err, exit.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	return parse(string(out))
}

// parse reads go list's lines of a package and its imports into a graph.
func parse(out string) graph {
	rel := func(p string) string {
		if p == module {
			return "."
		}
		if r, ok := strings.CutPrefix(p, module+"/"); ok {
			return r
		}
		return p
	}
	g := graph{}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		imps := make([]string, 0, len(f)-1)
		for _, imp := range f[1:] {
			imps = append(imps, rel(imp))
		}
		g[rel(f[0])] = imps
	}
	return g
}

// design is the module's graph as docs/ARCHITECTURE.md draws it, with the
// job package named jobs.
func design(jobs string) graph {
	return graph{
		"internal/club":                        {"context", "errors"},
		"internal/metrics":                     {"github.com/prometheus/client_golang/prometheus"},
		"internal/store":                       {"internal/club", "database/sql"},
		"internal/kinde":                       {"internal/club", "internal/metrics", "net/http"},
		"internal/kinde/emulator":              {"net/http"},
		"internal/kinde/emulator/emulatortest": {"internal/kinde/emulator"},
		"internal/kinde/kindespec":             {},
		"internal/mail":                        {"internal/club"},
		"internal/session":                     {"internal/club", "net/http", "github.com/gorilla/sessions"},
		jobs:                                   {"internal/club", "internal/metrics", "github.com/riverqueue/river"},
		"views/components":                     {"github.com/a-h/templ"},
		"views/layout":                         {"views/components", "github.com/a-h/templ"},
		"views":                                {"views/components", "views/layout", "github.com/a-h/templ"},
		"static":                               {"embed"},
		"web":                                  {"internal/club", "internal/session", "static", "views", "views/components", "net/http"},
		"cmd/clubhouse":                        {"internal/club", "internal/kinde", "internal/mail", jobs, "internal/store", "static", "views", "web"},
		"cmd/kinde-emulator":                   {"internal/kinde/emulator"},
	}
}

// TestRules shows each rule catches the arrows it forbids, and only those:
// one import added to the design breaks exactly the rules named, and some
// allowed ones break none.
func TestRules(t *testing.T) {
	const (
		domain     = "the domain imports nothing of ours"
		views      = "views depend on nothing of ours but views and the domain"
		viewsHTTP  = "views do not import net/http"
		adapter    = "no adapter depends on another adapter"
		web        = "web depends on no adapter but internal/session"
		production = "the production build of cmd/clubhouse has no emulator"
	)
	for _, jobs := range []string{"internal/river", "internal/jobs"} {
		t.Run(jobs, func(t *testing.T) {
			tests := []struct {
				name       string
				from, to   string // the import added to the design ("" for none)
				production bool
				want       []string // the rules broken
			}{
				{"the design", "", "", true, nil},
				{"the design, development build", "cmd/clubhouse", "internal/kinde/emulator", false, nil},
				{"domain imports a helper", "internal/club", "internal/metrics", true, []string{domain}},
				{"domain imports the store", "internal/club", "internal/store", true, []string{domain, adapter, web}},
				{"domain package imports web", "internal/club/sub", "web", true, []string{domain}},
				{"views import web", "views/components", "web", true, []string{views}},
				{"views import the store", "views/layout", "internal/store", true, []string{views, web}},
				{"views import Kinde", "views", "internal/kinde", true, []string{views, web}},
				{"views import the emulator", "views", "internal/kinde/emulator", true, []string{views, web, production}},
				{"views import mail", "views", "internal/mail", true, []string{views, web}},
				{"views import sessions", "views/components", "internal/session", true, []string{views}},
				{"views import the jobs", "views", jobs, true, []string{views, web}},
				{"views import static", "views", "static", true, []string{views}},
				{"views import net/http", "views/components", "net/http", true, []string{viewsHTTP}},
				{"views import the domain", "views", "internal/club", true, nil},
				{"Kinde imports the store", "internal/kinde", "internal/store", true, []string{adapter}},
				{"the emulator imports the store", "internal/kinde/emulator", "internal/store", true, []string{adapter}},
				{"the jobs import the store", jobs, "internal/store", true, []string{adapter}},
				{"mail imports the jobs", "internal/mail", jobs, true, []string{adapter}},
				{"the store imports sessions", "internal/store", "internal/session", true, []string{adapter}},
				{"sessions import the store", "internal/session", "internal/store", true, []string{adapter, web}},
				{"an adapter reaches another through a helper", "internal/metrics", "internal/mail", true, []string{adapter}},
				{"Kinde imports the emulator, development build", "internal/kinde", "internal/kinde/emulator", false, nil},
				{"Kinde imports the emulator, production build", "internal/kinde", "internal/kinde/emulator", true, []string{production}},
				{"web imports the store", "web", "internal/store", true, []string{web}},
				{"web imports Kinde", "web", "internal/kinde", true, []string{web}},
				{"web imports mail", "web", "internal/mail", true, []string{web}},
				{"web imports the jobs", "web", jobs, true, []string{web}},
				{"web reaches the store through static", "static", "internal/store", true, []string{web}},
				{"web imports a helper", "web", "internal/metrics", true, nil},
				{"production build links the emulator", "cmd/clubhouse", "internal/kinde/emulator", true, []string{production}},
				{"production build links the spec checks", "cmd/clubhouse", "internal/kinde/kindespec", true, []string{production}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					g := design(jobs)
					if tt.from != "" {
						if !g.ours(tt.from) {
							g[tt.from] = nil
						}
						g[tt.from] = append(g[tt.from], tt.to)
					}
					var got []string
					for _, v := range check(g, tt.production) {
						if !slices.Contains(got, v.rule) {
							got = append(got, v.rule)
						}
					}
					slices.Sort(got)
					want := slices.Sorted(slices.Values(tt.want))
					if !slices.Equal(got, want) {
						t.Errorf("rules broken: got %q, want %q\nviolations: %v", got, want, check(g, tt.production))
					}
				})
			}
		})
	}
}

// TestParse reads go list's output the way load asks for it.
func TestParse(t *testing.T) {
	out := module + "/web context " + module + "/internal/club net/http\n" +
		module + "/internal/club \n" +
		module + "/internal/jobs " + module + "/internal/club github.com/riverqueue/river\n"
	got := parse(out)
	want := graph{
		"web":           {"context", "internal/club", "net/http"},
		"internal/club": {},
		"internal/jobs": {"internal/club", "github.com/riverqueue/river"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for p, imps := range want {
		if !slices.Equal(got[p], imps) {
			t.Errorf("%s: got %q, want %q", p, got[p], imps)
		}
	}
}
