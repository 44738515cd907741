-- Driving erasures: a lease so that one worker at a time drives a deletion, a retry time per
-- target, and the conversations whose state the converse agent must drop before the
-- conversation-state target counts as complete. Rows here hold only pseudonymous keys, and
-- the per-conversation rows are deleted once the deletion completes.

ALTER TABLE gdpr_deletions ADD COLUMN lease_until timestamptz;

ALTER TABLE gdpr_deletion_targets ADD COLUMN next_attempt_at timestamptz;
CREATE INDEX gdpr_deletion_targets_due ON gdpr_deletion_targets (next_attempt_at)
    WHERE status <> 'completed';

CREATE TABLE gdpr_deletion_conversations (
    deletion_id       text        NOT NULL REFERENCES gdpr_deletions (deletion_id),
    conversation_key  text        NOT NULL,
    emitted_at        timestamptz,
    erased_at         timestamptz,
    PRIMARY KEY (deletion_id, conversation_key)
);
