-- Privacy: consent history, exports, erasures with per-target progress, retention policies,
-- API keys for the compliance API, its audit trail, provider identities and data-key claims.
-- Only pseudonymous contact ids here, except where a row *is* personal data (consent
-- records' ip address, export archives' paths), which erasure deletes.

-- Which provider identities (hashed, never plaintext) belong to which contact id, so that
-- the compliance API can address a contact by phone, BSUID or Chatwoot contact id.
CREATE TABLE contact_identities (
    identity_hash  text PRIMARY KEY,          -- HMAC of kind + identity, like contact ids
    kind           text        NOT NULL CHECK (kind IN ('phone', 'bsuid', 'chatwoot')),
    contact_id     text        NOT NULL,
    -- where the contact lives at the provider, e.g. Chatwoot's 'account_id/contact_id', so
    -- that erasure can anonymise it there; an internal id, never a phone number or name
    external_ref   text,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_identities_contact ON contact_identities (contact_id);

-- Exactly one owner creates a contact's data key: whoever inserts the claim. The key
-- material itself lives only in the compacted data-keys topic, wrapped by the master key.
CREATE TABLE data_key_claims (
    contact_id  text PRIMARY KEY,
    key_id      text        NOT NULL,
    claimed_by  text        NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now()
);

-- Every consent change, in order; the consent table holds only the latest state.
CREATE TABLE consent_records (
    event_id      text PRIMARY KEY,
    contact_id    text        NOT NULL,
    consent_type  text        NOT NULL CHECK (consent_type IN ('marketing', 'analytics', 'communication')),
    granted       boolean     NOT NULL,
    source        text        NOT NULL,
    reason        text        NOT NULL,
    ip_address    inet,
    occurred_at   timestamptz NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_records_contact ON consent_records (contact_id, occurred_at);

CREATE TABLE gdpr_exports (
    export_id      text PRIMARY KEY,
    contact_id     text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('processing', 'completed', 'failed', 'deleted')),
    requested_by   text        NOT NULL,
    requested_at   timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    expires_at     timestamptz NOT NULL,
    path           text,
    size_bytes     bigint,
    error          text
);
CREATE INDEX gdpr_exports_contact ON gdpr_exports (contact_id);

-- The erasure record is kept as proof after the contact is gone: pseudonymous id, times,
-- reason code. Targets record when each copy was removed.
CREATE TABLE gdpr_deletions (
    deletion_id    text PRIMARY KEY,
    contact_id     text        NOT NULL,
    reason         text        NOT NULL,
    requested_by   text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed')),
    requested_at   timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz
);
CREATE INDEX gdpr_deletions_contact ON gdpr_deletions (contact_id);

CREATE TABLE gdpr_deletion_targets (
    deletion_id   text        NOT NULL REFERENCES gdpr_deletions (deletion_id),
    target        text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    attempts      integer     NOT NULL DEFAULT 0,
    last_error    text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (deletion_id, target)
);

CREATE TABLE data_retention_policies (
    data_category   text PRIMARY KEY,
    retention_days  integer     NOT NULL CHECK (retention_days > 0),
    description     text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO data_retention_policies (data_category, retention_days, description) VALUES
    ('contacts', 90, 'contacts are erased this many days after their last interaction'),
    ('conversations', 365, 'conversations and their messages are deleted after this many days'),
    ('consent_records', 1825, 'consent history is kept this long as proof'),
    ('analytics', 730, 'aggregated analytics are kept this long');

-- Compliance API keys: only a SHA-256 of the secret is stored; the prefix finds the row.
CREATE TABLE api_keys (
    key_id        text PRIMARY KEY,
    prefix        text        NOT NULL UNIQUE,
    secret_hash   text        NOT NULL,
    name          text        NOT NULL,
    scopes        text[]      NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_used_at  timestamptz
);

-- Who did what and when; subject is a pseudonymous contact id at most.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor        text        NOT NULL,
    action       text        NOT NULL,
    subject      text,
    outcome      text        NOT NULL,
    detail       jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log (subject, occurred_at);
