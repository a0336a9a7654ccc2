package web

import "net/http"

// htmx request and response headers (https://htmx.org/reference/#headers).
const (
	HXRequest        = "HX-Request"                 // request: sent by htmx on every request
	HXBoosted        = "HX-Boosted"                 // request: the request comes from an hx-boost link or form
	HXHistoryRestore = "HX-History-Restore-Request" // request: htmx restores a page missing from its cache
	HXTarget         = "HX-Target"                  // request: id of the target element
	HXTrigger        = "HX-Trigger"                 // request: id of the triggering element; response: events to trigger
	HXCurrentURL     = "HX-Current-URL"             // request: the browser's current URL
	HXRedirect       = "HX-Redirect"                // response: client-side redirect (full page load)
	HXLocation       = "HX-Location"                // response: client-side redirect without a full reload
	HXPushURL        = "HX-Push-Url"                // response: push a URL into the history
	HXReplaceURL     = "HX-Replace-Url"             // response: replace the current URL
	HXRetarget       = "HX-Retarget"                // response: CSS selector that replaces the target
	HXReswap         = "HX-Reswap"                  // response: how the response is swapped
	HXRefresh        = "HX-Refresh"                 // response: "true" makes the client reload the page
)

// isHTMX reports whether r was sent by htmx.
func isHTMX(r *http.Request) bool { return r.Header.Get(HXRequest) == "true" }

// wantsFragment reports whether r should get a page fragment rather than a
// full page: htmx requests do, unless they are boosted (the whole body is
// swapped) or a history restore (the page is rebuilt from scratch).
func wantsFragment(r *http.Request) bool {
	return isHTMX(r) && r.Header.Get(HXBoosted) != "true" && r.Header.Get(HXHistoryRestore) != "true"
}
