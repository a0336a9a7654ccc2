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
		// The emulator's staff org is filled in by the development wiring
		// (TestDevKindeIsTheEmulator): the configuration leaves it empty.
		{"dev leaves the org to the emulator", []string{"-dev"}, nil, "", 30, ""},
		{"dev with an explicit org", []string{"-dev", "-staff-org", "org_ops"}, nil, "org_ops", 30, ""},
		{"environment", []string{"-dev"}, map[string]string{"CLUBHOUSE_STAFF_ORG": "org_env", "CLUBHOUSE_VIEW_AS_MINUTES": "15"}, "org_env", 15, ""},
		{"flag over environment", []string{"-dev", "-view-as-minutes", "5"}, map[string]string{"CLUBHOUSE_VIEW_AS_MINUTES": "15"}, "", 5, ""},
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

func TestConfigDevListensOnLoopbackOnly(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // "" = accepted
	}{
		{"default address", []string{"-dev"}, nil, ""},
		{"127.0.0.1", []string{"-dev", "-addr", "127.0.0.1:9000"}, nil, ""},
		{"anywhere in 127.0.0.0/8", []string{"-dev", "-addr", "127.8.9.10:9000"}, nil, ""},
		{"::1", []string{"-dev", "-addr", "[::1]:9000"}, nil, ""},
		{"localhost", []string{"-dev", "-addr", "localhost:9000"}, nil, ""},
		{"any port", []string{"-dev", "-addr", "127.0.0.1:0", "-emulator-addr", "127.0.0.1:0"}, nil, ""},
		{"from the environment", nil, map[string]string{"CLUBHOUSE_DEV": "1", "CLUBHOUSE_ADDR": "localhost:8080"}, ""},
		{"every interface", []string{"-dev", "-addr", ":8080"}, nil, "CLUBHOUSE_DEV_ALLOW_REMOTE"},
		{"0.0.0.0", []string{"-dev", "-addr", "0.0.0.0:8080"}, nil, "loopback"},
		{"[::]", []string{"-dev", "-addr", "[::]:8080"}, nil, "loopback"},
		{"a LAN address", []string{"-dev", "-addr", "192.168.1.20:8080"}, nil, "loopback"},
		{"a host name", []string{"-dev", "-addr", "clubs.example.org:8080"}, nil, "loopback"},
		{"environment address", nil, map[string]string{"CLUBHOUSE_DEV": "true", "CLUBHOUSE_ADDR": "0.0.0.0:8080"}, "CLUBHOUSE_ADDR"},
		{"the emulator on every interface", []string{"-dev", "-emulator-addr", ":8081"}, nil, "CLUBHOUSE_EMULATOR_ADDR"},
		{"remote allowed", []string{"-dev", "-addr", "0.0.0.0:8080"}, map[string]string{"CLUBHOUSE_DEV_ALLOW_REMOTE": "yes-really"}, ""},
		{"remote allowed by flag", []string{"-dev", "-addr", ":8080", "-emulator-addr", ":8081", "-dev-allow-remote", "yes-really"}, nil, ""},
		{"a half-hearted yes", []string{"-dev", "-addr", "0.0.0.0:8080"}, map[string]string{"CLUBHOUSE_DEV_ALLOW_REMOTE": "1"}, "yes-really"},
		{"a yes without dev", nil, map[string]string{"CLUBHOUSE_DEV_ALLOW_REMOTE": "true", "CLUBHOUSE_PUBLIC_URL": "https://clubs.example.org",
			"CLUBHOUSE_DATABASE_URL": "sqlite:x.db", "KINDE_DOMAIN": "https://acme.kinde.com", "KINDE_CLIENT_ID": "a", "KINDE_CLIENT_SECRET": "b",
			"KINDE_M2M_CLIENT_ID": "c", "KINDE_M2M_CLIENT_SECRET": "d", "SMTP_HOST": "h", "SMTP_FROM": "f@example.org"}, "yes-really"},
		{"production on every interface", []string{"-addr", ":8080"}, map[string]string{"CLUBHOUSE_PUBLIC_URL": "https://clubs.example.org",
			"CLUBHOUSE_DATABASE_URL": "sqlite:x.db", "KINDE_DOMAIN": "https://acme.kinde.com", "KINDE_CLIENT_ID": "a", "KINDE_CLIENT_SECRET": "b",
			"KINDE_M2M_CLIENT_ID": "c", "KINDE_M2M_CLIENT_SECRET": "d", "SMTP_HOST": "h", "SMTP_FROM": "f@example.org"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, envOf(tt.env), io.Discard)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("accepted, want a refusal naming %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfigMetricsAddr(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"off by default", []string{"-dev"}, nil, "", ""},
		{"environment", []string{"-dev"}, map[string]string{"CLUBHOUSE_METRICS_ADDR": "127.0.0.1:9090"}, "127.0.0.1:9090", ""},
		{"flag over environment", []string{"-dev", "-metrics-addr", ":9100"}, map[string]string{"CLUBHOUSE_METRICS_ADDR": "127.0.0.1:9090"}, ":9100", ""},
		{"not host:port", []string{"-dev", "-metrics-addr", "9090"}, nil, "", "CLUBHOUSE_METRICS_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, envOf(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			if got := c.MetricsAddr; got != tt.want {
				t.Errorf("metrics address = %q, want %q", got, tt.want)
			}
		})
	}
}
