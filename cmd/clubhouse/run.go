package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/jobs"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/mail"
	"github.com/clubhouse/clubhouse/internal/store"
	"github.com/clubhouse/clubhouse/static"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/web"
)

// errNoDevBuild is run's answer to -dev in a binary built without the
// development wiring.
var errNoDevBuild = errors.New("clubhouse: -dev needs the development build, which embeds the Kinde emulator, and this binary has none: " +
	"use `make run`, or `go run -tags dev ./cmd/clubhouse -dev`")

// run reads the configuration, wires the portal and serves it until ctx is
// done, then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	if cfg.Dev && !devBuild {
		return errNoDevBuild
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: redactAttr}))

	lns, err := listen(cfg)
	if err != nil {
		return err
	}
	defer lns.Close()
	if cfg.PublicURL == "" { // dev only: Validate requires it otherwise
		cfg.PublicURL = "http://localhost:" + portOf(lns.portal.Addr())
	}
	if cfg.Dev {
		var stopKinde func()
		if cfg, stopKinde, err = startDevKinde(ctx, cfg, logger); err != nil {
			return err
		}
		defer stopKinde()
	}
	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := wire(ctx, cfg, db, logger)
	if err != nil {
		return err
	}
	defer func() { _ = p.jobs.Stop(context.WithoutCancel(ctx)) }()
	return serve(ctx, cfg, lns, p, logger, stdout)
}

// listeners are the portal's sockets. They are opened first, so a busy
// port fails before anything starts, and a port of 0 is known to the rest.
type listeners struct {
	portal  net.Listener
	metrics net.Listener // nil without CLUBHOUSE_METRICS_ADDR
}

func listen(cfg Config) (listeners, error) {
	var lns listeners
	var err error
	if lns.portal, err = net.Listen("tcp", cfg.Addr); err != nil {
		return listeners{}, fmt.Errorf("clubhouse: listen: %w", err)
	}
	if cfg.MetricsAddr != "" {
		if lns.metrics, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			lns.portal.Close()
			return listeners{}, fmt.Errorf("clubhouse: listen for metrics: %w", err)
		}
	}
	return lns, nil
}

// Close closes the listeners that are still open (a server's Shutdown
// closes its own).
func (l listeners) Close() {
	_ = l.portal.Close()
	if l.metrics != nil {
		_ = l.metrics.Close()
	}
}

// metricsURL is where Prometheus scrapes the portal, "" when nowhere.
func (l listeners) metricsURL() string {
	if l.metrics == nil {
		return ""
	}
	return "http://" + l.metrics.Addr().String() + "/metrics"
}

// openStore opens the database, making the SQLite file's folder first.
func openStore(ctx context.Context, cfg Config, logger *slog.Logger) (*store.DB, error) {
	if strings.HasPrefix(cfg.DatabaseURL, "sqlite:") {
		if dir := filepath.Dir(strings.TrimPrefix(cfg.DatabaseURL, "sqlite:")); dir != "." && dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("clubhouse: data folder: %w", err)
			}
		}
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, logger)
	if err != nil {
		return nil, fmt.Errorf("clubhouse: %w", err)
	}
	return db, nil
}

// portal is the wired portal: its HTTP handler, and what serve starts and
// stops beside it.
type portal struct {
	handler  http.Handler
	registry *prometheus.Registry // served on the metrics listener
	admin    *kinde.Admin         // registers the webhook
	jobs     *jobs.Jobs
	db       *store.DB
}

