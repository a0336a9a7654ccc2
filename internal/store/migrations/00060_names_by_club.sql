-- Names a club typed for a member (in an add or an import), even empty ones,
-- are the club's: a refresh from Kinde never fills them in with names that
-- another club may have typed into Kinde.

-- +goose Up

ALTER TABLE memberships ADD COLUMN names_by_club BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down

ALTER TABLE memberships DROP COLUMN names_by_club;
