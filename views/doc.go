// Package views holds the portal's pages and htmx fragments as templ
// components. Each page or fragment takes ONE typed view model defined
// here; views never do I/O and never import net/http, the web layer,
// storage or Kinde packages (deps_test.go keeps that true).
//
// Pages render inside layout.Shell. Fragments are what htmx swaps: the
// members table, the add-member form, an inline roles editor, a saved row,
// and out-of-band flashes. Every form also works as a plain POST without
// JavaScript.
package views
