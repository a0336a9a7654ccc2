package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Whatever part of the portal logs an error or a string, the line carries
// no email address: the handler itself redacts them.
func TestLogsCarryNoEmail(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: redactAttr}))
	wrapped := fmt.Errorf("jobs: job failed: %w", errors.New("store: save member ana.alves@example.org: conflict"))
	logger.Error("job failed", "err", wrapped)
	logger.Warn("save session", "who", "ana.alves@example.org", "count", 3)
	logger.Info("added ana.alves@example.org")
	out := buf.String()
	if strings.Contains(out, "ana.alves") {
		t.Errorf("log carries an email:\n%s", out)
	}
	if !strings.Contains(out, "@example.org") || !strings.Contains(out, "count=3") {
		t.Errorf("log lost what it may keep:\n%s", out)
	}
}
