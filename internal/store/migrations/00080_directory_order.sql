-- The directory never goes backwards (issue 10). Every membership write
-- carries a directory version: a fact read from Kinde under version v
-- replaces only facts older than v. Versions come from one counter in the
-- database, so they order writers across instances without trusting their
-- clocks.

-- +goose Up

-- Two versions per membership. version is when its facts were written
-- (for a read of Kinde, a version taken after the read ended); known is as
-- of when they were true (for a read, the version taken before it began;
-- for the portal's own change, one taken once Kinde had made it). A read
-- is newer only if it began after the last write (version); the portal's
-- own change is newer if Kinde made it after what the row knows (known).
ALTER TABLE memberships ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN known BIGINT NOT NULL DEFAULT 0;

-- A club's last full snapshot from Kinde: every membership the snapshot
-- listed is confirmed at this version, and every one it did not list is
-- confirmed absent.
ALTER TABLE clubs ADD COLUMN snapshot_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clubs ADD COLUMN snapshot_known BIGINT NOT NULL DEFAULT 0;
-- The version of the club's name, as last read from Kinde.
ALTER TABLE clubs ADD COLUMN name_version BIGINT NOT NULL DEFAULT 0;

-- A removal, dated: a late "still a member" older than it cannot bring the
-- membership back.
CREATE TABLE membership_tombstones (
    club_code  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    version    BIGINT NOT NULL,
    known      BIGINT NOT NULL,
    removed_at {{time}} NOT NULL,
    PRIMARY KEY (club_code, user_id)
);
CREATE INDEX membership_tombstones_by_time ON membership_tombstones (removed_at);

-- The version of the last re-read of each person written: a re-read that
-- started before it overlapped it, and is passed over.
CREATE TABLE person_versions (
    user_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

-- The portal's own changes under way, by club and subject ("email:" and
-- the address for an add, "user:" and the id for a role change or a
-- removal). While one is open, what Kinde shows of it is the portal's own
-- change seen early: a re-read writes it without an activity row (the
-- portal writes its own), and an add's membership stays unlisted until
-- the add finishes.
CREATE TABLE member_changes (
    club_code  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    started_at {{time}} NOT NULL,
    PRIMARY KEY (club_code, subject)
);

-- Leases that serialize work across instances on SQLite (PostgreSQL uses
-- advisory locks instead): a key is held while until is in the future.
CREATE TABLE directory_locks (
    key    TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  {{time}} NOT NULL
);

{{version_counter}}

-- +goose Down

{{drop_version_counter}}
DROP TABLE directory_locks;
DROP TABLE member_changes;
DROP TABLE person_versions;
DROP TABLE membership_tombstones;
ALTER TABLE clubs DROP COLUMN name_version;
ALTER TABLE clubs DROP COLUMN snapshot_known;
ALTER TABLE clubs DROP COLUMN snapshot_version;
ALTER TABLE memberships DROP COLUMN known;
ALTER TABLE memberships DROP COLUMN version;