// wire builds the portal's parts over db and cfg's Kinde: sign-in, the
// Management API client, mail, the club service, the jobs and the HTTP
// handler. Nothing runs yet: serve starts it.
func wire(ctx context.Context, cfg Config, db *store.DB, logger *slog.Logger) (*portal, error) {
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	httpClient := &http.Client{Timeout: 15 * time.Second}
	auth, err := kinde.NewAuth(ctx, kinde.AuthConfig{
		Issuer: cfg.Kinde.Domain, ClientID: cfg.Kinde.ClientID, ClientSecret: cfg.Kinde.ClientSecret,
		RedirectURL: cfg.PublicURL + "/auth/callback", Audience: cfg.Kinde.Audience, HTTPClient: httpClient,
	})
	if err != nil {
		return nil, fmt.Errorf("clubhouse: %w", err)
	}
	admin, err := kinde.NewAdmin(kinde.AdminConfig{
		Issuer: cfg.Kinde.Domain, ClientID: cfg.Kinde.M2MClientID, ClientSecret: cfg.Kinde.M2MClientSecret,
		HTTPClient: httpClient, Logger: logger, Metrics: registry,
	})
	if err != nil {
		return nil, fmt.Errorf("clubhouse: %w", err)
	}
	sender, err := newSender(cfg, db)
	if err != nil {
		return nil, err
	}
	worker := mail.NewWorker(db, sender, renderInvitation, mail.WorkerConfig{BaseURL: cfg.PublicURL, Logger: logger})
	assets, err := static.New()
	if err != nil {
		return nil, fmt.Errorf("clubhouse: %w", err)
	}
	svc := club.NewService(db, admin, time.Now, logger)
	// Bulk imports run as River jobs; the web layer previews, starts and
	// reports them.
	importer := club.NewImporter(db, db, admin, time.Now, logger)
	queue, err := newJobs(ctx, cfg, db, svc, worker, importer.Run, registry, logger)
	if err != nil {
		return nil, err
	}
	// From here on every invitation written queues its job in the same
	// transaction; nothing writes one before (the sweep would catch it).
	db.SetInvitationQueue(queue)
	var mailbox club.DevMailbox
	if cfg.Dev {
		mailbox = db
	}
	d := web.Deps{
		Logger: logger, PublicURL: cfg.PublicURL, KindeIssuer: cfg.Kinde.Domain,
		Service: svc, Directory: db, AuditLog: db, Invitations: db, DevMailbox: mailbox,
		Auth: auth, Roles: admin, Freshness: db, Sessions: db, Assets: assets, Now: time.Now,
		Registerer: registry, Ready: db.Ping,
		Webhooks: &web.WebhookReceiver{Inbox: queue, Verifier: kinde.NewWebhookVerifier(cfg.Kinde.Domain, httpClient)},
		Imports:  &web.BulkImport{Importer: importer, Queue: queue},
	}
	if cfg.StaffOrg != "" {
		d.Staff = &web.StaffConsole{Org: cfg.StaffOrg, Kinde: admin, RoleHolders: db,
			ViewAsTTL: time.Duration(cfg.ViewAsMinutes) * time.Minute}
	}
	handler, err := web.NewServer(d)
	if err != nil {
		return nil, fmt.Errorf("clubhouse: %w", err)
	}
	return &portal{handler: handler, registry: registry, admin: admin, jobs: queue, db: db}, nil
}

// newSender is where invitation emails go: the development mailbox with
// -dev, SMTP otherwise.
func newSender(cfg Config, db *store.DB) (mail.Sender, error) {
	if cfg.Dev {
		return mail.NewDevSender(db, time.Now), nil
	}
	smtp, err := mail.NewSMTP(mail.SMTPConfig{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
		Password: cfg.SMTP.Password, From: cfg.SMTP.From, TLS: mail.TLSPolicy(cfg.SMTP.TLS)})
	if err != nil {
		return nil, fmt.Errorf("clubhouse: %w", err)
	}
	return smtp, nil
}

// serve starts the jobs and the background tasks, serves the portal (and
// its metrics, when configured) until ctx is done or a server fails, then
// shuts everything down.
func serve(ctx context.Context, cfg Config, lns listeners, p *portal, logger *slog.Logger, stdout io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Invitations, webhooks, reconciliation and imports run as River jobs.
	if err := p.jobs.Start(ctx); err != nil {
		return fmt.Errorf("clubhouse: %w", err)
	}
	background := make(chan error, 2) // one per task: the session sweep, the webhook registration
	go func() { background <- sweepSessions(ctx, p.db, logger) }()

	servers := []*http.Server{newHTTPServer(p.handler, logger)}
	serveErr := make(chan error, 2) // one per server
	go func() { serveErr <- servers[0].Serve(lns.portal) }()
	if lns.metrics != nil {
		m := newHTTPServer(metricsHandler(p.registry, logger), logger)
		servers = append(servers, m)
		go func() { serveErr <- m.Serve(lns.metrics) }()
	}
	// Registration waits on Kinde (retrying with backoff when it is down),
	// so it runs beside the portal instead of holding up its start. The
	// listener is open already, so Kinde can reach the endpoint at once.
	go func() {
		registerWebhook(ctx, cfg, p.admin, logger)
		background <- nil
	}()
	printWelcome(stdout, cfg, lns.metricsURL())
	logger.Info("clubhouse: listening", "addr", lns.portal.Addr().String(), "public_url", cfg.PublicURL, "dev", cfg.Dev)

	var failed error
	select {
	case err := <-serveErr:
		failed = fmt.Errorf("clubhouse: serve: %w", err)
	case <-ctx.Done():
	}
	shutdown(ctx, cfg, servers, cancel, p.jobs, background, logger)
	return failed
}

