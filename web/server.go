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

// Deps are everything the HTTP layer needs. Mailbox, Registerer and Ready
// may be nil; the rest are required.
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
	// Mailbox is the development mailbox; nil outside development, and then
	// its pages do not exist.
	Mailbox club.DevMailbox

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
	// Gatherer is ignored, for the same reason. It stays only until its
	// last user (internal/jobs's instance tests) stops setting it.
	Gatherer prometheus.Gatherer
	// Ready reports whether the portal can serve (database reachable…).
	Ready func(ctx context.Context) error

	// StaffOrg is the Kinde org whose members holding staff:impersonate
	// are platform staff; "" turns the staff console off (its pages then
	// refuse everyone). RoleHolders is required with it; without
	// StaffKinde the console is off too.
	StaffOrg   string
	StaffKinde StaffKinde
	// RoleHolders lists a club's owners.
	RoleHolders RoleHolders
	// ViewAsTTL is how long a staff view lasts (DefaultViewAsTTL when 0).
	ViewAsTTL time.Duration

	// Webhooks takes Kinde's webhooks, once verified by WebhookVerifier,
	// for processing in a background job. nil leaves POST /webhooks/kinde
	// out of the route table; WebhookVerifier is required with it.
	Webhooks        WebhookInbox
	WebhookVerifier WebhookVerifier
	// Imports queues bulk member imports (a background job); may be nil.
	Imports ImportQueue
	// Importer previews, starts and reports bulk member imports. nil
	// leaves the import pages out of the route table; Imports is
	// required with it.
	Importer *club.Importer
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
	metrics   *metrics
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

// NewServer returns the portal's HTTP handler. It panics when a required
// dependency is missing: that is a wiring bug, found at start-up.
func NewServer(d Deps) http.Handler {
	s := newServer(d)
	return s.handler()
}

func newServer(d Deps) *Server {
	switch {
	case d.Service == nil, d.Directory == nil, d.AuditLog == nil, d.Invitations == nil, d.Auth == nil, d.Roles == nil,
		d.Freshness == nil, d.Sessions == nil, d.Assets == nil:
		panic("web: NewServer: Service, Directory, AuditLog, Invitations, Auth, Roles, Freshness, Sessions and Assets are required")
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
	if d.Importer != nil && d.Imports == nil {
		panic("web: NewServer: Importer needs Imports")
	}
	if d.Webhooks != nil && d.WebhookVerifier == nil {
		panic("web: NewServer: Webhooks needs a WebhookVerifier")
	}
	if d.StaffOrg != "" && d.RoleHolders == nil {
		panic("web: NewServer: StaffOrg needs RoleHolders")
	}
	if d.ViewAsTTL <= 0 {
		d.ViewAsTTL = DefaultViewAsTTL
	}
	if d.StaffKinde == nil {
		d.StaffOrg = "" // without Kinde the console cannot work: nobody is staff
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
		mailbox:   d.Mailbox,
		auth:      d.Auth,
		roles:     d.Roles,
		fresh:     d.Freshness,
		sessions:  session.NewStore(d.Sessions, session.Options{Secure: secure, Now: d.Now}),
		assets:    d.Assets,
		now:       d.Now,
		ready:     d.Ready,
		metrics:   newMetrics(d.Registerer),
		refreshes: newRefreshGroup(),

		staffOrg:    d.StaffOrg,
		staffKinde:  d.StaffKinde,
		roleHolders: d.RoleHolders,
		viewAsTTL:   d.ViewAsTTL,

		webhooks:        d.Webhooks,
		webhookVerifier: d.WebhookVerifier,
		imports:         d.Imports,
		importer:        d.Importer,
	}
	s.routes = s.routeTable()
	return s
}

// origin returns the scheme and host of a URL ("" when it has none).
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
