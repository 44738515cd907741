-- Data requests made in the chat are audited from their events on the actions topic
-- (data_request.opened / data_request.closed). The event id makes the row idempotent, so a
-- record stored twice (a crash before the offset commit, a replay) is one row.
ALTER TABLE audit_log ADD COLUMN event_id text;
CREATE UNIQUE INDEX audit_log_event_id ON audit_log (event_id) WHERE event_id IS NOT NULL;
