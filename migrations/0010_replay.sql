-- Actions a replay led to and the deliver agent held back instead of sending (`switchboard
-- replay --republish` without --resend). One row per action: a replay of a replay only
-- counts. `replayed_from` is the topic/partition/offset of the re-published record the action
-- came from, when the record said. No personal data: action ids derive from provider ids.

CREATE TABLE suppressed_deliveries (
    action_id           text        PRIMARY KEY,
    action_type         text        NOT NULL,
    replayed_from       text,
    first_suppressed_at timestamptz NOT NULL DEFAULT now(),
    last_suppressed_at  timestamptz NOT NULL DEFAULT now(),
    times               integer     NOT NULL DEFAULT 1
);
CREATE INDEX suppressed_deliveries_last ON suppressed_deliveries (last_suppressed_at);

-- Consumer groups `switchboard replay` seeded (offsets mode, a group other than the worker's).
-- A worker running in one of them marks every action it emits as a replay (`resend`: as a
-- replay that may reach customers), and its deliver agent leaves the live pipeline's actions
-- to the live worker.
CREATE TABLE replay_groups (
    group_id  text        PRIMARY KEY,
    topic     text        NOT NULL,
    resend    boolean     NOT NULL,
    seeded_at timestamptz NOT NULL DEFAULT now()
);
