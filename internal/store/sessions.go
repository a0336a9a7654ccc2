package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LoadSession returns a session's data and expiry. A session that is
// missing or has expired is not found (errors.Is(err, club.ErrNotFound)).
func (db *DB) LoadSession(ctx context.Context, id string) ([]byte, time.Time, error) {
	var (
		data    []byte
		expires time.Time
	)
	err := db.read.QueryRowContext(ctx, `SELECT data, expires_at FROM sessions WHERE id = $1`, id).Scan(&data, timeCol{&expires})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, notFound("load session")
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("store: load session: %w", err)
	}
	if !expires.After(db.now()) {
		return nil, time.Time{}, notFound("load session")
	}
	return data, expires, nil
}

// SaveSession creates or replaces a session.
func (db *DB) SaveSession(ctx context.Context, id string, data []byte, expires time.Time) error {
	if data == nil {
		data = []byte{}
	}
	_, err := db.write.ExecContext(ctx, `
		INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`, id, data, db.ts(expires))
	if err != nil {
		return fmt.Errorf("store: save session: %w", err)
	}
	return nil
}

// DeleteSession removes a session. Removing a missing session is not an
// error.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions expired at now and returns how
// many there were.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, db.ts(now))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return int(n), nil
}
