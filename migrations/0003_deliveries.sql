-- Steps of outbound actions (replies, hand-offs) that a provider accepted, so that an action
-- redelivered after a restart skips them. No personal data: ids, step names, status codes.

CREATE TABLE deliveries (
    action_id            text        NOT NULL,
    step                 text        NOT NULL,
    status_code          integer     NOT NULL,
    provider_message_id  text,
    delivered_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (action_id, step)
);
-- For pruning old rows: an action is redelivered within the topic's retention, not after.
CREATE INDEX deliveries_delivered_at ON deliveries (delivered_at);
