-- What the conversation flow decided for each customer message: one reply or one hand-off.
-- Delivery is recorded separately, per step, in `deliveries`.

CREATE TABLE actions (
    action_id         text PRIMARY KEY,
    conversation_key  text        NOT NULL,
    contact_id        text        NOT NULL,
    type              text        NOT NULL CHECK (type IN ('reply.requested', 'handoff.requested')),
    in_reply_to       text        NOT NULL,
    intent            text,
    reason            text,
    personal          jsonb       NOT NULL,
    requested_at      timestamptz NOT NULL,
    correlation_id    text        NOT NULL,
    kafka_topic       text        NOT NULL,
    kafka_partition   integer     NOT NULL,
    kafka_offset      bigint      NOT NULL,
    stored_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actions_conversation ON actions (conversation_key, requested_at);
CREATE INDEX actions_in_reply_to ON actions (in_reply_to);
CREATE INDEX actions_contact_id ON actions (contact_id);
