package web

import "net/http"

// htmx request and response headers (https://htmx.org/reference/#headers):
// the ones the portal reads or sends. Add one here when a handler needs it.
const (
	HXRequest        = "HX-Request"                 // request: sent by htmx on every request
	HXBoosted        = "HX-Boosted"                 // request: the request comes from an hx-boost link or form
	HXHistoryRestore = "HX-History-Restore-Request" // request: htmx restores a page missing from its cache
	HXRedirect       = "HX-Redirect"                // response: client-side redirect (full page load)
)

// isHTMX reports whether r was sent by htmx.
func isHTMX(r *http.Request) bool { return r.Header.Get(HXRequest) == "true" }

// wantsFragment reports whether r should get a page fragment rather than a
// full page: htmx requests do, unless they are boosted (the whole body is
// swapped) or a history restore (the page is rebuilt from scratch).
func wantsFragment(r *http.Request) bool {
	return isHTMX(r) && r.Header.Get(HXBoosted) != "true" && r.Header.Get(HXHistoryRestore) != "true"
}
