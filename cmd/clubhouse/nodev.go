//go:build !dev

// This file stands in for dev.go in the production build, which has no
// Kinde emulator: -dev is refused with how to get it.

package main

import (
	"context"
	"log/slog"
)

// devBuild reports whether this binary can run -dev.
const devBuild = false

// startDevKinde is never reached: run refuses -dev first (errNoDevBuild).
func startDevKinde(context.Context, Config, *slog.Logger) (Config, func(), error) {
	return Config{}, nil, errNoDevBuild
}
