package store

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"time"
)

// Locks that hold across instances. An invariant such as "a club keeps an
// owner" or "one add per email and club" is checked and acted on while
// holding one: on PostgreSQL a session advisory lock (released by the
// server if the instance dies), on SQLite a lease row taken with a
// conditional write (released when it expires if the instance dies).

// leaseTime bounds how long a SQLite lease outlives an instance that died
// holding it. Work under a lock is a few Kinde calls.
const leaseTime = 2 * time.Minute

// lockPoll is how often a SQLite lock taken by someone else is tried
// again.
const lockPoll = 5 * time.Millisecond

// Lock takes the lock named key, waiting for whoever holds it, and
// returns the function that releases it. It fails when ctx ends first.
func (db *DB) Lock(ctx context.Context, key string) (unlock func(), err error) {
	if db.dialect == DialectPostgres {
		return db.advisoryLock(ctx, key)
	}
	return db.leaseLock(ctx, key)
}

func (db *DB) advisoryLock(ctx context.Context, key string) (func(), error) {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: lock: %w", err)
	}
	id := lockID(key)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
		// The connection may still wait for the lock server-side: drop it.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
		return nil, fmt.Errorf("store: lock: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, id); err != nil {
			// A connection that may still hold the lock must not go back
			// to the pool: closing it ends the session and the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			db.logger.WarnContext(ctx, "advisory unlock failed", "err", err)
		}
		conn.Close()
	}, nil
}

// lockID is the advisory lock number of a key.
func lockID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int64(h.Sum64())
}

func (db *DB) leaseLock(ctx context.Context, key string) (func(), error) {
	holder, err := randomHolder()
	if err != nil {
		return nil, err
	}
	t := time.NewTicker(lockPoll)
	defer t.Stop()
	for {
		ok, err := db.tryLease(ctx, key, holder)
		if err != nil {
			return nil, err
		}
		if ok {
			return func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if _, err := db.write.ExecContext(ctx, `DELETE FROM directory_locks WHERE key = $1 AND holder = $2`, key, holder); err != nil {
					db.logger.WarnContext(ctx, "lease release failed", "err", err)
				}
			}, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("store: lock: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// tryLease takes key for holder unless someone else holds an unexpired
// lease on it.
func (db *DB) tryLease(ctx context.Context, key, holder string) (bool, error) {
	now := db.now()
	res, err := db.write.ExecContext(ctx, `
		INSERT INTO directory_locks (key, holder, until) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, until = excluded.until
		WHERE directory_locks.until < $4`, key, holder, db.ts(now.Add(leaseTime)), db.ts(now))
	if err != nil {
		return false, fmt.Errorf("store: lock: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: lock: %w", err)
	}
	return n == 1, nil
}

func randomHolder() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: lock: %w", err)
	}
	return hex.EncodeToString(b), nil
}
