-- Conversations and the messages in them, as the worker reads them off the inbound topic.
-- Keys are the pseudonymous ids from the log; personal fields live only in `personal`.

CREATE TABLE conversations (
    conversation_key  text PRIMARY KEY,
    channel           text        NOT NULL,
    contact_id        text        NOT NULL,
    route             jsonb       NOT NULL,
    status            text,
    message_count     integer     NOT NULL DEFAULT 0,
    first_message_at  timestamptz,
    last_message_at   timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_contact_id ON conversations (contact_id);

CREATE TABLE messages (
    event_id             text PRIMARY KEY,
    conversation_key     text        NOT NULL REFERENCES conversations (conversation_key)
                                     ON DELETE CASCADE,
    contact_id           text        NOT NULL,
    direction            text        NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    source               text        NOT NULL,
    provider_message_id  text        NOT NULL,
    message_type         text        NOT NULL,
    in_reply_to          text,
    personal             jsonb       NOT NULL,
    sent_at              timestamptz NOT NULL,
    edited_at            timestamptz,
    revoked_at           timestamptz,
    correlation_id       text        NOT NULL,
    kafka_topic          text        NOT NULL,
    kafka_partition      integer     NOT NULL,
    kafka_offset         bigint      NOT NULL,
    stored_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_sent ON messages (conversation_key, sent_at);
CREATE INDEX messages_contact_id ON messages (contact_id);
CREATE UNIQUE INDEX messages_provider_id ON messages (source, provider_message_id);

-- Delivery statuses of messages we sent, one row per (message, status).
CREATE TABLE message_statuses (
    event_id             text PRIMARY KEY,
    conversation_key     text        NOT NULL,
    contact_id           text        NOT NULL,
    provider_message_id  text        NOT NULL,
    status               text        NOT NULL,
    errors               jsonb       NOT NULL DEFAULT '[]',
    occurred_at          timestamptz NOT NULL,
    stored_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_statuses_message ON message_statuses (provider_message_id);
CREATE INDEX message_statuses_conversation ON message_statuses (conversation_key);

-- Conversation status history (open to humans, pending for the bot, resolved…).
CREATE TABLE conversation_status_changes (
    event_id          text PRIMARY KEY,
    conversation_key  text        NOT NULL,
    status            text        NOT NULL,
    previous_status   text,
    assignee_type     text,
    occurred_at       timestamptz NOT NULL,
    stored_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_status_changes_conversation
    ON conversation_status_changes (conversation_key, occurred_at);
