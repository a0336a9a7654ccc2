-- Bulk member imports (issue 6): one row per import, one per data row of
-- its file. A row's status is committed right after its Kinde work, so a
-- run that stops resumes with the rows still pending.

-- +goose Up

CREATE TABLE imports (
    id          {{id}},
    club_code   TEXT NOT NULL,
    club_name   TEXT NOT NULL DEFAULT '',
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL DEFAULT '',
    file_name   TEXT NOT NULL DEFAULT '',
    digest      TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  {{time}} NOT NULL,
    started_at  {{time}},
    finished_at {{time}}
);
CREATE INDEX imports_by_club ON imports (club_code, status, digest);

-- roles are the row's role keys, space-separated. step is the Kinde work
-- a pending row waits for (club.ImportStep).
CREATE TABLE import_rows (
    id         {{id}},
    import_id  BIGINT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line       INTEGER NOT NULL,
    email      TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name  TEXT NOT NULL DEFAULT '',
    roles      TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    step       TEXT NOT NULL DEFAULT '',
    user_id    TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX import_rows_by_import ON import_rows (import_id, status, line);

-- +goose Down
DROP TABLE import_rows;
DROP TABLE imports;
