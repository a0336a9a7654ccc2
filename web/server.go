// Package web is the portal's HTTP layer: the route table, the handlers
// (one file per page action), the middleware chain (logging, metrics,
// security headers, cross-origin protection, sessions, authentication and
// authorization), the single error responder and the render helper that
// chooses between a full page and an htmx fragment.
//
// It depends on the domain (internal/club), the views, the static assets
// and internal/session. Kinde, the database and mail reach it only through
// the small interfaces declared here and in internal/club.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/session"
	"github.com/clubhouse/clubhouse/static"
	"github.com/prometheus/client_golang/prometheus"
)

// Authenticator signs people in through Kinde. internal/kinde's *Auth
// implements it.
type Authenticator interface {
	// AuthCodeURL is where to send the browser to sign in.
	AuthCodeURL(state, nonce, verifier string, req club.SignInRequest) string
	// Exchange trades an authorization code for verified tokens.
	Exchange(ctx context.Context, code, verifier, nonce string) (club.Identity, club.Tokens, error)
	// Refresh renews the tokens; errors.Is(err, club.ErrSessionEnded) when
	// Kinde refuses (revoked, expired, removed from the club).
	Refresh(ctx context.Context, t club.Tokens) (club.Identity, club.Tokens, error)
	// LogoutURL is Kinde's sign-out page, coming back to returnTo.
	LogoutURL(returnTo string) string
}

// RoleSource lists the roles a club can grant. internal/kinde's *Admin
// implements it (cached).
type RoleSource interface {
	Roles(ctx context.Context) ([]club.Role, error)
}

// Freshness tells how current the portal's knowledge is. internal/store's
// *DB implements it.
type Freshness interface {
	// ClaimsStaleSince is when userID's roles last changed (zero if never):
	// tokens read before then must be refreshed before they are trusted.
	ClaimsStaleSince(ctx context.Context, userID string) (time.Time, error)
	// LastSynced is when the club's members were last refreshed from Kinde
	// (zero if never).
	LastSynced(ctx context.Context, clubCode string) (time.Time, error)
}

// Deps are everything the HTTP layer needs: what every portal has, then
// its optional features, each off when nil and whole when set. Logger,
// Now, Registerer and Ready have defaults; the rest of the first group is
// required.
type Deps struct {
	Logger *slog.Logger
	// PublicURL is how browsers reach the portal, e.g. https://clubs.example.org.
	PublicURL string
	// KindeIssuer is the Kinde domain; forms may post to it (sign-out
	// redirects there), so the CSP's form-action names it.
	KindeIssuer string

	Service   *club.Service
	Directory club.Directory
	AuditLog  club.AuditLog
	// Invitations lists the club's invitation emails for its admins.
	Invitations club.Invitations

	Auth      Authenticator
	Roles     RoleSource
	Freshness Freshness
	Sessions  session.Records
	Assets    *static.Assets

	Now func() time.Time
	// Registerer takes the HTTP layer's metrics (request latency by
	// route). The portal's listener does not serve them: cmd/clubhouse
	// serves its registry on a listener of its own.
	Registerer prometheus.Registerer
	// Ready reports whether the portal can serve (database reachable…).
	Ready func(ctx context.Context) error

	// Staff is the platform staff's console and their read-only "view
	// as" of any club.
	Staff *StaffConsole
	// Webhooks receives Kinde's webhooks at POST /webhooks/kinde.
	Webhooks *WebhookReceiver
	// Imports is the bulk member import from a CSV file.
	Imports *BulkImport
	// DevMailbox is the development mailbox (make run only).
	DevMailbox club.DevMailbox
}

// StaffConsole turns on the staff console for the members of Org holding
// staff:impersonate. Every field but ViewAsTTL is required.
type StaffConsole struct {
	// Org is the Kinde org of platform staff.
	Org string
	// Kinde is what the console reads from Kinde.
	Kinde StaffKinde
	// RoleHolders lists a club's owners.
	RoleHolders RoleHolders
	// ViewAsTTL is how long a staff view lasts (DefaultViewAsTTL when 0).
	ViewAsTTL time.Duration
}

// WebhookReceiver takes Kinde's webhooks: Verifier checks them, Inbox
// queues them for a background job. Both are required.
type WebhookReceiver struct {
	Inbox    WebhookInbox
	Verifier WebhookVerifier
}

