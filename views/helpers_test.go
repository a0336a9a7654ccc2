package views

import (
	"strings"
	"testing"
)

func TestURLs(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"members default", MembersURL("", "name", 1), "/members"},
		{"members unknown sort", MembersURL("  ", "bogus", 0), "/members"},
		{"members all", MembersURL(" mia chen ", "-joined", 3), "/members?page=3&q=mia+chen&sort=-joined"},
		{"members escapes", MembersURL("a&b=c", "", 1), "/members?q=a%26b%3Dc"},
		{"roles", MemberRolesURL("kp_1/../x"), "/members/kp_1%2F..%2Fx/roles"},
		{"remove", MemberRemoveURL("kp_abc"), "/members/kp_abc/remove"},
		{"activity", ActivityURL("", 1), "/activity"},
		{"activity filtered", ActivityURL("kp_1", 2), "/activity?page=2&person=kp_1"},
		{"mail", MailURL(42), "/dev/mailbox/42"},
		{"invitations", InvitationsURL(1), "/invitations"},
		{"invitations page", InvitationsURL(2), "/invitations?page=2"},
		{"staff", StaffURL("", 1), "/staff"},
		{"staff search", StaffURL("river side", 2), "/staff?page=2&q=river+side"},
		{"staff club", StaffClubURL("org_1/x", "", 1), "/staff/clubs/org_1%2Fx"},
		{"staff club search", StaffClubURL("org_1", "mia", 3), "/staff/clubs/org_1?page=3&q=mia"},
		{"staff audit", StaffAuditURL("", 0), "/staff/audit"},
		{"staff audit filtered", StaffAuditURL("org_1", 2), "/staff/audit?club=org_1&page=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestMailLinks(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"none", "Hello there.", nil},
		{"one", "Sign in:\nhttp://127.0.0.1:8080/auth/login?org_code=org_1&login_hint=a%40b.org\n", []string{"http://127.0.0.1:8080/auth/login?org_code=org_1&login_hint=a%40b.org"}},
		{"punctuation and brackets", "Go to (https://example.org/a). Or https://example.org/b, now!", []string{"https://example.org/a", "https://example.org/b"}},
		{"duplicates", "https://x.org/ and https://x.org/", []string{"https://x.org/"}},
		{"other schemes ignored", "javascript:alert(1) ftp://x.org mailto:a@b.org", nil},
		{"embedded", "link:https://x.org/p", []string{"https://x.org/p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MailLinks(tt.text)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("MailLinks = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestActionLabel(t *testing.T) {
	tests := []struct{ action, want string }{
		{"member.added", "Added a member"},
		{"member.roles_changed", "Changed roles"},
		{"member.removed", "Removed a member"},
		{"club.created", "Created the club"},
		{"club.synced", "Refreshed members from Kinde"},
		{"club.renamed", "Renamed the club"},
		{"invitation.resent", "Sent the invitation again"},
		{"invitation.sent", "Sent an invitation"},
		{"invitation.failed", "Invitation could not be sent"},
		{"future.thing", "future.thing"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			if got := ActionLabel(tt.action); got != tt.want {
				t.Errorf("ActionLabel = %q, want %q", got, tt.want)
			}
		})
	}
}
