// Package static owns the portal's embedded front-end files (the
// stylesheet, app.js, the vendored htmx build and images) and serves them
// under content-hashed URLs such as /static/app.3f2a9c1b.css, so browsers
// may cache each version forever and a new build is fetched at once.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// files is read-only: embed.FS cannot be changed after the build.
//
//go:embed app.css app.js img/*.svg vendor/*.js
var files embed.FS

// Names of the embedded files, for Assets.URL.
const (
	CSS   = "app.css"
	AppJS = "app.js"
	HTMX  = "vendor/htmx-2.0.11.min.js"
	Icon  = "img/favicon.svg"
)

// Prefix is the URL path under which Handler serves the files.
const Prefix = "/static/"

// cacheForever lets browsers and proxies keep a hashed file for a year
// without asking again: its URL changes whenever its content does.
const cacheForever = "public, max-age=31536000, immutable"

// Assets maps the embedded files to their hashed URLs and serves them.
// It is safe for concurrent use; it never changes after New.
type Assets struct {
	urls  map[string]string // file name -> hashed URL path
	files map[string]*asset // hashed URL path -> file
}

type asset struct {
	name        string
	body        []byte
	gzipped     []byte // nil when compressing does not pay
	contentType string
	etag        string
}

// New reads the embedded files, hashes them and prepares them to be served.
func New() (*Assets, error) {
	a := &Assets{urls: map[string]string{}, files: map[string]*asset{}}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		body, err := files.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		short := hex.EncodeToString(sum[:4])
		urlPath := Prefix + hashedName(name, short)
		f := &asset{
			name:        name,
			body:        body,
			contentType: contentType(name),
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		}
		if f.gzipped, err = compress(body, f.contentType); err != nil {
			return fmt.Errorf("compress %s: %w", name, err)
		}
		a.urls[name] = urlPath
		a.files[urlPath] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	for _, required := range []string{CSS, AppJS, HTMX} {
		if _, ok := a.urls[required]; !ok {
			return nil, fmt.Errorf("static: %s is not embedded", required)
		}
	}
	return a, nil
}

// hashedName puts the hash before the last extension:
// "vendor/htmx-2.0.11.min.js" -> "vendor/htmx-2.0.11.min.3f2a9c1b.js".
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".woff2":
		return "font/woff2"
	}
	return "application/octet-stream"
}

// compress gzips text files when that makes them meaningfully smaller.
func compress(body []byte, contentType string) ([]byte, error) {
	if !strings.HasPrefix(contentType, "text/") && contentType != "image/svg+xml" {
		return nil, nil
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() >= len(body)*9/10 {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// URL returns the hashed URL of an embedded file, e.g. URL("app.css") is
// "/static/app.3f2a9c1b.css". For a name that is not embedded it returns
// the unhashed path, which Handler answers with 404.
func (a *Assets) URL(name string) string {
	if u, ok := a.urls[name]; ok {
		return u
	}
	return Prefix + strings.TrimPrefix(name, "/")
}

// Handler serves the hashed URLs (mount it at Prefix, without stripping the
// prefix) with a year-long immutable Cache-Control, the right Content-Type,
// an ETag, and gzip for clients that accept it. Anything else is 404.
func (a *Assets) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := a.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		body, etag := f.body, f.etag
		if f.gzipped != nil {
			h.Set("Vary", "Accept-Encoding")
			if acceptsGzip(r.Header.Get("Accept-Encoding")) {
				body, etag = f.gzipped, strings.TrimSuffix(f.etag, `"`)+`-gz"`
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", cacheForever)
		h.Set("ETag", etag)
		h.Set("X-Content-Type-Options", "nosniff")
		if matchesETag(r.Header.Get("If-None-Match"), etag) {
			h.Del("Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body) // the client went away; nothing to do
	})
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// matchesETag reports whether an If-None-Match header names etag.
func matchesETag(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		t := strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
