-- Where a staff action came from (issue 5, staff "view as"): the IP address
-- and user agent of the staff person's browser. Only staff rows fill them,
-- and only staff see them.

-- +goose Up
ALTER TABLE audit_events ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_events DROP COLUMN user_agent;
ALTER TABLE audit_events DROP COLUMN ip;
