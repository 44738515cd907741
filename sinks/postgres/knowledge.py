"""The knowledge base in PostgreSQL: loading Markdown files, and full-text retrieval.

Search ORs the question's lexemes (a natural question rarely has every word in one
passage) and ranks by cover density, normalised to 0..1 as rank / (rank + 1). Loading is
idempotent: a file whose content hash is unchanged is skipped, a changed one has its
passages replaced, all in one transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from schemas.knowledge import KnowledgeUnavailable, Passage, passage_title, split_markdown
from sinks.postgres.pool import Database

# Part of every content hash: a new way of cutting passages reloads every document.
_SPLITTER_VERSION = "1"

# Ties go to passages whose heading matches: in an FAQ the heading is the question.
# plainto_tsquery never fails on user text and quotes every lexeme in its text form, which
# contains no spaces; replacing its " & " turns AND into OR without building a query from
# the user's text.
_SEARCH = """
WITH q AS (
    SELECT replace(plainto_tsquery('english', $1)::text, ' & ', ' | ')::tsquery AS query
)
SELECT d.id, d.title, p.heading, p.body, ts_rank_cd(p.tsv, q.query, 32) AS score
FROM q, kb_passages AS p JOIN kb_documents AS d ON d.id = p.document_id
WHERE p.tsv @@ q.query
ORDER BY score DESC,
         to_tsvector('english', coalesce(p.heading, '')) @@ q.query DESC,
         p.document_id, p.position
LIMIT $2
"""

# Returns the id only when the document is new or its content changed.
_UPSERT_DOCUMENT = """
INSERT INTO kb_documents (id, title, content_hash) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE
SET title = EXCLUDED.title, content_hash = EXCLUDED.content_hash, loaded_at = now()
WHERE kb_documents.content_hash IS DISTINCT FROM EXCLUDED.content_hash
RETURNING id
"""

_DELETE_PASSAGES = "DELETE FROM kb_passages WHERE document_id = $1"

_INSERT_PASSAGES = """
INSERT INTO kb_passages (document_id, position, heading, body)
SELECT $1, pos, h, b FROM unnest($2::int[], $3::text[], $4::text[]) AS u(pos, h, b)
"""

_PRUNE = "DELETE FROM kb_documents WHERE NOT (id = ANY($1::text[])) RETURNING id"


# The server cannot be reached, or is going down or starting up (admin_shutdown,
# crash_shutdown, cannot_connect_now): all of it passes. asyncpg's pool raises
# InternalClientError only around connections cut off under it.
_UNREACHABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)
_SHUTTING_DOWN = frozenset({"57P01", "57P02", "57P03"})


class PostgresRetriever:
    """`Retriever` over ``kb_passages`` with PostgreSQL full-text search."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def search(self, query: str, limit: int) -> list[Passage]:
        if not query.strip():
            return []
        try:
            async with self.database.connection() as conn:
                rows = await conn.fetch(_SEARCH, query, limit)
        except _UNREACHABLE as exc:
            raise KnowledgeUnavailable(type(exc).__name__) from exc
        except asyncpg.PostgresError as exc:
            if exc.sqlstate not in _SHUTTING_DOWN:
                raise
            raise KnowledgeUnavailable(type(exc).__name__) from exc
        return [
            Passage(
                row["id"], passage_title(row["title"], row["heading"]), row["body"], row["score"]
            )
            for row in rows
        ]


@dataclass(frozen=True)
class SourceDocument:
    id: str
    title: str
    content_hash: str
    positions: list[int]
    headings: list[str | None]
    bodies: list[str]


@dataclass(frozen=True)
class LoadResult:
    """What a load did: documents written, skipped as unchanged, removed; passages written."""

    loaded: int
    unchanged: int
    removed: int
    passages: int


def read_directory(root: Path) -> list[SourceDocument]:
    """Every ``*.md`` file under ``root``, cut into passages; ids are relative paths."""
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a directory")
    documents = []
    for path in sorted(p for p in root.rglob("*.md") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        parsed = split_markdown(text)
        title = parsed.title or path.stem.replace("-", " ").replace("_", " ").capitalize()
        digest = hashlib.sha256(f"{_SPLITTER_VERSION}\n{text}".encode()).hexdigest()
        documents.append(
            SourceDocument(
                id=path.relative_to(root).as_posix(),
                title=title,
                content_hash=digest,
                positions=list(range(len(parsed.chunks))),
                headings=[chunk.heading for chunk in parsed.chunks],
                bodies=[chunk.body for chunk in parsed.chunks],
            )
        )
    return documents


async def load_directory(database: Database, path: Path, *, prune: bool = False) -> LoadResult:
    """Load a folder of Markdown files; ``prune`` also removes documents no longer in it."""
    documents = await asyncio.to_thread(read_directory, path)
    loaded = unchanged = removed = passages = 0
    async with database.connection() as conn, conn.transaction():
        for doc in documents:
            changed = await conn.fetchval(_UPSERT_DOCUMENT, doc.id, doc.title, doc.content_hash)
            if changed is None:
                unchanged += 1
                continue
            await conn.execute(_DELETE_PASSAGES, doc.id)
            await conn.execute(_INSERT_PASSAGES, doc.id, doc.positions, doc.headings, doc.bodies)
            loaded += 1
            passages += len(doc.bodies)
        if prune:
            removed = len(await conn.fetch(_PRUNE, [doc.id for doc in documents]))
    return LoadResult(loaded, unchanged, removed, passages)
