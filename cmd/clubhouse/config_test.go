package main

import (
	"io"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigRefusesIncompleteKindeSetupAndSaysWhatIsMissing(t *testing.T) {
	_, err := parseConfig(nil, envOf(map[string]string{
		"CLUBHOUSE_PUBLIC_URL":   "https://clubs.example.org",
		"CLUBHOUSE_DATABASE_URL": "postgres://db/clubhouse",
		"KINDE_DOMAIN":           "https://acme.kinde.com",
		"KINDE_CLIENT_ID":        "abc",
		"SMTP_HOST":              "smtp.example.org",
		"SMTP_FROM":              "clubs@example.org",
	}), io.Discard)
	if err == nil {
		t.Fatal("incomplete configuration accepted")
	}
	for _, want := range []string{"KINDE_CLIENT_SECRET", "KINDE_M2M_CLIENT_ID", "KINDE_M2M_CLIENT_SECRET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "KINDE_DOMAIN") {
		t.Errorf("error names KINDE_DOMAIN, which was set: %q", err)
	}
}

func TestConfigCompleteRealKinde(t *testing.T) {
	c, err := parseConfig(nil, envOf(map[string]string{
		"CLUBHOUSE_PUBLIC_URL":    "https://clubs.example.org/",
		"CLUBHOUSE_DATABASE_URL":  "postgres://db/clubhouse",
		"KINDE_DOMAIN":            "https://acme.kinde.com",
		"KINDE_CLIENT_ID":         "abc",
		"KINDE_CLIENT_SECRET":     "s1",
		"KINDE_M2M_CLIENT_ID":     "def",
		"KINDE_M2M_CLIENT_SECRET": "s2",
		"SMTP_HOST":               "smtp.example.org",
		"SMTP_FROM":               "clubs@example.org",
	}), io.Discard)
	if err != nil {
		t.Fatalf("complete configuration refused: %v", err)
	}
	if c.Dev || c.PublicURL != "https://clubs.example.org" {
		t.Errorf("config = %+v", c)
	}
}

func TestConfigDevNeedsNothing(t *testing.T) {
	c, err := parseConfig([]string{"-dev"}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatalf("dev configuration refused: %v", err)
	}
	if c.PublicURL != "" || c.DatabaseURL != "sqlite:data/clubhouse.db" || c.Addr != "127.0.0.1:8080" {
		t.Errorf("dev defaults = %+v", c)
	}
}

func TestConfigRejectsPlainHTTPKindeDomain(t *testing.T) {
	_, err := parseConfig(nil, envOf(map[string]string{
		"CLUBHOUSE_PUBLIC_URL": "https://clubs.example.org", "CLUBHOUSE_DATABASE_URL": "sqlite:x.db",
		"KINDE_DOMAIN": "http://acme.kinde.com", "KINDE_CLIENT_ID": "a", "KINDE_CLIENT_SECRET": "b",
		"KINDE_M2M_CLIENT_ID": "c", "KINDE_M2M_CLIENT_SECRET": "d", "SMTP_HOST": "h", "SMTP_FROM": "f@example.org",
	}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("err = %v, want a refusal of http://", err)
	}
}
