package kinde

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// specPath finds Kinde's pinned Management API spec: $KINDE_SPEC, or
// ../shared/kinde/management-api.yaml next to the repository root. When it
// is absent the test is skipped, except under CI=true where it fails.
func specPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("KINDE_SPEC"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("KINDE_SPEC=%s: %v", p, err)
		}
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "kinde", "management-api.yaml")
	if _, err := os.Stat(p); err != nil {
		msg := "Kinde's Management API spec is not at " + p + "; set KINDE_SPEC to a copy of " +
			"https://api-spec.kinde.com/kinde-management-api-spec.yaml (kinde-oss/management-api-js spec/kinde-mgmt-api-specs.yaml)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

func loadSpec(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath(t))
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	return doc
}

// specScope is the operation's scope: x-scope, or else the <code>…</code>
// Kinde puts in the description.
func specScope(op *openapi3.Operation) string {
	if s, ok := op.Extensions["x-scope"].(string); ok && s != "" {
		return s
	}
	if m := regexp.MustCompile(`<code>\s*([^<\s]+)\s*</code>`).FindStringSubmatch(op.Description); m != nil {
		return m[1]
	}
	return ""
}

func TestOperationsMatchSpec(t *testing.T) {
	doc := loadSpec(t)
	seen := map[opID]bool{}
	for _, op := range operations() {
		t.Run(string(op.ID), func(t *testing.T) {
			if seen[op.ID] {
				t.Fatalf("%s listed twice", op.ID)
			}
			seen[op.ID] = true
			item := doc.Paths.Value(op.Path)
			if item == nil {
				t.Fatalf("path %s is not in the spec", op.Path)
			}
			so := item.GetOperation(op.Method)
			if so == nil {
				t.Fatalf("%s %s is not in the spec", op.Method, op.Path)
			}
			if got, want := so.OperationID, string(op.ID); got != want {
				t.Errorf("operationId: spec has %q, table has %q", got, want)
			}
			if got, want := specScope(so), op.Scope; got != want {
				t.Errorf("scope: spec has %q, table has %q", got, want)
			}
			params := append(openapi3.Parameters{}, item.Parameters...)
			params = append(params, so.Parameters...)
			for _, q := range op.Query {
				if p := params.GetByInAndName(openapi3.ParameterInQuery, q); p == nil {
					t.Errorf("query parameter %q is not declared", q)
				}
			}
			if op.request != nil {
				if so.RequestBody == nil || so.RequestBody.Value == nil {
					t.Fatal("the table has a request body, the spec none")
				}
				checkFields(t, "request", reflect.TypeOf(op.request), jsonSchema(so.RequestBody.Value.Content))
			}
			if op.response != nil {
				status, resp := successResponse2xx(t, so)
				if resp.Value == nil {
					t.Fatalf("response %s: unresolved", status)
				}
				checkFields(t, "response "+status, reflect.TypeOf(op.response), jsonSchema(resp.Value.Content))
			}
		})
	}
}

// successResponse2xx returns the operation's one success response.
func successResponse2xx(t *testing.T, so *openapi3.Operation) (string, *openapi3.ResponseRef) {
	t.Helper()
	var codes []string
	for code := range so.Responses.Map() {
		if strings.HasPrefix(code, "2") {
			codes = append(codes, code)
		}
	}
	if len(codes) != 1 {
		t.Fatalf("want one 2xx response, spec has %v", codes)
	}
	return codes[0], so.Responses.Value(codes[0])
}

// jsonSchema is the schema of the JSON media type in content.
func jsonSchema(content openapi3.Content) *openapi3.SchemaRef {
	keys := make([]string, 0, len(content))
	for k := range content {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "application/json") && content[k].Schema != nil {
			return content[k].Schema
		}
	}
	return nil
}

// checkFields fails for every JSON field of typ (recursively) that the
// schema does not declare.
func checkFields(t *testing.T, where string, typ reflect.Type, s *openapi3.SchemaRef) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if s == nil || s.Value == nil {
		t.Errorf("%s: no schema for %s", where, typ)
		return
	}
	switch typ.Kind() {
	case reflect.Slice:
		if typ.Elem().Kind() == reflect.Uint8 {
			return
		}
		items := s.Value.Items
		if items == nil {
			t.Errorf("%s: the spec's schema is not an array", where)
			return
		}
		checkFields(t, where+"[]", typ.Elem(), items)
	case reflect.Struct:
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				t.Errorf("%s.%s: no json name", where, f.Name)
				continue
			}
			prop := property(s.Value, name)
			if prop == nil {
				t.Errorf("%s: field %q is not in the spec", where, name)
				continue
			}
			checkFields(t, where+"."+name, f.Type, prop)
		}
	}
}

// property finds a property by name, looking through allOf/oneOf/anyOf.
func property(s *openapi3.Schema, name string) *openapi3.SchemaRef {
	if p, ok := s.Properties[name]; ok {
		return p
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, sub := range group {
			if sub.Value == nil {
				continue
			}
			if p := property(sub.Value, name); p != nil {
				return p
			}
		}
	}
	return nil
}

func TestScopes(t *testing.T) {
	got := Scopes()
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("Scopes() not sorted and unique: %v", got)
	}
	for _, want := range []string{"read:users", "create:users", "update:organization_users", "update:user_refresh_claims"} {
		if !slices.Contains(got, want) {
			t.Errorf("Scopes() lacks %s", want)
		}
	}
}
