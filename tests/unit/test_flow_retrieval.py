"""How Markdown becomes passages, and the in-memory retriever unit tests use."""

from __future__ import annotations

from pathlib import Path

from schemas.knowledge import MAX_PASSAGE_CHARS, Chunk, passage_title, split_markdown
from streams.flow.retrieval import InMemoryRetriever

KB_DIR = Path(__file__).resolve().parents[2] / "kb"


def test_documents_are_cut_at_headings() -> None:
    """The first level-1 heading is the title; each section keeps its heading."""
    parsed = split_markdown(
        "# Shipping\n\nWe ship daily.\n\n## Costs\n\nFree over €75.\n\nOtherwise €4.95.\n"
    )
    assert parsed.title == "Shipping"
    assert parsed.chunks == (
        Chunk("Shipping", "We ship daily."),
        Chunk("Costs", "Free over €75.\n\nOtherwise €4.95."),
    )


def test_long_sections_are_cut_into_passages_within_the_limit() -> None:
    """Paragraphs are grouped up to the limit, and a long paragraph is cut at sentence ends."""
    paragraph = " ".join(f"Sentence number {n} is here." for n in range(60))
    parsed = split_markdown(f"# Doc\n\n{paragraph}\n\n{'x' * 2000}\n", max_chars=200)
    assert len(parsed.chunks) > 5
    assert all(0 < len(chunk.body) <= 200 for chunk in parsed.chunks)
    assert parsed.chunks[0].body.endswith(".")


def test_a_document_without_headings_has_no_title() -> None:
    """Text without headings is one untitled passage."""
    parsed = split_markdown("Just a note.")
    assert parsed.title is None
    assert parsed.chunks == (Chunk(None, "Just a note."),)


def test_passage_titles_name_document_and_section() -> None:
    """A section's title is the document's plus its heading, unless they are the same."""
    assert passage_title("Returns", "Refunds") == "Returns: Refunds"
    assert passage_title("Returns", "Returns") == "Returns"
    assert passage_title("Returns", None) == "Returns"


def test_the_sample_knowledge_base_splits_into_titled_passages() -> None:
    """Every file in kb/ has a title and passages within the size limit."""
    files = sorted(KB_DIR.glob("*.md"))
    assert 6 <= len(files) <= 8
    for path in files:
        parsed = split_markdown(path.read_text(encoding="utf-8"))
        assert parsed.title
        assert parsed.chunks
        assert all(len(chunk.body) <= MAX_PASSAGE_CHARS for chunk in parsed.chunks)


async def test_the_in_memory_retriever_ranks_by_shared_terms() -> None:
    """The passage sharing most of the question's terms comes first, scored in 0..1."""
    retriever = InMemoryRetriever.from_markdown(
        {path.name: path.read_text(encoding="utf-8") for path in KB_DIR.glob("*.md")}
    )
    [best, *_] = await retriever.search("how long does delivery take", 3)
    assert best.document == "shipping-and-delivery.md"
    assert 0 < best.score <= 1
    assert await retriever.search("the and of", 3) == []
