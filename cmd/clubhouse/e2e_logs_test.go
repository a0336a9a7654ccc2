//go:build dev

package main

import (
	"regexp"
	"strings"
	"testing"
)

// e2eSeededEmails are the demo people's addresses. Any address is refused
// in the log (see e2eEmail), these included; they are named so a reader
// sees what the check is about.
var e2eSeededEmails = []string{
	"olivia@example.org", "adam@example.org", "mia@example.org",
	"tom@example.org", "nora@example.org", "sam@clubhouse.example",
}

// e2eEmail matches an email address, also URL-encoded, whose local part
// is still there: "ana@example.org" and "ana%40example.org", not the
// redacted "***@example.org". It covers the addresses the browser tests
// make up (newbie-…@example.org) as well as the seeded ones.
var e2eEmail = regexp.MustCompile(`[A-Za-z0-9._+\-]+(@|%40)[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+`)

// e2eCheckLogs is issue 12: no email address may reach the portal's log,
// at any level. It fails the test for each log record that carries one.
func e2eCheckLogs(t *testing.T, lines []string) {
	t.Helper()
	records, leaks := e2eLeaks(lines)
	for i, l := range leaks {
		if i == 10 {
			t.Errorf("e2e: %d log records in all carry an email address", len(leaks))
			break
		}
		t.Errorf("e2e: the portal logged an email address:\n  %s", l)
	}
	if records == 0 {
		t.Error("e2e: no log records captured: the check of the log for email addresses checked nothing")
	}
}

// e2eLeaks returns how many log records lines hold and those that carry
// an email address. The lines checked are the log's records (slog's text
// format, "time=…"), not the welcome banner -dev prints, which lists the
// demo people on purpose.
func e2eLeaks(lines []string) (records int, leaks []string) {
	for _, line := range lines {
		if !strings.HasPrefix(line, "time=") {
			continue
		}
		records++
		leak := e2eEmail.MatchString(line)
		for _, seeded := range e2eSeededEmails {
			leak = leak || strings.Contains(line, seeded)
		}
		if leak {
			leaks = append(leaks, line)
		}
	}
	return records, leaks
}

// TestE2ELogCheck makes sure the check of the portal's log finds what it
// is there to find.
func TestE2ELogCheck(t *testing.T) {
	tests := []struct {
		name         string
		line         string
		record, leak bool
	}{
		{"clean", `time=2026-03-01T10:00:00Z level=INFO msg=request method=GET path=/members status=200`, true, false},
		{"redacted", `time=2026-03-01T10:00:00Z level=ERROR msg="request failed" err.msg="adding ***@example.org is not finished"`, true, false},
		{"banner", `  olivia@example.org      owner, Riverside Rowing Club`, false, false},
		{"seeded", `time=2026-03-01T10:00:00Z level=ERROR msg="request failed" err="adding tom@example.org"`, true, true},
		{"staff", `time=2026-03-01T10:00:00Z level=INFO msg=x who=sam@clubhouse.example`, true, true},
		{"made up", `time=2026-03-01T10:00:00Z level=WARN msg=x email=newbie-abc@example.org`, true, true},
		{"url-encoded", `time=2026-03-01T10:00:00Z level=WARN msg=x url="/users?email=mia%40example.org"`, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records, leaks := e2eLeaks([]string{tt.line})
			if got := records == 1; got != tt.record {
				t.Errorf("counted as a log record = %v, want %v", got, tt.record)
			}
			if got := len(leaks) == 1; got != tt.leak {
				t.Errorf("leak found = %v, want %v", got, tt.leak)
			}
		})
	}
}
