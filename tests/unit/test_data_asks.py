"""Reading what a customer message says about erasure, export or opting out, row by row of
the phrase table (tests/data_ask_phrases.py): a negation or a question must never be read
as a request.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.flow.data_asks import DataAsk, read_data_ask
from streams.flow.intent import classify, data_request_kind
from tests.data_ask_phrases import (
    DUTCH,
    ENGLISH,
    FRENCH,
    GERMAN,
    NOT_REQUESTS,
    PORTUGUESE,
    REQUESTS,
    ROWS,
    SPANISH,
)

EMOJI = ("🙂", "🙏", "😡", "👍🏽", "❤️", "📦", "🗑️")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(text, ask, id=f"{language}: {text}")
        for language, rows in [
            ("en", ENGLISH),
            ("de", GERMAN),
            ("es", SPANISH),
            ("fr", FRENCH),
            ("nl", DUTCH),
            ("pt", PORTUGUESE),
        ]
        for text, ask in rows
    ],
)
def test_each_phrasing_means_what_it_says(text: str, expected: DataAsk | None) -> None:
    """Topic and mode: request, negation, question, or no data-protection ask at all."""
    assert read_data_ask(text) == expected


@pytest.mark.parametrize(("text", "ask"), REQUESTS)
def test_requests_are_data_requests_or_opt_outs_for_the_flow(text: str, ask: DataAsk) -> None:
    """An erasure or export request is a data_request of that kind; an opt-out, an opt_out."""
    if ask.topic == "opt_out":
        assert classify(text) == "opt_out"
    else:
        assert classify(text) == "data_request"
        assert data_request_kind(text) == ask.topic


@pytest.mark.parametrize("text", NOT_REQUESTS)
def test_negations_and_questions_are_data_questions_for_the_flow(text: str) -> None:
    """A refusal or a policy question is a data_question, never a data_request or opt_out."""
    assert classify(text) == "data_question"


@pytest.mark.parametrize("text", [None, "", "   ", "🙂", "?", "thanks!"])
def test_no_text_or_no_topic_is_no_ask(text: str | None) -> None:
    """A missing, empty or topic-free message says nothing about data protection."""
    assert read_data_ask(text) is None


@st.composite
def restyled(draw: st.DrawFn, text: str) -> str:
    """The same words, with other casing, emoji, padding and a trailing '!' or '.'."""
    recasings: list[Callable[[str], str]] = [str, str.lower, str.upper, str.title, str.swapcase]
    recase = draw(st.sampled_from(recasings))
    words = recase(text).split(" ")
    emoji = st.one_of(st.just(""), st.sampled_from(EMOJI))
    spots = [draw(emoji) for _ in range(len(words) + 1)]
    with_emoji = [spot for pair in zip(spots, [*words, ""], strict=True) for spot in pair]
    joined = " ".join(part for part in with_emoji if part)
    tail = draw(st.sampled_from(["", "!", ".", "!!", " !", "..."]))
    pad = st.sampled_from(["", " ", "  ", "\t", "\n"])
    return f"{draw(pad)}{joined}{tail}{draw(pad)}"


@pytest.mark.parametrize(("text", "expected"), ROWS)
@settings(max_examples=20)
@given(data=st.data())
def test_casing_emoji_and_emphasis_change_nothing(
    text: str, expected: DataAsk | None, data: st.DataObject
) -> None:
    """Casing, emoji, padding and an added '!' or '.' never change what a message asks."""
    # A "?" is left as it is: without it, "Delete my data?" is a request.
    assert read_data_ask(data.draw(restyled(text))) == expected


@given(st.one_of(st.none(), st.text()))
def test_any_text_is_read_without_error(text: str | None) -> None:
    """Any text at all, or none, gives an ask of a known topic and mode, or none."""
    ask = read_data_ask(text)
    if ask is not None:
        assert ask.topic in ("erasure", "export", "opt_out")
        assert ask.mode in ("request", "negation", "question")
