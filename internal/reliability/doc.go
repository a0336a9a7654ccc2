// Package reliability holds the schedule tests: seeded, deterministic
// interleavings of adds, role changes, removals, owners demoting each
// other, reconciliation and Kinde's webhooks (late, out of order, twice),
// over one portal instance on SQLite and two on PostgreSQL, each followed
// by the checks that the directory equals Kinde, every club keeps an
// owner, every added member got one invitation, and the club's activity
// says only what is true. It has no code of its own: see the tests, and
// docs/RELIABILITY.md for the figures.
package reliability
