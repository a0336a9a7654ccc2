// Package components holds the portal's reusable view leaves: role badges,
// avatars, buttons, form fields, empty states, timestamps and pagination.
// Each component takes a small Props struct (plus templ.Attributes where a
// caller needs to add htmx or data attributes) and never does I/O.
//
// It also owns the small formatting rules every page shares (relative
// times, initials, counts, page summaries), so handlers never format text.
package components
