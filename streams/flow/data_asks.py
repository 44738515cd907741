"""What a customer message says about erasure, export or opting out, if anything. Pure.

Erasing a customer cannot be undone, and "please do NOT delete my data", "will you delete
my data if I cancel?" and "how do I delete my account?" all name erasure without asking for
it. So a message is read in two steps. First the topic: a phrase about erasure, export or
opting out (the per-language tables are in `streams.flow.phrases`). Then, for each
such phrase, the wording around it in its sentence, in this order:

1. a question word or phrase anywhere in the sentence ("how do I", "what happens", "will
   you", "is it possible", "wie", "comment", "hoe", "como faço") → question;
2. a negation shortly before the phrase, inside it or just after it ("don't", "never",
   "nicht", "ne … pas", "niet", "não") → negation;
3. a condition ("if I cancel", "wenn", "si", "als ik", "se eu") → question;
4. wording that only describes ("will my data be deleted", "what happens to my data",
   "do you delete data") → question;
5. a polite imperative ("can you …", "können Sie …", "pouvez-vous …", "kunnen jullie …")
   or asking to be given something ("can I get a copy …") → request;
6. a "?", or a yes/no opening such as "can I …", "kann ich …", "puis-je …" → question;
7. otherwise → request.

Wherever the two readings compete, the order picks the question or the negation: such a
customer is told how to ask, while a request opens a confirmation, so the cautious reading
costs one message and the other could cost the customer their data.

In a message with several topics a request wins, the highest ranked first (erasure, then
export, then opt-out), provided that the same topic is not also refused or asked about in
the message: "unsubscribe me and delete my data" is an erasure request, "unsubscribe me, but
don't delete my account" an opt-out request. Without a request, the highest ranked topic is
returned with its most cautious reading.

The text helpers shared with `streams.flow.intent` (`normalise`, `without_politeness`) live
here, below the intent rules that use this module.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from streams.flow import phrases
from streams.flow.phrases import LANGUAGES, Language

AskTopic = Literal["erasure", "export", "opt_out"]
AskMode = Literal["request", "negation", "question"]
# How a phrase is worded: as a request, as a request with a negation in it ("no more
# emails"), or only describing the topic ("will my data be deleted").
_Form = Literal["request", "negative", "described"]

TOPICS_BY_RANK: tuple[AskTopic, ...] = ("erasure", "export", "opt_out")
_CAUTION: dict[AskMode, int] = {"request": 0, "question": 1, "negation": 2}

# How far a negation may stand from the phrase it negates, in words.
_WORDS_BEFORE = 7
_WORDS_AFTER = 3


@dataclass(frozen=True)
class DataAsk:
    """The data-protection topic of a message, and whether the message asks for it."""

    topic: AskTopic
    mode: AskMode


def normalise(text: str) -> str:
    """Accent-folded, case-folded words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def _each(fragments: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(fragment) for fragment in fragments)


def _any(fragments: Iterable[str], around: str = "{}") -> re.Pattern[str]:
    return re.compile(around.format("|".join(f"(?:{fragment})" for fragment in fragments)))


def _from_all(field: Callable[[Language], tuple[str, ...]]) -> list[str]:
    return [fragment for language in LANGUAGES for fragment in field(language)]


_REQUESTED: dict[AskTopic, tuple[re.Pattern[str], ...]] = {
    "erasure": _each(_from_all(lambda language: language.erasure)),
    "export": _each([*_from_all(lambda language: language.export), *phrases.LAW_REQUESTS]),
    "opt_out": _each(_from_all(lambda language: language.opt_out)),
}
_OPT_OUT_NEGATIVE = _each(_from_all(lambda language: language.opt_out_negative))
_DESCRIBED: dict[AskTopic, tuple[re.Pattern[str], ...]] = {
    "erasure": _each(_from_all(lambda language: language.erasure_described)),
    "export": _each(_from_all(lambda language: language.export_described)),
    "opt_out": (),
}

_QUESTIONS = _any(_from_all(lambda language: language.questions))
_CONDITIONS = _any(_from_all(lambda language: language.conditions))
_POLITE_REQUESTS = _any(_from_all(lambda language: language.polite_requests))
_MAY_I = _any(_from_all(lambda language: language.may_i))
_QUESTION_OPENERS = _any(
    _from_all(lambda language: language.question_openers),
    rf"(?:^|, )(?:(?:{phrases.LEAD_INS}) )*(?:{{}})\b",
)
_NEGATORS = _any(_from_all(lambda language: language.negators), r"\b(?:{})\b")
_NEGATORS_AFTER = frozenset(_from_all(lambda language: language.negators_after))
_CONTRASTS = frozenset(_from_all(lambda language: language.contrasts))
_ANSWERS_NO = frozenset(language.answer_no for language in LANGUAGES)
_POLITENESS = _any(_from_all(lambda language: language.politeness), r"\b(?:{})\b")
_OPT_OUT_KEYWORDS = frozenset(_from_all(lambda language: language.opt_out_keywords))
_LAW_ALONE = re.compile(phrases.LAW_ALONE)

_SENTENCE_ENDS = re.compile(r"([.!?;¡¿\n]+)")
# A hyphen joins words ("pouvez-vous"); dashes, colons, brackets and commas part clauses.
_CLAUSE_BREAKS = re.compile(r"[,:()\[\]\u2013\u2014]")
_CLAUSE_CONTINUES = re.compile(phrases.CLAUSE_CONTINUATIONS)


def without_politeness(words: str) -> str:
    """Normalised words without "please", "bitte", "por favor", "alsjeblieft" and the like."""
    return " ".join(_POLITENESS.sub(" ", words).split())


