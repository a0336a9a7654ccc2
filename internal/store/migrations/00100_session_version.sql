-- Sessions carry a version, so a save lands only on the record its request
-- loaded (compare and swap), and an ended session keeps its row, emptied,
-- as a tombstone until it expires. Together they stop a request that loaded
-- a session before a sign-out or an id rotation from writing it back.

-- +goose Up

-- Rows from before keep version 0, which SaveSession takes over like a new
-- id, so nobody is signed out by the upgrade.
ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN ended BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down

-- Without the marker a tombstone would read as a live session.
DELETE FROM sessions WHERE ended = TRUE;
ALTER TABLE sessions DROP COLUMN ended;
ALTER TABLE sessions DROP COLUMN version;
