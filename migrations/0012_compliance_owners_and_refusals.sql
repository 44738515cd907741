-- Compliance API.
-- A scope to read every export's and erasure's status (compliance officers); other keys read
-- only the requests they made.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_known_scopes;
ALTER TABLE api_keys
    ADD CONSTRAINT api_keys_known_scopes CHECK (
        cardinality(scopes) > 0
        AND scopes <@ ARRAY[
            'consent:write', 'gdpr:export', 'gdpr:erase', 'gdpr:read', 'gdpr:read-all'
        ]::text[]
    );

-- Keys that asked for an erasure already under way (gdpr_deletions.requested_by is the
-- first): they may follow it too. Key ids only, kept as long as the erasure's record.
CREATE TABLE gdpr_deletion_requesters (
    deletion_id   text        NOT NULL REFERENCES gdpr_deletions (deletion_id) ON DELETE CASCADE,
    requested_by  text        NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (deletion_id, requested_by)
);

-- Refused attempts of callers who proved no key (missing or forged keys, forged download
-- links, clients over their rate), counted per minute, endpoint, reason and the key they
-- named ('' for none) rather than written as one audit_log row each: bounded by the
-- vocabularies and the real keys, whatever the attempts. No address or token is kept.
CREATE TABLE audit_refusals (
    window_start  timestamptz NOT NULL,
    endpoint      text        NOT NULL,
    reason        text        NOT NULL,
    key_id        text        NOT NULL DEFAULT '',
    attempts      bigint      NOT NULL CHECK (attempts > 0),
    PRIMARY KEY (window_start, endpoint, reason, key_id)
);
