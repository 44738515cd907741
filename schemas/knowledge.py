"""The knowledge base's passages: what a retriever finds, and how Markdown is cut into them.

Pure. The flow asks a `Retriever` for passages (streams/flow/); PostgreSQL full-text search
(sinks/postgres/knowledge.py) is the real one, and an embedding store can replace it by
implementing `Retriever.search`. How Markdown is cut into passages lives here too, so that
every store cuts it the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

MAX_PASSAGE_CHARS = 800


@dataclass(frozen=True)
class Passage:
    """A piece of a knowledge-base document; ``score`` is in 0..1, higher is better."""

    document: str
    title: str
    text: str
    score: float = 0.0


class KnowledgeUnavailable(Exception):  # noqa: N818 - reads as what happened
    """The knowledge base cannot be reached right now (its database restarting).

    Ours, not the customer's problem: the flow lets it escape, so the message waits and is
    retried instead of being handed to a person over a blip.
    """


class Retriever(Protocol):
    async def search(self, query: str, limit: int) -> list[Passage]:
        """The best passages for the query, best first; an empty list when none match.
        Raises `KnowledgeUnavailable` when the store cannot be reached."""
        ...


@dataclass(frozen=True)
class Chunk:
    """A passage before it is stored: the heading it sits under, and its text."""

    heading: str | None
    body: str


@dataclass(frozen=True)
class MarkdownDocument:
    title: str | None
    chunks: tuple[Chunk, ...]


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_markdown(markdown: str, max_chars: int = MAX_PASSAGE_CHARS) -> MarkdownDocument:
    """Cut a document at its headings, then into paragraphs grouped up to ``max_chars``.

    The first level-1 heading is the title; text before any other heading sits under it.
    """
    title: str | None = None
    heading: str | None = None
    sections: list[tuple[str | None, list[str]]] = []
    paragraph: list[str] = []
    paragraphs: list[str] = []

    def end_paragraph() -> None:
        if paragraph:
            paragraphs.append("\n".join(paragraph).strip())
            paragraph.clear()

    def end_section() -> None:
        end_paragraph()
        if paragraphs:
            sections.append((heading, list(paragraphs)))
            paragraphs.clear()

    for line in markdown.splitlines():
        match = _HEADING.match(line)
        if match:
            end_section()
            text = match[2].strip()
            if len(match[1]) == 1 and title is None:
                title = text
            heading = text
        elif line.strip():
            paragraph.append(line.rstrip())
        else:
            end_paragraph()
    end_section()
    chunks = tuple(
        Chunk(section_heading, body)
        for section_heading, texts in sections
        for body in _group(texts, max_chars)
    )
    return MarkdownDocument(title, chunks)


def _group(paragraphs: list[str], max_chars: int) -> list[str]:
    """Consecutive paragraphs joined while they fit; longer ones cut at sentence ends."""
    pieces = [piece for text in paragraphs for piece in _cut(text, max_chars)]
    groups: list[str] = []
    for piece in pieces:
        if groups and len(groups[-1]) + 2 + len(piece) <= max_chars:
            groups[-1] = f"{groups[-1]}\n\n{piece}"
        else:
            groups.append(piece)
    return groups


def _cut(text: str, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    out: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        for word_run in _hard_wrap(sentence, max_chars):
            joined = f"{current} {word_run}".strip()
            if len(joined) <= max_chars:
                current = joined
            else:
                out.append(current)
                current = word_run
    if current:
        out.append(current)
    return out


def _hard_wrap(sentence: str, max_chars: int) -> list[str]:
    """A sentence longer than ``max_chars`` (rare), cut between words, or inside one."""
    if len(sentence) <= max_chars:
        return [sentence]
    runs: list[str] = []
    current = ""
    for whole_word in sentence.split():
        word = whole_word
        while len(word) > max_chars:
            if current:
                runs.append(current)
                current = ""
            runs.append(word[:max_chars])
            word = word[max_chars:]
        joined = f"{current} {word}".strip()
        if len(joined) <= max_chars:
            current = joined
        else:
            runs.append(current)
            current = word
    if current:
        runs.append(current)
    return runs


def passage_title(document_title: str, heading: str | None) -> str:
    """``Title: Heading``, or the title alone when the heading repeats it."""
    if not heading or heading == document_title:
        return document_title
    return f"{document_title}: {heading}"
