-- The portal's schema, for SQLite and PostgreSQL alike. {{tokens}} are
-- column types that differ between the two (see typeTokens in dialect.go).
-- Version 2 is a Go migration (migrate.go): the append-only trigger on
-- audit_events, whose syntax differs too much to share.

-- +goose Up

-- Kinde identities. An email belongs to at most one user id; when Kinde
-- gives an address to a new user id (the old user was deleted), the old row
-- keeps its memberships and loses the address (NULL).
CREATE TABLE people (
    id    {{key}} PRIMARY KEY,
    email TEXT UNIQUE
);

-- Clubs the portal has seen: created through it (created_by, created_at) or
-- synced from Kinde (last_synced_at).
CREATE TABLE clubs (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     {{time}},
    last_synced_at {{time}}
);
CREATE INDEX clubs_by_creator ON clubs (created_by, name, created_at);

-- A person's membership of one club. Names are the club's own: another club
-- never sees them. sort_name and search are derived (lower case, accents
-- folded; see memberKeys) so that listing and searching need no functions
-- and no join until the page is cut.
CREATE TABLE memberships (
    club_code  TEXT NOT NULL,
    user_id    {{key}} NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    first_name TEXT NOT NULL DEFAULT '',
    last_name  TEXT NOT NULL DEFAULT '',
    joined_at  {{time}} NOT NULL,
    pending    BOOLEAN NOT NULL DEFAULT FALSE,
    sort_name  {{key}} NOT NULL,
    search     TEXT NOT NULL,
    PRIMARY KEY (club_code, user_id)
);
-- One index per listing order. Each starts with the equality columns of every
-- listing (club_code, pending), so a page is read in order without sorting,
-- and ends with search, so a search filters inside the index.
CREATE INDEX memberships_by_name ON memberships (club_code, pending, sort_name, user_id, search);
CREATE INDEX memberships_by_joined ON memberships (club_code, pending, joined_at, user_id, search);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE membership_roles (
    club_code TEXT NOT NULL,
    user_id   {{key}} NOT NULL,
    role_key  TEXT NOT NULL,
    PRIMARY KEY (club_code, user_id, role_key),
    FOREIGN KEY (club_code, user_id) REFERENCES memberships (club_code, user_id) ON DELETE CASCADE
);
CREATE INDEX membership_roles_by_role ON membership_roles (club_code, role_key);

-- Append-only: the code never updates or deletes a row, and a trigger
-- (version 2) refuses to.
CREATE TABLE audit_events (
    id           {{id}},
    club_code    TEXT NOT NULL DEFAULT '',
    actor_id     TEXT NOT NULL DEFAULT '',
    actor_name   TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    target_id    TEXT NOT NULL DEFAULT '',
    target_email TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '',
    at           {{time}} NOT NULL
);
CREATE INDEX audit_events_by_club ON audit_events (club_code, id DESC);
CREATE INDEX audit_events_by_actor ON audit_events (actor_id, id DESC);
CREATE INDEX audit_events_by_target ON audit_events (target_id, id DESC);

-- Invitation emails waiting to go out. A worker claims due rows by setting
-- lease_until; attempts counts recorded outcomes (sent, retry, failed).
CREATE TABLE outbox (
    id              {{id}},
    club_code       TEXT NOT NULL,
    club_name       TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    invited_by      TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at {{time}} NOT NULL,
    lease_until     {{time}},
    created_at      {{time}} NOT NULL,
    sent_at         {{time}}
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX outbox_by_club ON outbox (club_code, id DESC);

-- Mail delivered under `make run`; it never leaves the machine.
CREATE TABLE dev_mail (
    id        {{id}},
    to_addr   TEXT NOT NULL,
    subject   TEXT NOT NULL DEFAULT '',
    body_html TEXT NOT NULL DEFAULT '',
    body_text TEXT NOT NULL DEFAULT '',
    at        {{time}} NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       {{bytes}} NOT NULL,
    expires_at {{time}} NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Users whose token claims no longer match their roles, and since when.
CREATE TABLE claims_stale (
    user_id TEXT PRIMARY KEY,
    at      {{time}} NOT NULL
);

-- +goose Down
DROP TABLE claims_stale;
DROP TABLE sessions;
DROP TABLE dev_mail;
DROP TABLE outbox;
DROP TABLE audit_events;
DROP TABLE membership_roles;
DROP TABLE memberships;
DROP TABLE clubs;
DROP TABLE people;
