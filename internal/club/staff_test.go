package club_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

func TestValidateViewAsReason(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"ten characters", "ticket 123", "ticket 123", true},
		{"trimmed", "  Ticket #4512: owner cannot add a coach  ", "Ticket #4512: owner cannot add a coach", true},
		{"line breaks kept", "Ticket 4512\nowner cannot add", "Ticket 4512\nowner cannot add", true},
		{"500 characters", strings.Repeat("é", 500), strings.Repeat("é", 500), true},
		{"missing", "", "", false},
		{"blank", "   \n ", "", false},
		{"nine characters", "ticket 12", "", false},
		{"short after trim", "   short    ", "", false},
		{"501 characters", strings.Repeat("x", 501), "", false},
		{"control character", "ticket 4512\x00 please", "", false},
		{"invalid UTF-8", "ticket 4512 \xff\xfe please", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := club.ValidateViewAsReason(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ValidateViewAsReason(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
			if err == nil {
				return
			}
			if got, want := club.ErrorCode(err), club.EINVALID; got != want {
				t.Errorf("code = %q, want %q", got, want)
			}
			var e *club.Error
			if !errors.As(err, &e) || e.Fields["reason"] == "" {
				t.Errorf("error %v has no message for the reason field", err)
			}
		})
	}
}
