-- Kinde webhooks (issue 6): deliveries seen, for deduplication, and the
-- timestamp of the newest event applied per person or club, so that an
-- older event delivered late changes nothing.

-- +goose Up

-- One row per webhook-id header Kinde sent. The row is inserted in the
-- same transaction as the job that processes the event, so a delivery is
-- either recorded and queued, or neither.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL DEFAULT '',
    event_type  TEXT NOT NULL DEFAULT '',
    received_at {{time}} NOT NULL
);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (received_at);

-- subject is "user:<id>" or "org:<code>"; at is Kinde's timestamp of the
-- newest event applied for it.
CREATE TABLE kinde_event_marks (
    subject TEXT PRIMARY KEY,
    at      {{time}} NOT NULL
);

-- +goose Down
DROP TABLE kinde_event_marks;
DROP TABLE webhook_deliveries;