@dataclass(frozen=True)
class _Sentence:
    words: str  # normalised; " , " where the original had a comma
    asks: bool  # ends with "?" or opens with "¿"


@dataclass(frozen=True)
class _Phrase:
    topic: AskTopic
    start: int
    end: int
    form: _Form


def _clause_words(sentence: str) -> str:
    clauses = [words for words in map(normalise, _CLAUSE_BREAKS.split(sentence)) if words]
    joined = clauses[:1]
    for clause in clauses[1:]:
        joined.append(clause if _CLAUSE_CONTINUES.match(clause) else f", {clause}")
    return " ".join(joined)


def _sentences(text: str) -> Iterator[_Sentence]:
    # Question marks are lost by normalise, so they are read here, per sentence.
    parts = _SENTENCE_ENDS.split(text)
    for index in range(0, len(parts), 2):
        words = _clause_words(parts[index])
        if words:
            opened = parts[index - 1] if index else ""
            closed = parts[index + 1] if index + 1 < len(parts) else ""
            yield _Sentence(words, "?" in closed or "¿" in opened)


def _find(
    topic: AskTopic, patterns: Iterable[re.Pattern[str]], words: str, form: _Form
) -> list[_Phrase]:
    return [
        _Phrase(topic, found.start(), found.end(), form)
        for pattern in patterns
        for found in pattern.finditer(words)
    ]


def _phrases(words: str) -> Iterator[_Phrase]:
    for topic in TOPICS_BY_RANK:
        found = _find(topic, _REQUESTED[topic], words, "request")
        if topic == "opt_out":
            found += _find(topic, _OPT_OUT_NEGATIVE, words, "negative")
        # Describing wording counts only where no request wording names the same topic.
        yield from found or _find(topic, _DESCRIBED[topic], words, "described")


def _words_before(words: str, start: int) -> list[str]:
    # The window may cross commas ("Ich habe nie verlangt, meine Daten zu löschen"), but
    # not into a clause closed before "please …" ("I can't log in, please delete my
    # account"), nor from a bare "no," ("No, delete my data").
    clauses = [clause.split() for clause in words[:start].split(",")]
    if len(clauses) > 1 and (
        _POLITENESS.match(" ".join(clauses[-1])) or clauses[-2] in ([no] for no in _ANSWERS_NO)
    ):
        clauses = clauses[-1:]
    return [word for clause in clauses for word in clause]


def _negated(words: str, phrase: _Phrase) -> bool:
    before = _words_before(words, phrase.start)
    after_contrast = max((i + 1 for i, word in enumerate(before) if word in _CONTRASTS), default=0)
    before = before[max(after_contrast, len(before) - _WORDS_BEFORE) :]
    after = words[phrase.end :].split(" , ", maxsplit=1)[0].split()[:_WORDS_AFTER]
    return bool(
        _NEGATORS.search(" ".join(before))
        or _NEGATORS.search(words, phrase.start, phrase.end)
        or _NEGATORS_AFTER.intersection(after)
    )


def _opens_before(pattern: re.Pattern[str], words: str, end: int) -> bool:
    # Polite forms may close after the phrase ("kann ich eine Kopie meiner Daten bekommen")
    # or overlap it ("can I get a copy of my data" is found from "get"), but must open
    # before its end: in "can I delete my account, can you help?" the "can you" is not.
    return any(found.start() < end for found in pattern.finditer(words))


def _mode(sentence: _Sentence, phrase: _Phrase, negation_words: str) -> AskMode:
    words = sentence.words
    if _QUESTIONS.search(words):
        return "question"
    if phrase.form != "negative" and _negated(negation_words, phrase):
        return "negation"
    if _CONDITIONS.search(words) or phrase.form == "described":
        return "question"
    if _opens_before(_POLITE_REQUESTS, words, phrase.end):
        return "request"
    if (
        sentence.asks
        or _MAY_I.search(words, 0, phrase.start)
        or _QUESTION_OPENERS.search(words, 0, phrase.start)
    ):
        return "question"
    return "request"


def _sentence_asks(sentence: _Sentence) -> Iterator[tuple[AskTopic, AskMode]]:
    found = list(_phrases(sentence.words))
    negative = [phrase for phrase in found if phrase.form == "negative"]
    # The "no" of "no more emails" refuses nothing: hidden from the negation check of the
    # other phrases, unless they overlap it.
    masked = sentence.words
    for phrase in negative:
        masked = masked[: phrase.start] + "_" * (phrase.end - phrase.start) + masked[phrase.end :]
    for phrase in found:
        overlaps = any(n.start < phrase.end and phrase.start < n.end for n in negative)
        yield phrase.topic, _mode(sentence, phrase, sentence.words if overlaps else masked)


def _verdict(modes: dict[AskTopic, AskMode]) -> DataAsk | None:
    for topic in TOPICS_BY_RANK:
        if modes.get(topic) == "request":
            return DataAsk(topic, "request")
    for topic in TOPICS_BY_RANK:
        if topic in modes:
            return DataAsk(topic, modes[topic])
    return None


def read_data_ask(text: str | None) -> DataAsk | None:
    """What a message says about erasure, export or opting out, if anything."""
    if not text:
        return None
    whole = without_politeness(normalise(text))
    if whole in _OPT_OUT_KEYWORDS:
        return DataAsk("opt_out", "question" if "?" in text else "request")
    if _LAW_ALONE.fullmatch(whole) and "?" not in text:
        return DataAsk("export", "request")
    modes: dict[AskTopic, AskMode] = {}
    for sentence in _sentences(text):
        for topic, mode in _sentence_asks(sentence):
            modes[topic] = max(modes.get(topic, mode), mode, key=_CAUTION.__getitem__)
    return _verdict(modes)
