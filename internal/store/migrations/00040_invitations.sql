-- The invitations page and the resend action (issue 3): the latest
-- invitation to an address in a club, and the club's given-up ones.

-- +goose Up

CREATE INDEX outbox_by_club_email ON outbox (club_code, email, id DESC);
CREATE INDEX outbox_failed_by_club ON outbox (club_code) WHERE status = 'failed';

-- +goose Down

DROP INDEX outbox_failed_by_club;
DROP INDEX outbox_by_club_email;