// newHTTPServer is an http.Server with the portal's timeouts.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// shutdown stops the portal within cfg.ShutdownTimeout, in order: the HTTP
// servers first, so requests in flight finish, then (cancel) the
// background tasks and the jobs, which it waits for.
func shutdown(ctx context.Context, cfg Config, servers []*http.Server, cancel context.CancelFunc, queue *jobs.Jobs,
	background <-chan error, logger *slog.Logger) {
	logger.Info("clubhouse: shutting down")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancelShutdown()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			logger.Warn("clubhouse: shutdown", "err", err)
		}
	}
	cancel()
	if err := queue.Stop(shutdownCtx); err != nil {
		logger.Warn("clubhouse: stop jobs", "err", err)
	}
	for range cap(background) {
		if err := <-background; err != nil && !errors.Is(err, context.Canceled) {
			logger.Warn("clubhouse: background task", "err", err)
		}
	}
}

// renderInvitation renders the invitation email with the views package.
func renderInvitation(inv club.Invitation, signInURL string) (subject, html, text string, err error) {
	return views.RenderInvitation(context.Background(), views.InvitationEmail{
		ClubName: inv.ClubName, PersonName: inv.Name, InvitedBy: inv.InvitedBy, SignInURL: signInURL,
	})
}

// sweepSessions deletes expired sessions once an hour.
func sweepSessions(ctx context.Context, db *store.DB, logger *slog.Logger) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if n, err := db.DeleteExpiredSessions(ctx, now); err != nil {
				logger.Warn("clubhouse: sweep sessions", "err", err)
			} else if n > 0 {
				logger.Info("clubhouse: swept sessions", "deleted", n)
			}
		}
	}
}

// printWelcome tells a newcomer where to go and who to sign in as.
// metricsURL is "" when the portal serves no metrics.
func printWelcome(w io.Writer, cfg Config, metricsURL string) {
	fmt.Fprintf(w, "\nClubhouse is running at %s\n", cfg.PublicURL)
	if metricsURL != "" {
		fmt.Fprintf(w, "Metrics (Prometheus): %s\n", metricsURL)
	}
	if !cfg.Dev {
		return
	}
	fmt.Fprintf(w, "Kinde emulator (local, not production): %s\n", cfg.Kinde.Domain)
	fmt.Fprintf(w, "Development mailbox: %s/dev/mailbox\n\n", cfg.PublicURL)
	fmt.Fprintln(w, "Sign in with one click as, for example:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, p := range [][2]string{
		{"olivia@example.org", "owner, Riverside Rowing Club"},
		{"adam@example.org", "admin, Riverside Rowing Club"},
		{"mia@example.org", "member of three clubs"},
		{"nora@example.org", "no club yet: creates one"},
		{"sam@clubhouse.example", "platform staff"},
	} {
		fmt.Fprintf(tw, "  %s\t%s\n", p[0], p[1])
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func portOf(a net.Addr) string {
	_, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "8080"
	}
	return port
}

// redactAttr keeps personal data out of every log line, whoever logged it:
// an error is logged as its code and its redacted chain, and an email
// address in any string value as ***@domain.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Any().(type) {
	case error:
		a.Value = club.LogError(v)
	case string:
		a.Value = slog.StringValue(club.RedactEmails(v))
	}
	return a
}
