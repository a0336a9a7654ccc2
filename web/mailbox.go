package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
	"github.com/clubhouse/clubhouse/views/layout"
)

// mailboxSize is how many messages the development mailbox lists.
const mailboxSize = 100

// handleMailbox lists the development mailbox (make run only).
func (s *Server) handleMailbox() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		msgs, err := s.mailbox.Messages(r.Context(), mailboxSize)
		if err != nil {
			return fmt.Errorf("web: mailbox: %w", err)
		}
		page := views.MailboxPage{Now: s.now()}
		for _, m := range msgs {
			page.Messages = append(page.Messages, views.MailSummary{ID: m.ID, To: m.To, Subject: m.Subject, At: m.At, Status: views.MailSent})
		}
		return s.render(w, r, http.StatusOK, view{
			Title: "Dev mailbox",
			Nav:   layout.NavMailbox,
			Page: func(sh layout.ShellProps) templ.Component {
				page.Shell = sh
				return views.Mailbox(page)
			},
		})
	})
}

// handleMailboxMessage shows one message of the development mailbox.
func (s *Server) handleMailboxMessage() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || n < 1 {
			return club.ErrNotFound
		}
		m, err := s.mailbox.Message(r.Context(), n)
		if errors.Is(err, club.ErrNotFound) {
			return &club.Error{Code: club.ENOTFOUND, Message: "That message is not in the mailbox."}
		}
		if err != nil {
			return fmt.Errorf("web: mailbox message: %w", err)
		}
		page := views.MailMessagePage{ID: m.ID, To: m.To, Subject: m.Subject, At: m.At, Status: views.MailSent,
			HTML: m.HTML, Text: m.Text, Now: s.now()}
		return s.render(w, r, http.StatusOK, view{
			Title: m.Subject,
			Nav:   layout.NavMailbox,
			Page: func(sh layout.ShellProps) templ.Component {
				page.Shell = sh
				return views.MailMessage(page)
			},
		})
	})
}
