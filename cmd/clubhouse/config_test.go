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

func TestConfigStaff(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		wantOrg     string
		wantMinutes int
		wantErr     string
	}{
		{"dev defaults to the emulator's staff org", []string{"-dev"}, nil, "org_a42f984b056", 30, ""},
		{"dev with an explicit org", []string{"-dev", "-staff-org", "org_ops"}, nil, "org_ops", 30, ""},
		{"environment", []string{"-dev"}, map[string]string{"CLUBHOUSE_STAFF_ORG": "org_env", "CLUBHOUSE_VIEW_AS_MINUTES": "15"}, "org_env", 15, ""},
		{"flag over environment", []string{"-dev", "-view-as-minutes", "5"}, map[string]string{"CLUBHOUSE_VIEW_AS_MINUTES": "15"}, "org_a42f984b056", 5, ""},
		{"too long", []string{"-dev", "-view-as-minutes", "241"}, nil, "", 0, "between 1 and 240"},
		{"zero", []string{"-dev"}, map[string]string{"CLUBHOUSE_VIEW_AS_MINUTES": "0"}, "", 0, "between 1 and 240"},
		{"not a number", []string{"-dev"}, map[string]string{"CLUBHOUSE_VIEW_AS_MINUTES": "half an hour"}, "", 0, "CLUBHOUSE_VIEW_AS_MINUTES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, envOf(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			if c.StaffOrg != tt.wantOrg || c.ViewAsMinutes != tt.wantMinutes {
				t.Errorf("staff org %q, minutes %d; want %q, %d", c.StaffOrg, c.ViewAsMinutes, tt.wantOrg, tt.wantMinutes)
			}
		})
	}
	c, err := parseConfig(nil, envOf(map[string]string{
		"CLUBHOUSE_PUBLIC_URL": "https://clubs.example.org", "CLUBHOUSE_DATABASE_URL": "sqlite:x.db",
		"KINDE_DOMAIN": "https://acme.kinde.com", "KINDE_CLIENT_ID": "a", "KINDE_CLIENT_SECRET": "b",
		"KINDE_M2M_CLIENT_ID": "c", "KINDE_M2M_CLIENT_SECRET": "d", "SMTP_HOST": "h", "SMTP_FROM": "f@example.org",
	}), io.Discard)
	if err != nil || c.StaffOrg != "" {
		t.Errorf("production without CLUBHOUSE_STAFF_ORG: org %q, err %v; want the console off", c.StaffOrg, err)
	}
}
