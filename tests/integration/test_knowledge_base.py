"""The knowledge base in the real PostgreSQL: loading kb/, full-text retrieval, reloads."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from schemas.knowledge import KnowledgeUnavailable
from sinks.postgres.knowledge import PostgresRetriever, load_directory
from sinks.postgres.pool import Database, PoolConfig
from streams.flow.graph import FlowInput
from streams.flow.runner import Flow

pytestmark = pytest.mark.integration

KB_DIR = Path(__file__).resolve().parents[2] / "kb"
KB_FILES = len(list(KB_DIR.glob("*.md")))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
    yield database
    await database.close()


async def _passages(database: Database, document: str) -> list[tuple[int, str]]:
    async with database.connection() as conn:
        rows = await conn.fetch(
            "SELECT id, body FROM kb_passages WHERE document_id = $1 ORDER BY position", document
        )
    return [(row["id"], row["body"]) for row in rows]


async def test_a_delivery_question_finds_the_shipping_passage_first(database: Database) -> None:
    """A natural question, not every word of which is in the passage, ranks shipping first."""
    await load_directory(database, KB_DIR)
    found = await PostgresRetriever(database).search("how long does delivery take", 4)
    assert found
    best = found[0]
    assert best.document == "shipping-and-delivery.md"
    assert "How long does delivery take?" in best.title
    assert 0 < best.score <= 1
    assert [p.score for p in found] == sorted((p.score for p in found), reverse=True)


async def test_reloading_unchanged_files_changes_nothing(database: Database) -> None:
    """A second load skips every file by its content hash and keeps the passages as they were."""
    await load_directory(database, KB_DIR)
    before = await _passages(database, "returns-and-refunds.md")
    result = await load_directory(database, KB_DIR)
    assert (result.loaded, result.unchanged, result.passages) == (0, KB_FILES, 0)
    assert await _passages(database, "returns-and-refunds.md") == before


async def test_a_changed_file_replaces_its_passages(database: Database, tmp_path: Path) -> None:
    """Editing a file and reloading swaps its old passages for the new ones."""
    folder = tmp_path / f"changing-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    note = folder / "note.md"
    document = f"{folder.name}/note.md"
    note.write_text("# Gift wrapping\n\nWe wrap gifts in blue paper.\n", encoding="utf-8")
    first = await load_directory(database, tmp_path)
    assert (first.loaded, first.passages) == (1, 1)

    note.write_text(
        "# Gift wrapping\n\nWe wrap gifts in recycled kraft paper.\n\n"
        "## Gift messages\n\nAdd a handwritten card at checkout.\n",
        encoding="utf-8",
    )
    second = await load_directory(database, tmp_path)
    assert (second.loaded, second.unchanged, second.passages) == (1, 0, 2)
    bodies = [body for _, body in await _passages(database, document)]
    assert bodies == [
        "We wrap gifts in recycled kraft paper.",
        "Add a handwritten card at checkout.",
    ]

    retriever = PostgresRetriever(database)
    assert await retriever.search("blue", 5) == []
    [kraft] = await retriever.search("kraft", 5)
    assert kraft.document == document


async def test_prune_removes_documents_no_longer_in_the_folder(
    database: Database, tmp_path: Path
) -> None:
    """With prune, a load leaves exactly the folder's documents, passages included."""
    (tmp_path / "only.md").write_text("# Only\n\nThe one remaining lampshade.\n", encoding="utf-8")
    await load_directory(database, KB_DIR)
    result = await load_directory(database, tmp_path, prune=True)
    assert result.removed >= KB_FILES
    async with database.connection() as conn:
        documents = await conn.fetch("SELECT id FROM kb_documents")
        orphans = await conn.fetchval(
            "SELECT count(*) FROM kb_passages WHERE document_id <> 'only.md'"
        )
    assert [row["id"] for row in documents] == ["only.md"]
    assert orphans == 0
    await load_directory(database, KB_DIR, prune=True)


@pytest.mark.parametrize(
    "query", ["'; DROP TABLE kb_passages; --", "delivery & | ! <-> :* (", "the of and", "   "]
)
async def test_any_text_is_a_safe_query(database: Database, query: str) -> None:
    """Operators, quotes and stop words in a question are searched for, never executed."""
    await load_directory(database, KB_DIR)
    found = await PostgresRetriever(database).search(query, 4)
    assert all(0 < p.score <= 1 for p in found)
    assert await PostgresRetriever(database).search("refund", 1)


async def test_the_offline_flow_answers_from_the_database(database: Database) -> None:
    """Without a model, the flow replies with the shipping passage retrieved from PostgreSQL."""
    await load_directory(database, KB_DIR)
    flow = Flow(
        PostgresRetriever(database), None, timeout_seconds=10, model_retries=0, min_score=0.05
    )
    outcome = await flow.run(FlowInput("evt-kb", "How long does delivery take?", "whatsapp"))
    assert outcome.kind == "reply"
    assert "working days" in outcome.text


async def test_an_unreachable_database_is_reported_as_such(database_url: str) -> None:
    """A search that cannot reach PostgreSQL says so (`KnowledgeUnavailable`), so the flow
    waits for the database instead of handing the customer off."""
    database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
    await database.close()
    with pytest.raises(KnowledgeUnavailable):
        await PostgresRetriever(database).search("delivery", 3)
