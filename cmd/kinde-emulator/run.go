package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// shutdownTimeout bounds the graceful shutdown on SIGINT/SIGTERM.
const shutdownTimeout = 5 * time.Second

// config is everything the command reads from flags and the environment.
type config struct {
	Addr             string
	Issuer           string
	SeedFile         string
	ImportFile       string
	ExportFile       string
	TimeScale        float64
	ControlPlane     bool
	AllowNonLoopback bool
	WebhooksAnyHost  bool
	LogLevel         slog.Level
}

// parseConfig reads flags, with KINDE_EMULATOR_* environment variables as
// their defaults.
func parseConfig(args []string, getenv func(string) string, output io.Writer) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envBool := func(name string, def bool) (bool, error) {
		v := getenv(name)
		if v == "" {
			return def, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("kinde-emulator: %s=%q: %w", name, v, err)
		}
		return b, nil
	}
	var c config
	scale := 1.0
	if v := getenv("KINDE_EMULATOR_TIME_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return config{}, fmt.Errorf("kinde-emulator: KINDE_EMULATOR_TIME_SCALE=%q: %w", v, err)
		}
		scale = f
	}
	control, err := envBool("KINDE_EMULATOR_CONTROL_PLANE", true)
	if err != nil {
		return config{}, err
	}

	fs := flag.NewFlagSet("kinde-emulator", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&c.Addr, "addr", env("KINDE_EMULATOR_ADDR", "127.0.0.1:8081"), "listen address (loopback); port 0 picks a free port")
	fs.StringVar(&c.Issuer, "issuer", env("KINDE_EMULATOR_ISSUER", ""), "issuer URL (default http://<listen address>)")
	fs.StringVar(&c.SeedFile, "seed", env("KINDE_EMULATOR_SEED", ""), "seed file (State JSON); default is the built-in seed")
	fs.StringVar(&c.ImportFile, "import", env("KINDE_EMULATOR_IMPORT", ""), "state file to start from (as written by -export-on-exit)")
	fs.StringVar(&c.ExportFile, "export-on-exit", env("KINDE_EMULATOR_EXPORT_ON_EXIT", ""), "write the state to this file on shutdown")
	fs.Float64Var(&c.TimeScale, "time-scale", scale, "divide the webhook retry schedule by this factor")
	fs.BoolVar(&c.ControlPlane, "control-plane", control, "mount the /_emulator/ control plane (loopback clients only)")
	fs.BoolVar(&c.AllowNonLoopback, "allow-non-loopback", false, "allow listening on a non-loopback address (never in production)")
	fs.BoolVar(&c.WebhooksAnyHost, "webhooks-any-host", false, "deliver webhooks to non-loopback endpoints too")
	logLevel := fs.String("log-level", env("KINDE_EMULATOR_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	if err := fs.Parse(args[1:]); err != nil {
		return config{}, fmt.Errorf("kinde-emulator: %w", err)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("kinde-emulator: unexpected arguments %q", fs.Args())
	}
	if err := c.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return config{}, fmt.Errorf("kinde-emulator: -log-level: %w", err)
	}
	return c, c.Validate()
}

