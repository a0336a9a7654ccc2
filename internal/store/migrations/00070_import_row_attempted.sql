-- An import row whose Kinde work was sent by a run that may have stopped
-- before recording the outcome (issue 6): the next run counts the person
-- added, with their invitation, instead of "already a member".

-- +goose Up

ALTER TABLE import_rows ADD COLUMN attempted BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down

ALTER TABLE import_rows DROP COLUMN attempted;
