"""The phrase tables `streams.flow.data_asks` reads customer messages with. Pure.

How customers ask for, refuse and ask about erasure, export and opting out: each language
lives in its own module (`en`, `de`, `es`, `fr`, `nl`, `pt`) as one `Language` table, and
`common` holds that type and the patterns no one language owns (data-protection laws,
clause continuations, lead-ins). `LANGUAGES` lists the tables in the order they are read.
"""

from __future__ import annotations

from streams.flow.phrases.common import (
    CLAUSE_CONTINUATIONS,
    LAW_ALONE,
    LAW_REQUESTS,
    LEAD_INS,
    Language,
)
from streams.flow.phrases.de import GERMAN
from streams.flow.phrases.en import ENGLISH
from streams.flow.phrases.es import SPANISH
from streams.flow.phrases.fr import FRENCH
from streams.flow.phrases.nl import DUTCH
from streams.flow.phrases.pt import PORTUGUESE

LANGUAGES = (ENGLISH, GERMAN, SPANISH, FRENCH, DUTCH, PORTUGUESE)

__all__ = [
    "CLAUSE_CONTINUATIONS",
    "LANGUAGES",
    "LAW_ALONE",
    "LAW_REQUESTS",
    "LEAD_INS",
    "Language",
]
