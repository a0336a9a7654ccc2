package components

import (
	"testing"
	"time"
)

func TestRelativeTime(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"zero", time.Time{}, "never"},
		{"now", now, "just now"},
		{"seconds", now.Add(-59 * time.Second), "just now"},
		{"one minute", now.Add(-61 * time.Second), "1 minute ago"},
		{"minutes", now.Add(-5 * time.Minute), "5 minutes ago"},
		{"one hour", now.Add(-time.Hour), "1 hour ago"},
		{"hours", now.Add(-23 * time.Hour), "23 hours ago"},
		{"yesterday", now.Add(-30 * time.Hour), "yesterday"},
		{"days", now.Add(-3 * 24 * time.Hour), "3 days ago"},
		{"one month", now.Add(-31 * 24 * time.Hour), "1 month ago"},
		{"months", now.Add(-100 * 24 * time.Hour), "3 months ago"},
		{"one year", now.Add(-400 * 24 * time.Hour), "1 year ago"},
		{"years", now.Add(-800 * 24 * time.Hour), "2 years ago"},
		{"future seconds", now.Add(30 * time.Second), "just now"},
		{"future minutes", now.Add(10 * time.Minute), "in 10 minutes"},
		{"tomorrow", now.Add(30 * time.Hour), "tomorrow"},
		{"other zone", now.In(time.FixedZone("X", 5*3600)).Add(-2 * time.Hour), "2 hours ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RelativeTime(now, tt.t); got != tt.want {
				t.Errorf("RelativeTime = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExactAndMachineTime(t *testing.T) {
	at := time.Date(2025, 3, 3, 14, 5, 0, 0, time.FixedZone("CET", 3600))
	if got, want := ExactTime(at), "3 Mar 2025, 13:05 UTC"; got != want {
		t.Errorf("ExactTime = %q, want %q", got, want)
	}
	if got, want := MachineTime(at), "2025-03-03T13:05:00Z"; got != want {
		t.Errorf("MachineTime = %q, want %q", got, want)
	}
	if ExactTime(time.Time{}) != "" || MachineTime(time.Time{}) != "" {
		t.Error("zero time is not empty")
	}
}

func TestInitials(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Mia Chen", "MC"},
		{"mia chen", "MC"},
		{"Ana María López", "AL"},
		{"Olivia", "O"},
		{"ana@example.org", "A"},
		{"ana.lopez@example.org", "AL"},
		{"  Łukasz   Żak  ", "ŁŻ"},
		{"李 小龍", "李小"},
		{"<script>", "S"},
		{"", "?"},
		{"!!!", "?"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Initials(tt.in); got != tt.want {
				t.Errorf("Initials(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatCount(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {1204, "1,204"},
		{100000, "100,000"}, {1234567, "1,234,567"}, {-1204, "-1,204"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatCount(tt.n); got != tt.want {
				t.Errorf("FormatCount(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestPageSummary(t *testing.T) {
	tests := []struct {
		name              string
		page, size, total int
		want              string
	}{
		{"first", 1, 50, 1204, "Showing 1–50 of 1,204"},
		{"second", 2, 50, 1204, "Showing 51–100 of 1,204"},
		{"last", 25, 50, 1204, "Showing 1,201–1,204 of 1,204"},
		{"past the end", 26, 50, 1204, "Showing 0 of 1,204"},
		{"short", 1, 50, 3, "Showing 1–3 of 3"},
		{"empty", 1, 50, 0, "Showing 0 of 0"},
		{"page zero", 0, 50, 3, "Showing 1–3 of 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PageSummary(tt.page, tt.size, tt.total); got != tt.want {
				t.Errorf("PageSummary = %q, want %q", got, tt.want)
			}
		})
	}
	if got := PageCount(50, 1204); got != 25 {
		t.Errorf("PageCount = %d", got)
	}
	if got := PageCount(50, 0); got != 1 {
		t.Errorf("PageCount(empty) = %d", got)
	}
}

func TestRoleOptionsAndLabels(t *testing.T) {
	roles := []Role{{Key: "owner", Name: "Owner"}, {Key: "member"}}
	opts := RoleOptions(roles, []string{"member", "unknown"})
	if len(opts) != 2 || opts[0].Checked || !opts[1].Checked {
		t.Errorf("RoleOptions = %+v", opts)
	}
	if got := opts[1].Label(); got != "Member" {
		t.Errorf("label of a role without a name = %q", got)
	}
	tests := []struct{ key, want string }{
		{"owner", "badge badge--owner"},
		{"coach", "badge badge--coach"},
		{"treasurer", "badge badge--other"},
		{`x" onclick="y`, "badge badge--other"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := badgeClass(tt.key); got != tt.want {
				t.Errorf("badgeClass = %q, want %q", got, tt.want)
			}
		})
	}
	if got := SafeID(`kp_1"><b>`); got != "kp_1---b-" {
		t.Errorf("SafeID = %q", got)
	}
}
