package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/clubhouse/clubhouse/internal/club"
)

// ErrStaleSession is what SaveSession wraps when the session was ended or
// saved by another request since the caller loaded it. It is an ECONFLICT
// error, so callers that do not import this package can tell it apart with
// club.ErrorCode.
var ErrStaleSession = &club.Error{Code: club.ECONFLICT, Message: "The session changed in another request. Reload the page."}

// LoadSession returns a session's data, expiry and version. A session that
// is missing, ended or expired is not found (errors.Is(err,
// club.ErrNotFound)).
func (db *DB) LoadSession(ctx context.Context, id string) ([]byte, time.Time, int64, error) {
	var (
		data    []byte
		expires time.Time
		version int64
	)
	err := db.read.QueryRowContext(ctx, `SELECT data, expires_at, version FROM sessions WHERE id = $1 AND ended = FALSE`, id).
		Scan(&data, timeCol{&expires}, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, 0, notFound("load session")
	}
	if err != nil {
		return nil, time.Time{}, 0, fmt.Errorf("store: load session: %w", err)
	}
	if !expires.After(db.now()) {
		return nil, time.Time{}, 0, notFound("load session")
	}
	return data, expires, version, nil
}

// createSession writes a session saved at version 0. Besides a new id, that
// is a record written before sessions had versions (or by an instance still
// running that code during a deploy): those sit at version 0 and must stay
// writable. An ended id is never written again.
const createSession = `
	INSERT INTO sessions (id, data, expires_at, version) VALUES ($1, $2, $3, 1)
	ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, version = 1
	WHERE sessions.version = 0 AND sessions.ended = FALSE`

// updateSession writes a session only if it is still at the version its
// caller loaded. It never creates a row: a record that is gone (ended and
// swept, or expired and swept) stays gone.
const updateSession = `
	UPDATE sessions SET data = $1, expires_at = $2, version = version + 1
	WHERE id = $3 AND version = $4 AND ended = FALSE`

// SaveSession writes a session if nobody else did since the caller loaded
// it. version is what LoadSession returned, or 0 for a new id; on success
// the record is at version+1. When the session was ended (DeleteSession) or
// saved since, nothing is written and the error wraps ErrStaleSession.
func (db *DB) SaveSession(ctx context.Context, id string, data []byte, expires time.Time, version int64) error {
	if data == nil {
		data = []byte{}
	}
	query, args := updateSession, []any{data, db.ts(expires), id, version}
	if version == 0 {
		query, args = createSession, []any{id, data, db.ts(expires)}
	}
	res, err := db.write.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: save session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: save session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: save session: %w", ErrStaleSession)
	}
	return nil
}

// DeleteSession ends a session for good. Its row stays, emptied, as a
// tombstone until the session would have expired, so that no save from
// before the end can create it again, not even an unconditional one from an
// instance still running the code from before versions. Ending a missing or
// ended session is not an error.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := db.write.ExecContext(ctx, `UPDATE sessions SET data = $1, ended = TRUE WHERE id = $2 AND ended = FALSE`, []byte{}, id)
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions, live or ended, expired at now
// and returns how many there were. A tombstone may go once expired: a save
// at a loaded version never creates a row, so only a request that loaded a
// row from before versions (version 0) could, and it would have to outlive
// the session.
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
