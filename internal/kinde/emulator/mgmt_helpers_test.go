package emulator_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// mgmtResp is a raw Management API or control-plane response.
type mgmtResp struct {
	status int
	header http.Header
	raw    []byte
	err    error // transport error (e.g. a dropped connection)
}

func (r mgmtResp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.raw, &m); err != nil {
		t.Fatalf("not JSON: %s", r.raw)
	}
	return m
}

// mgmtCall sends one request to the emulator with an optional bearer token.
func mgmtCall(ctx context.Context, t testing.TB, e *emulator.Emulator, token, method, path, body string) mgmtResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.Issuer()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return mgmtResp{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return mgmtResp{status: resp.StatusCode, header: resp.Header, raw: raw, err: err}
}
