"""What every language's phrase table is made of, and the patterns no one language owns. Pure.

The tables only; `streams.flow.data_asks` decides what a message means from them. Every
pattern is matched against `normalise`d text: accents folded, case folded, punctuation and
emoji turned into single spaces ("Don't" → "don t", "l'oubli" → "l oubli"), except that a
comma in the original is kept as " , " so that "Sí, borren…" is not read as "if".

Each language lists, by topic, the wording of a request ("delete my data"), the wording
that only describes ("will my data be deleted", "what happens to my data": never a request),
and the words around it that make it a question, a negation or a polite request. Opt-out
requests are often worded with a negation ("no more emails", "keine Werbung mehr"); those
are kept apart so that their "no" is not read as refusing anything.

The patterns here belong to no single language: the gaps the tables use between a verb and
its object, data-protection laws named in any language, and the words a sentence may open
with.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """The phrases of one language; each string is a regular expression."""

    erasure: tuple[str, ...]
    export: tuple[str, ...]
    opt_out: tuple[str, ...]
    # Opt-out requests worded with a negation: their own "no" refuses nothing.
    opt_out_negative: tuple[str, ...]
    # Naming the topic without asking for it: at most a question or a negation.
    erasure_described: tuple[str, ...]
    export_described: tuple[str, ...]
    # Anywhere in the sentence: the customer asks about the policy.
    questions: tuple[str, ...]
    conditions: tuple[str, ...]
    # Opening before the phrase ends: a request even with a "?" ("can you …?", "can I get …?").
    polite_requests: tuple[str, ...]
    # Before the topic: asking whether one may ("can I delete …?"), unless polite.
    may_i: tuple[str, ...]
    # At the start of a clause, when there is no "?": a yes/no question.
    question_openers: tuple[str, ...]
    negators: tuple[str, ...]
    # Negations that follow the verb they negate ("verwijder mijn gegevens niet").
    negators_after: tuple[str, ...]
    # What comes after these is said in its own right ("don't X but Y").
    contrasts: tuple[str, ...]
    # "No" as a whole answer: in "No, delete my data" it refuses nothing that follows.
    answer_no: str
    politeness: tuple[str, ...]
    # Carrier-style opt-out keywords: the whole message, once politeness is dropped.
    opt_out_keywords: tuple[str, ...]


# Up to n words between a verb and its object ("delete all of my data", "löschen Sie bitte
# meine Daten"); each language names its objects once so that its patterns stay readable.
GAP2 = r"( \w+){0,2}"
GAP3 = r"( \w+){0,3}"
GAP4 = r"( \w+){0,4}"

# A data-protection law counts when the message asks for something under it ("GDPR
# request", "DSGVO Antrag", "Art. 15") or is only its name; "is your shop GDPR compliant?"
# is a question for the knowledge base. Which right is meant is unknown: export, the one
# that can be undone.
_LAWS = r"(gdpr|dsgvo|rgpd|lgpd|ccpa|avg)"
_LAW_ASKS = (
    r"(request|requesting|demand|anfrage|antrag|demande|solicitud|solicito|pedido|requisicao"
    r"|verzoek|aanvraag|my data|meine daten|mes donnees|mis datos|meus dados|mijn gegevens"
    r"|art(icle|ikel|iculo|igo)? ?1[57])"
)
LAW_REQUESTS = (rf"\b{_LAWS}{GAP4} {_LAW_ASKS}\b", rf"\b{_LAW_ASKS}{GAP4} {_LAWS}\b")
LAW_ALONE = r"(gdpr|dsgvo|rgpd|lgpd|ccpa)( request)?"

# German puts a comma before every subordinate clause; "Ich möchte, dass …" is one thought.
CLAUSE_CONTINUATIONS = r"(dass|ob|weil)\b"

# Words a sentence may start with before its question opener: "Hi, is my data …".
LEAD_INS = (
    r"hi|hello|hey|dear|ok|okay|so|and|also|please|hallo|hola|bonjour|salut|hoi|ola|oi|bitte"
    r"|por favor|svp|alsjeblieft|und|y|et|en|e"
)
