// Package layout owns the portal's app shell: the document head (styles,
// scripts with CSP nonces, htmx configuration), the header with the club
// switcher and the person's menu, the staff "view as" banner, the left
// navigation, and the flash region. Every page renders inside Shell.
package layout
