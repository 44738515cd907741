-- Compliance API: keys hold only known scopes, and the audit trail is searchable by actor
-- ("what did this key do?"), not only by subject.

ALTER TABLE api_keys
    ADD CONSTRAINT api_keys_known_scopes CHECK (
        cardinality(scopes) > 0
        AND scopes <@ ARRAY['consent:write', 'gdpr:export', 'gdpr:erase', 'gdpr:read']::text[]
    );

CREATE INDEX audit_log_actor ON audit_log (actor, occurred_at);
