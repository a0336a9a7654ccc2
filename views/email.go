package views

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// InvitationSubject is the subject line of the invitation email.
func InvitationSubject(m InvitationEmail) string {
	return "You've been added to " + m.ClubName
}

func invitationGreeting(m InvitationEmail) string {
	if n := strings.TrimSpace(m.PersonName); n != "" {
		return "Hi " + n + ","
	}
	return "Hi,"
}

func invitationLine(m InvitationEmail) string {
	if by := strings.TrimSpace(m.InvitedBy); by != "" {
		return by + " added you to " + m.ClubName + " on Clubhouse. Sign in with this email address to see the club and your roles."
	}
	return "You have been added to " + m.ClubName + " on Clubhouse. Sign in with this email address to see the club and your roles."
}

// InvitationText is the plain-text body of the invitation email. It is a
// templ component like the HTML body, but writes text as it is: plain text
// must not be HTML-escaped.
func InvitationText(m InvitationEmail) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s\n\n%s\n\nSign in to %s:\n%s\n\nIf you did not expect this email, you can ignore it. Nothing happens until you sign in.\n\n-- Clubhouse\n",
			invitationGreeting(m), invitationLine(m), m.ClubName, m.SignInURL)
		if err != nil {
			return fmt.Errorf("views: write invitation text: %w", err)
		}
		return nil
	})
}

// RenderInvitation renders the invitation email: its subject, HTML body and
// plain-text body.
func RenderInvitation(ctx context.Context, m InvitationEmail) (subject, html, text string, err error) {
	var h, t bytes.Buffer
	if err := InvitationHTML(m).Render(ctx, &h); err != nil {
		return "", "", "", fmt.Errorf("views: render invitation html: %w", err)
	}
	if err := InvitationText(m).Render(ctx, &t); err != nil {
		return "", "", "", fmt.Errorf("views: render invitation text: %w", err)
	}
	return InvitationSubject(m), h.String(), t.String(), nil
}
