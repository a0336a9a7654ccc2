//go:build dev

// This file is the development build's wiring (-tags dev, what `make run`
// uses): -dev starts the embedded Kinde emulator and points the portal at
// it. Without the tag the emulator is not linked into the portal at all
// (nodev.go), and TestProductionBuildLeavesOutTheEmulator keeps it so.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
)

// devBuild reports whether this binary can run -dev.
const devBuild = true

// startDevKinde starts the embedded Kinde emulator for -dev and returns cfg
// pointed at it: its issuer, the seeded portal and machine-to-machine apps,
// and (unless cfg names one) its staff org. stop shuts the emulator down
// and saves its state.
func startDevKinde(ctx context.Context, cfg Config, logger *slog.Logger) (_ Config, stop func(), _ error) {
	emu, stop, err := startEmulator(ctx, cfg, logger)
	if err != nil {
		return Config{}, nil, err
	}
	seed := emu.SeedState()
	portal, _ := seed.AppByName(emulator.SeedPortalApp)
	m2m, _ := seed.AppByName(emulator.SeedManagementApp)
	cfg.Kinde = KindeConfig{Domain: emu.Issuer(), ClientID: portal.ClientID, ClientSecret: portal.ClientSecret,
		M2MClientID: m2m.ClientID, M2MClientSecret: m2m.ClientSecret, Audience: emulator.SeedAPIAudience}
	if cfg.StaffOrg == "" {
		cfg.StaffOrg = emulator.SeedStaffOrgCode
	}
	return cfg, stop, nil
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
