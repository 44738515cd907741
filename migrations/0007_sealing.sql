-- A data-key claim belongs to one data-keys topic (the deployment's topic prefix): two
-- deployments, or test runs, that share a database but not their topics must never wait
-- for a key that only the other one's topic holds. Erasure may still delete by contact id.
ALTER TABLE data_key_claims ADD COLUMN topic text NOT NULL DEFAULT '';
ALTER TABLE data_key_claims DROP CONSTRAINT data_key_claims_pkey;
ALTER TABLE data_key_claims ADD PRIMARY KEY (topic, contact_id);
CREATE INDEX data_key_claims_contact ON data_key_claims (contact_id);
