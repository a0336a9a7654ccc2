package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/mail"
	"github.com/clubhouse/clubhouse/internal/store"
	"github.com/clubhouse/clubhouse/static"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/web"
)

// run reads the configuration, wires the portal and serves it until ctx is
// done, then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("clubhouse: listen: %w", err)
	}
	defer ln.Close()
	if cfg.PublicURL == "" { // dev only: Validate requires it otherwise
		cfg.PublicURL = "http://localhost:" + portOf(ln.Addr())
	}

	var mailbox club.DevMailbox
	if cfg.Dev {
		emu, stopEmulator, err := startEmulator(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer stopEmulator()
		seed := emu.SeedState()
		portal, _ := seed.AppByName(emulator.SeedPortalApp)
		m2m, _ := seed.AppByName(emulator.SeedManagementApp)
		cfg.Kinde = KindeConfig{Domain: emu.Issuer(), ClientID: portal.ClientID, ClientSecret: portal.ClientSecret,
			M2MClientID: m2m.ClientID, M2MClientSecret: m2m.ClientSecret, Audience: emulator.SeedAPIAudience}
	}

	if strings.HasPrefix(cfg.DatabaseURL, "sqlite:") {
		if dir := filepath.Dir(strings.TrimPrefix(cfg.DatabaseURL, "sqlite:")); dir != "." && dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return fmt.Errorf("clubhouse: data folder: %w", err)
			}
		}
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, logger)
	if err != nil {
		return fmt.Errorf("clubhouse: %w", err)
	}
	defer db.Close()
	if cfg.Dev {
		mailbox = db
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	httpClient := &http.Client{Timeout: 15 * time.Second}

	auth, err := kinde.NewAuth(ctx, kinde.AuthConfig{
		Issuer: cfg.Kinde.Domain, ClientID: cfg.Kinde.ClientID, ClientSecret: cfg.Kinde.ClientSecret,
		RedirectURL: cfg.PublicURL + "/auth/callback", Audience: cfg.Kinde.Audience, HTTPClient: httpClient,
	})
	if err != nil {
		return fmt.Errorf("clubhouse: %w", err)
	}
	admin, err := kinde.NewAdmin(kinde.AdminConfig{
		Issuer: cfg.Kinde.Domain, ClientID: cfg.Kinde.M2MClientID, ClientSecret: cfg.Kinde.M2MClientSecret,
		HTTPClient: httpClient, Logger: logger, Metrics: registry,
	})
	if err != nil {
		return fmt.Errorf("clubhouse: %w", err)
	}

	var sender mail.Sender
	if cfg.Dev {
		sender = mail.NewDevSender(db, time.Now)
	} else {
		smtp, err := mail.NewSMTP(mail.SMTPConfig{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
			Password: cfg.SMTP.Password, From: cfg.SMTP.From, TLS: mail.TLSPolicy(cfg.SMTP.TLS)})
		if err != nil {
			return fmt.Errorf("clubhouse: %w", err)
		}
		sender = smtp
	}
	worker := mail.NewWorker(db, sender, renderInvitation, mail.WorkerConfig{BaseURL: cfg.PublicURL, Logger: logger})

	assets, err := static.New()
	if err != nil {
		return fmt.Errorf("clubhouse: %w", err)
	}
	svc := club.NewService(db, admin, time.Now, logger)
	// Bulk imports run as River jobs; the web layer previews, starts and
	// reports them.
	importer := club.NewImporter(db, db, admin, time.Now, logger)
	jobs, err := newJobs(ctx, cfg, db, svc, worker, importer.Run, registry, logger)
	if err != nil {
		return err
	}
	defer func() { _ = jobs.Stop(context.WithoutCancel(ctx)) }()
	// From here on every invitation written queues its job in the same
	// transaction; nothing writes one before (the sweep would catch it).
	db.SetInvitationQueue(jobs)
	handler := web.NewServer(web.Deps{
		Logger: logger, PublicURL: cfg.PublicURL, KindeIssuer: cfg.Kinde.Domain,
		Service: svc, Directory: db, AuditLog: db, Invitations: db, Mailbox: mailbox,
		Auth: auth, Roles: admin, Freshness: db, Sessions: db, Assets: assets, Now: time.Now,
		Registerer: registry, Gatherer: registry, Ready: db.Ping,
		Webhooks: jobs, WebhookVerifier: kinde.NewWebhookVerifier(cfg.Kinde.Domain, httpClient), Imports: jobs, Importer: importer,
		StaffOrg: cfg.StaffOrg, StaffKinde: admin, RoleHolders: db, ViewAsTTL: time.Duration(cfg.ViewAsMinutes) * time.Minute,
	})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Invitations, webhooks, reconciliation and imports run as River jobs.
	if err := jobs.Start(ctx); err != nil {
		return fmt.Errorf("clubhouse: %w", err)
	}
	background := make(chan error, 2) // one per task: the session sweep, the webhook registration
	go func() { background <- sweepSessions(ctx, db, logger) }()

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	// Registration waits on Kinde (retrying with backoff when it is down),
	// so it runs beside the portal instead of holding up its start. The
	// listener is open already, so Kinde can reach the endpoint at once.
	go func() {
		registerWebhook(ctx, cfg, admin, logger)
		background <- nil
	}()
	printWelcome(stdout, cfg)
	logger.Info("clubhouse: listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "dev", cfg.Dev)

	select {
	case err := <-serveErr:
		return fmt.Errorf("clubhouse: serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("clubhouse: shutting down")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("clubhouse: shutdown", "err", err)
	}
	cancel()
	if err := jobs.Stop(shutdownCtx); err != nil {
		logger.Warn("clubhouse: stop jobs", "err", err)
	}
	for range cap(background) {
		if err := <-background; err != nil && !errors.Is(err, context.Canceled) {
			logger.Warn("clubhouse: background task", "err", err)
		}
	}
	return nil
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

// startEmulator starts the embedded Kinde emulator for -dev. Its state is
// kept in the data folder next to the SQLite file, so the people and clubs
// added in one run are there in the next, and signing keys stay the same.
func startEmulator(ctx context.Context, cfg Config, logger *slog.Logger) (*emulator.Emulator, func(), error) {
	stateFile := filepath.Join(filepath.Dir(strings.TrimPrefix(cfg.DatabaseURL, "sqlite:")), "kinde-emulator.json")
	if !strings.HasPrefix(cfg.DatabaseURL, "sqlite:") {
		stateFile = filepath.Join("data", "kinde-emulator.json")
	}
	ln, err := net.Listen("tcp", cfg.EmulatorAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("clubhouse: emulator listen: %w", err)
	}
	seed := emulator.DefaultSeed()
	allowPortal(seed, cfg.PublicURL)
	emu, err := emulator.New("http://"+ln.Addr().String(), emulator.Options{
		Seed: seed, Logger: logger.With("component", "kinde-emulator"), ControlPlane: true,
	})
	if err != nil {
		ln.Close()
		return nil, nil, fmt.Errorf("clubhouse: emulator: %w", err)
	}
	if b, err := os.ReadFile(stateFile); err == nil {
		var st emulator.State
		if err := json.Unmarshal(b, &st); err != nil {
			logger.Warn("clubhouse: emulator state unreadable; starting from the seed", "file", stateFile, "err", err)
		} else {
			allowPortal(&st, cfg.PublicURL)
			if err := emu.World().Replace(st); err != nil {
				logger.Warn("clubhouse: emulator state rejected; starting from the seed", "file", stateFile, "err", err)
			}
		}
	}
	srv := &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		_ = emu.Close()
		if err := os.MkdirAll(filepath.Dir(stateFile), 0o750); err == nil {
			if b, err := json.MarshalIndent(emu.World().Snapshot(), "", "  "); err == nil {
				if err := os.WriteFile(stateFile, b, 0o600); err != nil {
					logger.Warn("clubhouse: save emulator state", "err", err)
				}
			}
		}
	}
	return emu, stop, nil
}

// printWelcome tells a newcomer where to go and who to sign in as.
func printWelcome(w io.Writer, cfg Config) {
	fmt.Fprintf(w, "\nClubhouse is running at %s\n", cfg.PublicURL)
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

// allowPortal registers the portal's callback and sign-out URLs with the
// emulator's portal app, so -dev works on any address.
func allowPortal(st *emulator.State, publicURL string) {
	for i, a := range st.Apps {
		if a.Name != emulator.SeedPortalApp {
			continue
		}
		if cb := publicURL + "/auth/callback"; !slices.Contains(a.RedirectURIs, cb) {
			st.Apps[i].RedirectURIs = append(st.Apps[i].RedirectURIs, cb)
		}
		if out := publicURL + "/"; !slices.Contains(a.LogoutURIs, out) {
			st.Apps[i].LogoutURIs = append(st.Apps[i].LogoutURIs, out)
		}
	}
}

func portOf(a net.Addr) string {
	_, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "8080"
	}
	return port
}
