-- At most one unfinished import of the same file per club, across every
-- portal instance (issue 6): a double-submitted start that reaches two
-- instances imports the file once.

-- +goose Up

-- Two unfinished imports of one file may exist from before: keep both
-- running, and let only the newest answer to the file's digest.
UPDATE imports SET digest = digest || '#' || CAST(id AS TEXT)
WHERE status <> 'done' AND EXISTS (
    SELECT 1 FROM imports n
    WHERE n.club_code = imports.club_code AND n.digest = imports.digest AND n.status <> 'done' AND n.id > imports.id);

CREATE UNIQUE INDEX imports_one_active ON imports (club_code, digest) WHERE status <> 'done';

-- +goose Down

DROP INDEX imports_one_active;
