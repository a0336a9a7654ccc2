package store

import "database/sql"

// JobsDB returns the connection pool that background jobs (River) share
// with the store, so a job can be queued in the same transaction as the
// rows it is about (see RecordWebhook). For SQLite it is the single writer
// connection: River must not be given another, or the two would fight over
// the write lock. For PostgreSQL it is the store's pool.
func (db *DB) JobsDB() *sql.DB { return db.write }
