package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the portal. It is read once, from flags and the
// environment, in this file only.
type Config struct {
	// Dev runs the portal with the embedded Kinde emulator (seeded with demo
	// clubs) and the development mailbox. It is what `make run` uses, and
	// only a development build (-tags dev) has it.
	Dev bool
	// DevAllowRemote lets Dev listen on more than loopback. Dev lets anyone
	// who reaches the portal sign in as anyone and read every mail, so it
	// takes CLUBHOUSE_DEV_ALLOW_REMOTE=yes-really.
	DevAllowRemote bool

	Addr        string // listen address
	MetricsAddr string // listen address of /metrics (Prometheus); "" serves no metrics
	PublicURL   string // how browsers reach the portal, e.g. https://clubs.example.org
	DatabaseURL string // sqlite:path/to.db or postgres://...

	EmulatorAddr string // dev only: where the embedded Kinde emulator listens

	Kinde KindeConfig
	SMTP  SMTPConfig

	// StaffOrg is the Kinde org code of platform staff: its members holding
	// staff:impersonate may view any club as one of its members. "" turns
	// the staff console off. Dev default: the emulator's staff org, filled
	// in by the development wiring (startDevKinde).
	StaffOrg string
	// ViewAsMinutes is how long a staff view lasts (1 to 240).
	ViewAsMinutes int

	// WebhookRegister makes the portal register its webhook
	// (PublicURL/webhooks/kinde) with Kinde at start. Dev default: on,
	// against the embedded emulator.
	WebhookRegister bool
	// ReconcileEvery is how often every known club is reconciled with
	// Kinde by a background job; 0 turns it off.
	ReconcileEvery time.Duration

	ShutdownTimeout time.Duration
}

// KindeConfig points the portal at a Kinde business.
type KindeConfig struct {
	Domain          string // https://<business>.kinde.com
	ClientID        string // back-end web application
	ClientSecret    string
	M2MClientID     string // machine-to-machine application with Management API scopes
	M2MClientSecret string
	Audience        string // API audience requested for access tokens (optional)
}

// SMTPConfig is where invitation emails go in production.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	TLS      string // mandatory | opportunistic | none
}

