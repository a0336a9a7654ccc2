package layout

// Assets are the content-hashed URLs of the static files the shell links.
// The HTTP layer fills them from the static package, which views may not
// import.
type Assets struct {
	CSS   string // e.g. "/static/app.3f2a9c1b.css"
	HTMX  string // the vendored htmx build
	AppJS string // the portal's small enhancement script
	Icon  string // optional favicon (SVG)
}

// Person is the signed-in person, as the header shows them.
type Person struct {
	Name  string
	Email string
}

// ClubLink is one of the person's clubs in the switcher.
type ClubLink struct {
	Name      string
	SwitchURL string // e.g. "/auth/switch?org_code=org_123"
	Current   bool
}

// Nav names the left navigation item of the current page.
type Nav string

// Navigation items.
const (
	NavNone     Nav = ""
	NavHome     Nav = "home"
	NavMembers  Nav = "members"
	NavActivity Nav = "activity"
	// NavInvitations is the club's invitation emails.
	NavInvitations Nav = "invitations"
	NavSettings    Nav = "settings"
	NavMailbox     Nav = "mailbox"
	NavStaff       Nav = "staff"
)

// StaffBanner is shown while platform staff view a club as one of its
// members, read-only.
type StaffBanner struct {
	StaffName   string
	PersonName  string // the person whose view the staff member sees
	ClubName    string
	MinutesLeft int
	StopAction  string // POST target that ends the view, e.g. "/staff/view-as/stop"
	// ViewAsID names the view in the Stop form, so a stop replayed after
	// the view ended is recognised.
	ViewAsID string
}

// FlashKind is the tone of a flash message.
type FlashKind string

// Flash tones.
const (
	FlashSuccess FlashKind = "success"
	FlashError   FlashKind = "error"
	FlashInfo    FlashKind = "info"
)

// Flash is a one-off message shown under the header, such as "Added
// ana@example.org to Riverside Rowing Club".
type Flash struct {
	Kind FlashKind
	Text string
}

func (f Flash) class() string {
	switch f.Kind {
	case FlashSuccess, FlashError:
		return "flash flash--" + string(f.Kind)
	}
	return "flash flash--info"
}

func (f Flash) kind() string {
	switch f.Kind {
	case FlashSuccess, FlashError:
		return string(f.Kind)
	}
	return string(FlashInfo)
}

// ShellProps is everything the app shell shows around a page.
type ShellProps struct {
	// Title is the page's title, e.g. "Members". The document title adds the
	// club and product name.
	Title string
	// Person is the signed-in person; nil when signed out.
	Person *Person
	// ClubName is the current club; "" when the person has none yet.
	ClubName string
	// Clubs are all the person's clubs for the switcher, the current one
	// marked. With fewer than two, the club name shows without a menu.
	Clubs []ClubLink
	// AdminNav shows the admin items (Members, Activity) in the left nav.
	AdminNav bool
	// InvitationsNav adds Invitations to the admin nav (for those who add
	// members).
	InvitationsNav bool
	// SettingsURL, when set, adds a Settings item to the admin nav.
	SettingsURL string
	// Active marks the current item of the left nav.
	Active Nav
	// StaffBanner is set only while staff view the club as someone else.
	StaffBanner *StaffBanner
	// StaffConsole adds the staff console to the left nav (platform staff
	// only).
	StaffConsole bool
	// Flashes are shown under the header.
	Flashes []Flash
	// Assets are the static file URLs.
	Assets Assets
	// DevMailbox adds a link to the development mailbox (make run only).
	DevMailbox bool
}

func (p ShellProps) documentTitle() string {
	t := p.Title
	if p.ClubName != "" && p.ClubName != p.Title {
		if t != "" {
			t += " · "
		}
		t += p.ClubName
	}
	if t != "" {
		t += " · "
	}
	return t + "Clubhouse"
}

func (p ShellProps) showNav() bool {
	return p.Person != nil && (p.ClubName != "" || p.DevMailbox || p.StaffConsole)
}

// HTMXConfig is the htmx configuration the shell puts in its
// <meta name="htmx-config">. It keeps htmx within the Content-Security-
// Policy (no injected indicator styles, no eval, no scripts from swapped
// HTML), swaps 422 answers (a form re-rendered with its errors), and does
// not swap other 4xx/5xx answers: app.js shows their message as a flash, so
// an error never replaces part of the page.
const HTMXConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"historyRestoreAsHxRequest":false,"selfRequestsOnly":true,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},` +
	`{"code":"422","swap":true},{"code":"[45]..","swap":false,"error":true}]}`
