// Package kindespec loads the pinned Kinde Management API spec for tests and
// validates HTTP traffic against it. The spec is not vendored: tests read it
// from $KINDE_SPEC or from ../shared/kinde/management-api.yaml next to the
// repository root (kinde-oss/management-api-js, spec/kinde-mgmt-api-specs.yaml
// @ b3c91b3768c4060a58afe23e6da5cee29027e404; public copy at
// https://api-spec.kinde.com/kinde-management-api-spec.yaml).
//
// Schemas are "closed" on load: every object schema that does not say
// otherwise gets additionalProperties: false, so an invented field in a
// request or a response is a violation.
package kindespec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// routingServer is the server URL the router is built for; requests are
// re-addressed to it before routing, so one Spec serves any emulator port.
const routingServer = "http://kinde.spec.test"

// Spec is the loaded, closed Management API spec and its router.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
}

// Path finds the spec file: $KINDE_SPEC, or ../shared/kinde/management-api.yaml
// relative to the repository root (the directory holding go.mod).
func Path() (string, error) {
	if p := os.Getenv("KINDE_SPEC"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("kindespec: working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "kinde", "management-api.yaml"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kindespec: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Load loads and closes the spec for a test. When the file is absent the
// test is skipped with a note on where to get it, except under CI=true,
// where it fails.
func Load(t testing.TB) *Spec {
	t.Helper()
	path, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("kindespec: Kinde Management API spec not found at %s; set KINDE_SPEC or download "+
			"https://api-spec.kinde.com/kinde-management-api-spec.yaml (pinned: kinde-oss/management-api-js "+
			"spec/kinde-mgmt-api-specs.yaml @ b3c91b37) to ../shared/kinde/management-api.yaml", path)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s, err := LoadFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// LoadFile loads, validates and closes the spec at path.
func LoadFile(ctx context.Context, path string) (*Spec, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("kindespec: load %s: %w", path, err)
	}
	// The pinned spec carries an invalid example (create_directory_response).
	if err := doc.Validate(ctx, openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("kindespec: validate %s: %w", path, err)
	}
	Close(doc)
	doc.Servers = openapi3.Servers{{URL: routingServer}}
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("kindespec: router: %w", err)
	}
	return &Spec{Doc: doc, router: router}, nil
}

// Operation returns the operation with the given operationId, its method
// and path.
func (s *Spec) Operation(id string) (method, path string, op *openapi3.Operation, ok bool) {
	for p, item := range s.Doc.Paths.Map() {
		for m, o := range item.Operations() {
			if o.OperationID == id {
				return m, p, o, true
			}
		}
	}
	return "", "", nil, false
}

// Close sets additionalProperties: false on every object schema of doc that
// leaves it unset, in components and inline, recursively. An allOf of object
// schemas is first flattened into one schema, because closing each member
// separately would reject the other members' properties.
func Close(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	if doc.Components != nil {
		for _, ref := range doc.Components.Schemas {
			closeSchemaRef(ref, seen)
		}
		for _, ref := range doc.Components.Responses {
			closeResponse(ref, seen)
		}
		for _, ref := range doc.Components.RequestBodies {
			if ref != nil && ref.Value != nil {
				closeContent(ref.Value.Content, seen)
			}
		}
		for _, ref := range doc.Components.Parameters {
			closeParameter(ref, seen)
		}
	}
	if doc.Paths == nil {
		return
	}
	for _, item := range doc.Paths.Map() {
		for _, p := range item.Parameters {
			closeParameter(p, seen)
		}
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				closeParameter(p, seen)
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				closeContent(op.RequestBody.Value.Content, seen)
			}
			if op.Responses != nil {
				for _, r := range op.Responses.Map() {
					closeResponse(r, seen)
				}
			}
		}
	}
}

func closeParameter(ref *openapi3.ParameterRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil {
		return
	}
	closeSchemaRef(ref.Value.Schema, seen)
	closeContent(ref.Value.Content, seen)
}

func closeResponse(ref *openapi3.ResponseRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil {
		return
	}
	closeContent(ref.Value.Content, seen)
	for _, h := range ref.Value.Headers {
		if h != nil && h.Value != nil {
			closeSchemaRef(h.Value.Schema, seen)
		}
	}
}

func closeContent(c openapi3.Content, seen map[*openapi3.Schema]bool) {
	for _, mt := range c {
		if mt != nil {
			closeSchemaRef(mt.Schema, seen)
		}
	}
}

func closeSchemaRef(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil {
		return
	}
	closeSchema(ref.Value, seen)
}

func closeSchema(s *openapi3.Schema, seen map[*openapi3.Schema]bool) {
	if seen[s] {
		return
	}
	seen[s] = true
	if len(s.AllOf) > 0 && flattenAllOf(s) {
		s.AllOf = nil
	}
	isObject := (s.Type != nil && s.Type.Is(openapi3.TypeObject)) || len(s.Properties) > 0
	if isObject && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		no := false
		s.AdditionalProperties.Has = &no
	}
	for _, p := range s.Properties {
		closeSchemaRef(p, seen)
	}
	closeSchemaRef(s.Items, seen)
	closeSchemaRef(s.AdditionalProperties.Schema, seen)
	closeSchemaRef(s.Not, seen)
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, m := range list {
			closeSchemaRef(m, seen)
		}
	}
}

// flattenAllOf merges an allOf of plain object schemas into s and reports
// whether it could.
func flattenAllOf(s *openapi3.Schema) bool {
	props := openapi3.Schemas{}
	for k, v := range s.Properties {
		props[k] = v
	}
	required := append([]string(nil), s.Required...)
	for _, m := range s.AllOf {
		if m == nil || m.Value == nil {
			return false
		}
		v := m.Value
		if len(v.AllOf)+len(v.OneOf)+len(v.AnyOf) > 0 || v.Not != nil || v.AdditionalProperties.Schema != nil {
			return false
		}
		if v.Type != nil && !v.Type.Is(openapi3.TypeObject) {
			return false
		}
		for k, p := range v.Properties {
			props[k] = p
		}
		required = append(required, v.Required...)
	}
	s.Properties = props
	s.Required = required
	s.Type = &openapi3.Types{openapi3.TypeObject}
	return true
}