// parseConfig reads flags (args) over the environment (getenv).
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var c Config
	fs := flag.NewFlagSet("clubhouse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.Dev, "dev", env("CLUBHOUSE_DEV", "") == "1" || env("CLUBHOUSE_DEV", "") == "true",
		"run with the embedded Kinde emulator and the development mailbox (CLUBHOUSE_DEV)")
	allowRemote := fs.String("dev-allow-remote", env("CLUBHOUSE_DEV_ALLOW_REMOTE", ""),
		"yes-really lets -dev listen on more than loopback (CLUBHOUSE_DEV_ALLOW_REMOTE)")
	fs.StringVar(&c.Addr, "addr", env("CLUBHOUSE_ADDR", "127.0.0.1:8080"), "listen address (CLUBHOUSE_ADDR)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("CLUBHOUSE_METRICS_ADDR", ""), "listen address of /metrics (Prometheus); empty serves none (CLUBHOUSE_METRICS_ADDR)")
	fs.StringVar(&c.PublicURL, "public-url", env("CLUBHOUSE_PUBLIC_URL", ""), "public URL of the portal (CLUBHOUSE_PUBLIC_URL); dev default http://localhost:<port of -addr>")
	fs.StringVar(&c.DatabaseURL, "database-url", env("CLUBHOUSE_DATABASE_URL", ""), "sqlite:path.db or postgres://… (CLUBHOUSE_DATABASE_URL); dev default sqlite:data/clubhouse.db")
	fs.StringVar(&c.EmulatorAddr, "emulator-addr", env("CLUBHOUSE_EMULATOR_ADDR", "127.0.0.1:8081"), "dev: listen address of the embedded Kinde emulator")
	fs.StringVar(&c.Kinde.Domain, "kinde-domain", env("KINDE_DOMAIN", ""), "Kinde domain, e.g. https://acme.kinde.com (KINDE_DOMAIN)")
	fs.StringVar(&c.Kinde.ClientID, "kinde-client-id", env("KINDE_CLIENT_ID", ""), "back-end app client id (KINDE_CLIENT_ID)")
	c.Kinde.ClientSecret = env("KINDE_CLIENT_SECRET", "")
	fs.StringVar(&c.Kinde.M2MClientID, "kinde-m2m-client-id", env("KINDE_M2M_CLIENT_ID", ""), "M2M app client id (KINDE_M2M_CLIENT_ID)")
	c.Kinde.M2MClientSecret = env("KINDE_M2M_CLIENT_SECRET", "")
	fs.StringVar(&c.Kinde.Audience, "kinde-audience", env("KINDE_AUDIENCE", ""), "API audience for access tokens (KINDE_AUDIENCE)")
	fs.StringVar(&c.SMTP.Host, "smtp-host", env("SMTP_HOST", ""), "SMTP host for invitation emails (SMTP_HOST)")
	port, err := strconv.Atoi(env("SMTP_PORT", "587"))
	if err != nil {
		return Config{}, fmt.Errorf("config: SMTP_PORT: %w", err)
	}
	fs.IntVar(&c.SMTP.Port, "smtp-port", port, "SMTP port (SMTP_PORT)")
	fs.StringVar(&c.SMTP.Username, "smtp-username", env("SMTP_USERNAME", ""), "SMTP user (SMTP_USERNAME)")
	c.SMTP.Password = env("SMTP_PASSWORD", "")
	fs.StringVar(&c.SMTP.From, "smtp-from", env("SMTP_FROM", ""), "sender address (SMTP_FROM)")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", env("SMTP_TLS", "mandatory"), "mandatory | opportunistic | none (SMTP_TLS)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to wait for requests on shutdown")
	fs.BoolVar(&c.WebhookRegister, "webhook-register", env("CLUBHOUSE_WEBHOOK_REGISTER", "") == "1" || env("CLUBHOUSE_WEBHOOK_REGISTER", "") == "true",
		"register the portal's webhook with Kinde at start (CLUBHOUSE_WEBHOOK_REGISTER); on in dev unless CLUBHOUSE_WEBHOOK_REGISTER=0")
	reconcile, err := time.ParseDuration(env("CLUBHOUSE_RECONCILE_INTERVAL", "15m"))
	if err != nil {
		return Config{}, fmt.Errorf("config: CLUBHOUSE_RECONCILE_INTERVAL: %w", err)
	}
	fs.DurationVar(&c.ReconcileEvery, "reconcile-interval", reconcile, "how often clubs are reconciled with Kinde; 0 turns it off (CLUBHOUSE_RECONCILE_INTERVAL)")
	fs.StringVar(&c.StaffOrg, "staff-org", env("CLUBHOUSE_STAFF_ORG", ""), "Kinde org code of platform staff; empty turns the staff console off (CLUBHOUSE_STAFF_ORG); dev default the emulator's staff org")
	viewAs, err := strconv.Atoi(env("CLUBHOUSE_VIEW_AS_MINUTES", "30"))
	if err != nil {
		return Config{}, fmt.Errorf("config: CLUBHOUSE_VIEW_AS_MINUTES: %w", err)
	}
	fs.IntVar(&c.ViewAsMinutes, "view-as-minutes", viewAs, "how long a staff view lasts, in minutes (CLUBHOUSE_VIEW_AS_MINUTES)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	switch *allowRemote {
	case "":
	case allowRemoteYes:
		c.DevAllowRemote = true
	default:
		return Config{}, fmt.Errorf("config: CLUBHOUSE_DEV_ALLOW_REMOTE is %q: it takes %s or nothing", *allowRemote, allowRemoteYes)
	}
	if c.Dev {
		// An empty public URL in dev is derived from the listen address
		// once the portal listens (see run).
		if c.DatabaseURL == "" {
			c.DatabaseURL = "sqlite:data/clubhouse.db"
		}
		explicit := getenv("CLUBHOUSE_WEBHOOK_REGISTER") != ""
		fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "webhook-register" })
		if !explicit {
			c.WebhookRegister = true
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.Kinde.Domain = strings.TrimRight(c.Kinde.Domain, "/")
	return c, c.Validate()
}

