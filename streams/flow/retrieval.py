"""The knowledge base as the flow sees it, and `InMemoryRetriever`, the fake for unit tests.

The passages, the `Retriever` port and how Markdown is cut into passages are the domain's
(schemas/knowledge.py); PostgreSQL full-text search (`sinks.postgres.knowledge`) is the real
retriever. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from schemas.knowledge import Passage, passage_title, split_markdown
from streams.flow.intent import normalise

# --- the in-memory fake ------------------------------------------------------------

_STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for"),
        *("from", "how", "i", "if", "in", "is", "it", "me", "my", "of", "on", "or", "our"),
        *("the", "this", "to", "we", "what", "when", "where", "which", "who", "why"),
        *("will", "with", "you", "your"),
    }
)


def _terms(text: str) -> set[str]:
    return {_stem(word) for word in normalise(text).split() if word not in _STOPWORDS}


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


class InMemoryRetriever:
    """Scores passages by the share of the query's terms they contain; for tests."""

    def __init__(self, passages: Iterable[Passage] = ()) -> None:
        self.passages = list(passages)
        self.queries: list[str] = []

    @classmethod
    def from_markdown(cls, documents: Mapping[str, str]) -> InMemoryRetriever:
        """Passages from Markdown texts, keyed by document id."""
        passages = []
        for document, markdown in documents.items():
            parsed = split_markdown(markdown)
            title = parsed.title or document
            for chunk in parsed.chunks:
                text = chunk.body
                passages.append(Passage(document, passage_title(title, chunk.heading), text))
        return cls(passages)

    async def search(self, query: str, limit: int) -> list[Passage]:
        self.queries.append(query)
        wanted = _terms(query)
        if not wanted:
            return []
        scored = []
        for passage in self.passages:
            found = wanted & _terms(f"{passage.title} {passage.text}")
            if found:
                score = len(found) / len(wanted)
                scored.append(
                    Passage(passage.document, passage.title, passage.text, round(score, 4))
                )
        scored.sort(key=lambda p: p.score, reverse=True)
        return scored[:limit]
