// Package store keeps Clubhouse's own data in SQL: the directory of people
// and club memberships (the portal's fast local copy of Kinde), the
// append-only audit log, the invitation outbox, the development mailbox,
// server-side sessions and the stale-claims marks.
//
// One *DB serves two databases: SQLite through the pure-Go driver
// modernc.org/sqlite (the embedded default) and PostgreSQL through pgx (for
// several portal instances sharing one database). Both run the same goose
// migration set and, but for a handful of statements, the same SQL; every
// place where the dialects differ is listed at the top of dialect.go.
//
// Lookups that find nothing return errors for which errors.Is(err,
// club.ErrNotFound) is true, never a zero value with a nil error.
package store