// Validate refuses an incomplete configuration and names everything that is
// missing, so the portal never starts half-configured.
func (c Config) Validate() error {
	var missing []string
	need := func(v, name string) {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	need(c.Addr, "CLUBHOUSE_ADDR")
	need(c.DatabaseURL, "CLUBHOUSE_DATABASE_URL")
	if !c.Dev {
		need(c.PublicURL, "CLUBHOUSE_PUBLIC_URL")
		need(c.Kinde.Domain, "KINDE_DOMAIN")
		need(c.Kinde.ClientID, "KINDE_CLIENT_ID")
		need(c.Kinde.ClientSecret, "KINDE_CLIENT_SECRET")
		need(c.Kinde.M2MClientID, "KINDE_M2M_CLIENT_ID")
		need(c.Kinde.M2MClientSecret, "KINDE_M2M_CLIENT_SECRET")
		need(c.SMTP.Host, "SMTP_HOST")
		need(c.SMTP.From, "SMTP_FROM")
	}
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("config: missing %s (or run with -dev for the embedded Kinde emulator)", strings.Join(missing, ", ")))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("config: CLUBHOUSE_PUBLIC_URL must be an absolute http(s) URL"))
		}
	}
	if !c.Dev && c.Kinde.Domain != "" {
		if u, err := url.Parse(c.Kinde.Domain); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, errors.New("config: KINDE_DOMAIN must be an https URL such as https://acme.kinde.com"))
		}
	}
	errs = append(errs, c.devBeyondLoopback()...)
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("config: CLUBHOUSE_METRICS_ADDR must be host:port such as 127.0.0.1:9090: %w", err))
		}
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("config: CLUBHOUSE_DATABASE_URL must start with sqlite: or postgres://"))
	}
	if c.ReconcileEvery < 0 || (c.ReconcileEvery > 0 && c.ReconcileEvery < time.Minute) {
		errs = append(errs, errors.New("config: CLUBHOUSE_RECONCILE_INTERVAL must be 0 (off) or at least 1m"))
	}
	if c.ViewAsMinutes < 1 || c.ViewAsMinutes > 240 {
		errs = append(errs, errors.New("config: CLUBHOUSE_VIEW_AS_MINUTES must be between 1 and 240"))
	}
	switch c.SMTP.TLS {
	case "mandatory", "opportunistic", "none":
	default:
		errs = append(errs, errors.New("config: SMTP_TLS must be mandatory, opportunistic or none"))
	}
	return errors.Join(errs...)
}

// devBeyondLoopback refuses -dev on an address other machines reach: the
// portal's one-click sign-in, its mailbox and the emulator's Management
// API (with seeded, published credentials) are for this machine only.
func (c Config) devBeyondLoopback() []error {
	if !c.Dev || c.DevAllowRemote {
		return nil
	}
	var errs []error
	for _, a := range []struct{ addr, name string }{{c.Addr, "CLUBHOUSE_ADDR"}, {c.EmulatorAddr, "CLUBHOUSE_EMULATOR_ADDR"}} {
		if !isLoopback(a.addr) {
			errs = append(errs, fmt.Errorf("config: -dev lets anyone who reaches it sign in as anyone and read every mail, so it listens on loopback only, and %s is %q: "+
				"use 127.0.0.1, ::1 or localhost, or set CLUBHOUSE_DEV_ALLOW_REMOTE=%s", a.name, a.addr, allowRemoteYes))
		}
	}
	return errs
}

// allowRemoteYes is the only value of CLUBHOUSE_DEV_ALLOW_REMOTE that lets
// -dev listen beyond loopback: a word nobody types by accident.
const allowRemoteYes = "yes-really"

// isLoopback reports whether a listen address (host:port) takes connections
// from this machine only: 127.0.0.0/8, ::1 or localhost. An empty host
// listens everywhere, and any other name may resolve anywhere.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