// Validate checks the configuration makes sense before anything starts.
func (c config) Validate() error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("kinde-emulator: -addr %q: %w", c.Addr, err)
	}
	if !c.AllowNonLoopback && !isLoopbackHost(host) {
		return fmt.Errorf("kinde-emulator: -addr %q is not a loopback address; pass -allow-non-loopback to listen there", c.Addr)
	}
	if c.TimeScale <= 0 {
		return fmt.Errorf("kinde-emulator: -time-scale must be positive, got %v", c.TimeScale)
	}
	if c.SeedFile != "" && c.ImportFile != "" {
		return errors.New("kinde-emulator: use -seed or -import, not both")
	}
	if c.Issuer != "" && (!strings.HasPrefix(c.Issuer, "http://") && !strings.HasPrefix(c.Issuer, "https://") || strings.HasSuffix(c.Issuer, "/")) {
		return fmt.Errorf("kinde-emulator: -issuer %q must be an http(s) URL without a trailing slash", c.Issuer)
	}
	if strings.HasSuffix(strings.TrimSuffix(hostOf(c.Issuer), "."), ".kinde.com") {
		return fmt.Errorf("kinde-emulator: -issuer %q is a real Kinde domain", c.Issuer)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func hostOf(rawURL string) string {
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// run starts the emulator and serves until ctx is cancelled or the process
// gets SIGINT/SIGTERM, then shuts down gracefully and exports the state if
// asked to.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))

	var seed *emulator.Seed
	if cfg.SeedFile != "" {
		if seed, err = readState(cfg.SeedFile); err != nil {
			return err
		}
	}
	var imported *emulator.State
	if cfg.ImportFile != "" {
		if imported, err = readState(cfg.ImportFile); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("kinde-emulator: listen: %w", err)
	}
	defer ln.Close()
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = "http://" + ln.Addr().String()
	}
	emu, err := emulator.New(issuer, emulator.Options{
		Seed:         seed,
		Logger:       logger,
		TimeScale:    cfg.TimeScale,
		ControlPlane: cfg.ControlPlane,
	})
	if err != nil {
		return fmt.Errorf("kinde-emulator: %w", err)
	}
	defer emu.Close()
	if imported != nil {
		if err := emu.World().Replace(*imported); err != nil {
			return fmt.Errorf("kinde-emulator: import %s: %w", cfg.ImportFile, err)
		}
	}
	emu.AllowWebhooksToAnyHost(cfg.WebhooksAnyHost)

	srv := &http.Server{
		Handler:           emu.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	if _, err := stdout.Write(banner(emu, cfg)); err != nil {
		return fmt.Errorf("kinde-emulator: write banner: %w", err)
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("kinde-emulator: serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("kinde-emulator: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("kinde-emulator: shutdown", "err", err)
	}
	_ = emu.Close()
	if cfg.ExportFile != "" {
		if err := writeState(cfg.ExportFile, emu.World().Snapshot()); err != nil {
			return err
		}
		logger.Info("kinde-emulator: state exported", "file", cfg.ExportFile)
	}
	return nil
}

// banner is what a developer needs to point a client at the emulator: the
// issuer, each app's credentials, and who can sign in.
func banner(emu *emulator.Emulator, cfg config) []byte {
	var buf bytes.Buffer
	w := emu.World()
	iss := emu.Issuer()
	fmt.Fprintf(&buf, "Local Kinde emulator — not production\n\n")
	fmt.Fprintf(&buf, "Issuer: %s\n", iss)
	fmt.Fprintf(&buf, "  Use it as the Kinde domain. Discovery: %s/.well-known/openid-configuration\n", iss)
	fmt.Fprintf(&buf, "  Management API audience: %s\n", strings.Join(emu.ManagementAudiences(), " or "))
	if cfg.ControlPlane {
		fmt.Fprintf(&buf, "  Control plane: %s/_emulator/ (loopback clients only)\n", iss)
	}

	fmt.Fprintf(&buf, "\nApplications:\n")
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  NAME\tTYPE\tCLIENT ID\tCLIENT SECRET\n")
	for _, a := range w.Apps() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Name, a.Type, a.ClientID, a.ClientSecret)
	}
	_ = tw.Flush()

	fmt.Fprintf(&buf, "\nPeople (sign in as any of them on the login page; no passwords):\n")
	tw = tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	for _, u := range w.People() {
		var clubs []string
		for _, o := range w.OrgsOfUser(u.ID) {
			var roles []string
			for _, r := range w.MemberRoles(o.Code, u.ID) {
				roles = append(roles, r.Key)
			}
			if len(roles) > 0 {
				clubs = append(clubs, o.Name+" ("+strings.Join(roles, ", ")+")")
			} else {
				clubs = append(clubs, o.Name)
			}
		}
		if len(clubs) == 0 {
			clubs = []string{"no club"}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", u.Email, u.FullName(), strings.Join(clubs, "; "))
	}
	_ = tw.Flush()
	buf.WriteString("\n")
	return buf.Bytes()
}

func readState(path string) (*emulator.State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kinde-emulator: read %s: %w", path, err)
	}
	var s emulator.State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("kinde-emulator: parse %s: %w", path, err)
	}
	return &s, nil
}

// writeState writes the state atomically: a temporary file, then a rename.
func writeState(path string, s emulator.State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("kinde-emulator: encode state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kinde-emulator-state-*")
	if err != nil {
		return fmt.Errorf("kinde-emulator: export: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("kinde-emulator: export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("kinde-emulator: export: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("kinde-emulator: export: %w", err)
	}
	return nil
}
