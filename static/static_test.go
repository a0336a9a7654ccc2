package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// htmxSHA256 is the sha256 of dist/htmx.min.js in the npm package
// htmx.org@2.0.11 (see vendor/README.md).
const htmxSHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"

func newAssets(t *testing.T) *Assets {
	t.Helper()
	a, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func TestVendoredHTMXIsPinned(t *testing.T) {
	body, err := files.ReadFile(HTMX)
	if err != nil {
		t.Fatalf("read %s: %v", HTMX, err)
	}
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != htmxSHA256 {
		t.Errorf("sha256(%s) = %s, want %s; re-vendor it as static/vendor/README.md says", HTMX, got, htmxSHA256)
	}
	if !bytes.Contains(body, []byte(`version:"2.0.11"`)) {
		t.Errorf("%s does not say it is version 2.0.11", HTMX)
	}
}

func TestURL(t *testing.T) {
	a := newAssets(t)
	tests := []struct {
		name string
		want string // a pattern
	}{
		{CSS, `^/static/app\.[0-9a-f]{8}\.css$`},
		{AppJS, `^/static/app\.[0-9a-f]{8}\.js$`},
		{HTMX, `^/static/vendor/htmx-2\.0\.11\.min\.[0-9a-f]{8}\.js$`},
		{Icon, `^/static/img/favicon\.[0-9a-f]{8}\.svg$`},
		{"missing.css", `^/static/missing\.css$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.URL(tt.name)
			if !regexp.MustCompile(tt.want).MatchString(got) {
				t.Errorf("URL(%q) = %q, want match for %s", tt.name, got, tt.want)
			}
		})
	}
	if a.URL(CSS) == a.URL(AppJS) {
		t.Errorf("app.css and app.js share a URL %q", a.URL(CSS))
	}
}

func TestURLHashFollowsContent(t *testing.T) {
	a := newAssets(t)
	body, err := files.ReadFile(CSS)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if want := "/static/app." + hex.EncodeToString(sum[:4]) + ".css"; a.URL(CSS) != want {
		t.Errorf("URL(app.css) = %q, want %q", a.URL(CSS), want)
	}
}

func TestHandler(t *testing.T) {
	a := newAssets(t)
	h := a.Handler()
	tests := []struct {
		name        string
		method      string
		path        string
		header      map[string]string
		wantStatus  int
		wantType    string
		wantBody    string // a substring; "" skips
		wantCache   bool
		wantGzipped bool
	}{
		{name: "css", method: "GET", path: a.URL(CSS), wantStatus: 200, wantType: "text/css; charset=utf-8", wantBody: "--c-accent", wantCache: true},
		{name: "js", method: "GET", path: a.URL(AppJS), wantStatus: 200, wantType: "text/javascript; charset=utf-8", wantBody: "data-dialog-open", wantCache: true},
		{name: "htmx", method: "GET", path: a.URL(HTMX), wantStatus: 200, wantType: "text/javascript; charset=utf-8", wantBody: "htmx", wantCache: true},
		{name: "svg", method: "GET", path: a.URL(Icon), wantStatus: 200, wantType: "image/svg+xml", wantBody: "<svg", wantCache: true},
		{name: "gzip", method: "GET", path: a.URL(HTMX), header: map[string]string{"Accept-Encoding": "br, gzip"}, wantStatus: 200, wantType: "text/javascript; charset=utf-8", wantBody: "htmx", wantCache: true, wantGzipped: true},
		{name: "gzip refused", method: "GET", path: a.URL(CSS), header: map[string]string{"Accept-Encoding": "gzip;q=0"}, wantStatus: 200, wantType: "text/css; charset=utf-8", wantBody: "--c-accent", wantCache: true},
		{name: "head", method: "HEAD", path: a.URL(CSS), wantStatus: 200, wantType: "text/css; charset=utf-8", wantCache: true},
		{name: "unhashed name", method: "GET", path: "/static/app.css", wantStatus: 404},
		{name: "stale hash", method: "GET", path: "/static/app.00000000.css", wantStatus: 404},
		{name: "not embedded", method: "GET", path: "/static/static.go", wantStatus: 404},
		{name: "readme", method: "GET", path: "/static/vendor/README.md", wantStatus: 404},
		{name: "traversal", method: "GET", path: "/static/../go.mod", wantStatus: 404},
		{name: "post", method: "POST", path: a.URL(CSS), wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(t.Context(), tt.method, "http://127.0.0.1"+tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				if cc := res.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
					t.Errorf("a %d is cached forever: Cache-Control %q", tt.wantStatus, cc)
				}
				return
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := res.Header.Get("Cache-Control"); tt.wantCache && got != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control = %q", got)
			}
			if res.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			gotGzip := res.Header.Get("Content-Encoding") == "gzip"
			if gotGzip != tt.wantGzipped {
				t.Errorf("gzipped = %v, want %v", gotGzip, tt.wantGzipped)
			}
			var body io.Reader = res.Body
			if gotGzip {
				zr, err := gzip.NewReader(res.Body)
				if err != nil {
					t.Fatalf("gzip: %v", err)
				}
				body = zr
			}
			b, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.method == "HEAD" && len(b) != 0 {
				t.Errorf("HEAD wrote %d bytes", len(b))
			}
			if !strings.Contains(string(b), tt.wantBody) {
				t.Errorf("body does not contain %q", tt.wantBody)
			}
		})
	}
}

func TestHandlerNotModified(t *testing.T) {
	a := newAssets(t)
	h := a.Handler()
	first := httptest.NewRecorder()
	h.ServeHTTP(first, httptest.NewRequestWithContext(t.Context(), http.MethodGet, a.URL(CSS), nil))
	etag := first.Result().Header.Get("ETag")

	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, a.URL(CSS), nil)
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := rec.Result().StatusCode; got != http.StatusNotModified {
		t.Errorf("status = %d, want 304", got)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("304 has a body of %d bytes", rec.Body.Len())
	}
}

func TestStylesheetCoversTheUI(t *testing.T) {
	body, err := files.ReadFile(CSS)
	if err != nil {
		t.Fatal(err)
	}
	css := string(body)
	for _, want := range []string{
		":root", "--c-accent", "--space-",
		".htmx-indicator", ".htmx-request .htmx-indicator",
		":focus-visible", "@media (max-width: 640px)", "attr(data-label)",
		".member-row.is-new", "@keyframes row-highlight",
		".btn--primary", ".btn--secondary", ".btn--danger",
		".badge--owner", ".flash--success", ".flash--error", ".dialog::backdrop",
		".empty-state", ".field-error",
	} {
		if !strings.Contains(css, want) {
			t.Errorf("app.css has no %q", want)
		}
	}
	for _, banned := range []string{"@import", "url(http", "fonts.googleapis"} {
		if strings.Contains(css, banned) {
			t.Errorf("app.css loads something from outside: %q", banned)
		}
	}
}

func TestAppJSIsCSPSafe(t *testing.T) {
	body, err := files.ReadFile(AppJS)
	if err != nil {
		t.Fatal(err)
	}
	js := string(body)
	for _, banned := range []string{"eval(", "new Function", "innerHTML", ".style.", "setAttribute('style'", "document.write"} {
		if strings.Contains(js, banned) {
			t.Errorf("app.js uses %q", banned)
		}
	}
}