// BulkImport previews, starts and reports bulk member imports, run by a
// background job that Queue starts. Both are required.
type BulkImport struct {
	Importer *club.Importer
	Queue    ImportQueue
}

// missing names the required dependencies d lacks, and the required parts
// of the features it turns on.
func (d Deps) missing() []string {
	var out []string
	need := func(ok bool, name string) {
		if !ok {
			out = append(out, name)
		}
	}
	need(d.Service != nil, "Service")
	need(d.Directory != nil, "Directory")
	need(d.AuditLog != nil, "AuditLog")
	need(d.Invitations != nil, "Invitations")
	need(d.Auth != nil, "Auth")
	need(d.Roles != nil, "Roles")
	need(d.Freshness != nil, "Freshness")
	need(d.Sessions != nil, "Sessions")
	need(d.Assets != nil, "Assets")
	if st := d.Staff; st != nil {
		need(st.Org != "", "Staff.Org")
		need(st.Kinde != nil, "Staff.Kinde")
		need(st.RoleHolders != nil, "Staff.RoleHolders")
	}
	if w := d.Webhooks; w != nil {
		need(w.Inbox != nil, "Webhooks.Inbox")
		need(w.Verifier != nil, "Webhooks.Verifier")
	}
	if im := d.Imports; im != nil {
		need(im.Importer != nil, "Imports.Importer")
		need(im.Queue != nil, "Imports.Queue")
	}
	return out
}

// Server holds the HTTP layer's dependencies. It is built once by
// NewServer and never changed afterwards.
type Server struct {
	logger    *slog.Logger
	publicURL string
	secure    bool
	csp       string // with a %s for the nonce

	service   *club.Service
	directory club.Directory
	audit     club.AuditLog
	invites   club.Invitations
	mailbox   club.DevMailbox
	auth      Authenticator
	roles     RoleSource
	fresh     Freshness
	sessions  *session.Store
	assets    *static.Assets
	now       func() time.Time
	ready     func(ctx context.Context) error
	metrics   *httpMetrics
	refreshes *refreshGroup

	staffOrg    string
	staffKinde  StaffKinde
	roleHolders RoleHolders
	viewAsTTL   time.Duration

	webhooks        WebhookInbox
	webhookVerifier WebhookVerifier
	imports         ImportQueue
	importer        *club.Importer

	routes []route
}

// NewServer returns the portal's HTTP handler. It refuses deps that lack
// a required part, naming each.
func NewServer(d Deps) (http.Handler, error) {
	s, err := newServer(d)
	if err != nil {
		return nil, err
	}
	return s.handler(), nil
}

func newServer(d Deps) (*Server, error) {
	if missing := d.missing(); len(missing) > 0 {
		return nil, fmt.Errorf("web: new server: missing %s", strings.Join(missing, ", "))
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Ready == nil {
		d.Ready = func(context.Context) error { return nil }
	}
	if d.Registerer == nil {
		d.Registerer = prometheus.NewRegistry()
	}
	public := strings.TrimRight(d.PublicURL, "/")
	secure := strings.HasPrefix(public, "https://")
	s := &Server{
		logger:    d.Logger,
		publicURL: public,
		secure:    secure,
		csp:       contentSecurityPolicy(d.KindeIssuer),
		service:   d.Service,
		directory: d.Directory,
		audit:     d.AuditLog,
		invites:   d.Invitations,
		mailbox:   d.DevMailbox,
		auth:      d.Auth,
		roles:     d.Roles,
		fresh:     d.Freshness,
		sessions:  session.NewStore(d.Sessions, session.Options{Secure: secure, Now: d.Now}),
		assets:    d.Assets,
		now:       d.Now,
		ready:     d.Ready,
		metrics:   newMetrics(d.Registerer),
		refreshes: newRefreshGroup(),

		viewAsTTL: DefaultViewAsTTL,
	}
	if st := d.Staff; st != nil {
		s.staffOrg, s.staffKinde, s.roleHolders = st.Org, st.Kinde, st.RoleHolders
		if st.ViewAsTTL > 0 {
			s.viewAsTTL = st.ViewAsTTL
		}
	}
	if w := d.Webhooks; w != nil {
		s.webhooks, s.webhookVerifier = w.Inbox, w.Verifier
	}
	if im := d.Imports; im != nil {
		s.importer, s.imports = im.Importer, im.Queue
	}
	s.routes = s.routeTable()
	return s, nil
}

// origin returns the scheme and host of a URL ("" when it has none).
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
