package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/clubhouse/clubhouse/internal/club"
)

// Development mailbox page sizes.
const (
	defaultMessages = 50
	maxMessages     = 500
)

// Deliver stores m in the development mailbox. A zero At is stamped now.
func (db *DB) Deliver(ctx context.Context, m club.Mail) error {
	if m.At.IsZero() {
		m.At = db.now()
	}
	_, err := db.write.ExecContext(ctx, `
		INSERT INTO dev_mail (to_addr, subject, body_html, body_text, at) VALUES ($1, $2, $3, $4, $5)`,
		m.To, m.Subject, m.HTML, m.Text, db.ts(m.At))
	if err != nil {
		return fmt.Errorf("store: deliver dev mail: %w", err)
	}
	return nil
}

// Messages lists the development mailbox, newest first. Limit 0 means 50;
// it is capped at 500.
func (db *DB) Messages(ctx context.Context, limit int) ([]club.Mail, error) {
	if limit <= 0 {
		limit = defaultMessages
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT id, to_addr, subject, body_html, body_text, at FROM dev_mail ORDER BY id DESC LIMIT $1`, min(limit, maxMessages))
	if err != nil {
		return nil, fmt.Errorf("store: dev mail messages: %w", err)
	}
	defer rows.Close()
	out := []club.Mail{}
	for rows.Next() {
		var m club.Mail
		if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.HTML, &m.Text, timeCol{&m.At}); err != nil {
			return nil, fmt.Errorf("store: dev mail messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: dev mail messages: %w", err)
	}
	return out, nil
}

// Message returns one message of the development mailbox.
func (db *DB) Message(ctx context.Context, id int64) (club.Mail, error) {
	var m club.Mail
	err := db.read.QueryRowContext(ctx, `SELECT id, to_addr, subject, body_html, body_text, at FROM dev_mail WHERE id = $1`, id).
		Scan(&m.ID, &m.To, &m.Subject, &m.HTML, &m.Text, timeCol{&m.At})
	if errors.Is(err, sql.ErrNoRows) {
		return club.Mail{}, notFound("dev mail message")
	}
	if err != nil {
		return club.Mail{}, fmt.Errorf("store: dev mail message: %w", err)
	}
	return m, nil
}
