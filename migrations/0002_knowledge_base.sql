-- The knowledge base the conversation flow answers from, loaded by `switchboard kb load DIR`.
-- A document is one Markdown file (its path relative to DIR); its passages are the pieces
-- retrieval ranks, with a generated full-text vector over heading and body.

CREATE TABLE kb_documents (
    id            text PRIMARY KEY,
    title         text        NOT NULL,
    content_hash  text        NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kb_passages (
    id           bigserial PRIMARY KEY,
    document_id  text    NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    heading      text,
    body         text    NOT NULL,
    tsv          tsvector GENERATED ALWAYS AS (
                     to_tsvector('english', coalesce(heading, '') || ' ' || body)
                 ) STORED,
    UNIQUE (document_id, position)
);
CREATE INDEX kb_passages_tsv ON kb_passages USING gin (tsv);
