package views

import "github.com/clubhouse/clubhouse/views/layout"

// SwitchClubPage asks the person to confirm a switch to another of their
// clubs. The portal shows it when a browser does not say where a switch
// link was followed from (no Sec-Fetch-Site): the link might be on another
// website, so only the page's form, posted to /auth/switch, switches.
type SwitchClubPage struct {
	Shell    layout.ShellProps
	ClubCode string // the club to switch to, posted back as org_code
	ClubName string
	// CurrentClubName is the club the person is using now ("" for none).
	CurrentClubName string
}
