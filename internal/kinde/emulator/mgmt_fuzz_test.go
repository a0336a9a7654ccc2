package emulator

import (
	"errors"
	"net/http"
	"testing"
)

// requestBodies returns a fresh value of every request-body type the
// Management API decodes.
func requestBodies() map[string]func() any {
	return map[string]func() any{
		"createUser":         func() any { return &createUserRequest{} },
		"updateUser":         func() any { return &updateUserRequest{} },
		"createOrganization": func() any { return &createOrganizationRequest{} },
		"updateOrganization": func() any { return &updateOrganizationRequest{} },
		"orgUsers":           func() any { return &orgUsersRequest{} },
		"roleID": func() any {
			return &struct {
				RoleID *string `json:"role_id"`
			}{}
		},
	}
}

// FuzzDecodeRequestBodies feeds arbitrary bytes to the strict decoder with
// every request type: it must never panic, and must either succeed or
// return a 400 in Kinde's envelope. Seeds live in
// testdata/fuzz/FuzzDecodeRequestBodies; run with
// go test -fuzz=FuzzDecodeRequestBodies ./internal/kinde/emulator/.
func FuzzDecodeRequestBodies(f *testing.F) {
	for _, s := range []string{
		`{"profile":{"given_name":"A"},"identities":[{"type":"email","details":{"email":"a@b.co"}}]}`,
		`{"name":"Club"}`, `{"users":[{"id":"kp_1","roles":["admin"],"operation":"delete"}]}`,
		`{"name":`, `{"name":1}`, `{"nope":true}`, `null`, `[]`, `{} {}`, `"\ud800"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, mk := range requestBodies() {
			v := mk()
			err := decodeJSON(body, v)
			if err == nil {
				if req, ok := v.(*createUserRequest); ok {
					_, _, err = userFromCreateRequest(*req)
				}
			}
			if err == nil {
				continue
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest || ae.code == "" {
				t.Fatalf("%s: %q gave %v, want a 400 apiError", name, body, err)
			}
		}
	})
}
