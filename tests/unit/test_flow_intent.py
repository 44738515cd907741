"""What the flow takes a customer message to be about, in several languages."""

from __future__ import annotations

from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.events import DataRequestKind, Intent
from streams.flow.intent import classify, data_request_kind, is_thanks, normalise

OPT_OUTS = [
    "STOP",
    "stop",
    "Stop.",
    "STOP!!!",
    "stop please",
    "Please STOP",
    "STOP ALL",
    "STOPP",
    "UNSUBSCRIBE",
    "unsubscribe me from your newsletter",
    "please stop sending me messages",
    "Don't send me any more promotions",
    "opt out",
    "ARRÊT",
    "arret",
    "ALTO",
    "BAJA",
    "darme de baja por favor",
    "PARAR",
    "ABMELDEN",
    "keine Werbung mehr bitte",
    "CANCELAR",
    "je veux me désabonner",
    "não quero mais receber mensagens",
    "AFMELDEN",
    "uitschrijven",
    "stop alsjeblieft",
    "Meld me af voor de nieuwsbrief",
]

DATA_REQUESTS: list[tuple[str, DataRequestKind]] = [
    ("Delete my data", "erasure"),
    ("please erase my account", "erasure"),
    ("Can you delete all of my personal data?", "erasure"),
    ("I want to exercise my right to be forgotten", "erasure"),
    ("Bitte löschen Sie meine Daten", "erasure"),
    ("meine Daten löschen", "erasure"),
    ("Je veux supprimer mon compte", "erasure"),
    ("droit à l'oubli", "erasure"),
    ("Quiero borrar mis datos", "erasure"),
    ("quero apagar meus dados", "erasure"),
    ("export my data", "export"),
    ("Can I get a copy of my personal data?", "export"),
    ("download all my data please", "export"),
    ("GDPR request", "export"),
    ("GDPR", "export"),
    ("Datenauskunft bitte", "export"),
    ("exporter mes données", "export"),
    ("quiero una copia de mis datos", "export"),
    ("Verwijder mijn gegevens", "erasure"),
    ("Ik wil een kopie van mijn gegevens", "export"),
]

# Refusing a data-protection action, or asking how it works, is never a request to act.
DATA_QUESTIONS = [
    "Please do NOT delete my data, I want to keep my order history",
    "don't delete my data!",
    "will you delete my data if I cancel?",
    "how do I delete my account data?",
    "how can I download my data?",
    "don't unsubscribe me",
    "how do I unsubscribe?",
    "will you stop sending offers if I cancel my subscription?",
    "Bitte löschen Sie meine Daten nicht",
    "¿Cómo puedo borrar mis datos?",
    "Ne supprimez pas mes données",
    "Wat gebeurt er met mijn gegevens als ik opzeg?",
    "Não apaguem os meus dados",
]

INTENTS: list[tuple[str | None, Intent]] = [
    # hand-off to a human
    ("I want to talk to a human", "human_request"),
    ("can I speak with an agent please", "human_request"),
    ("real person please", "human_request"),
    ("agent", "human_request"),
    ("Ich möchte mit einem Mitarbeiter sprechen", "human_request"),
    ("Je voudrais parler à un conseiller", "human_request"),
    ("quiero hablar con una persona", "human_request"),
    ("Ik wil met een medewerker spreken", "human_request"),
    # complaints
    ("I want to make a complaint", "complaint"),
    ("This is unacceptable", "complaint"),
    ("Terrible service, refund now!", "complaint"),
    ("Ich habe eine Beschwerde", "complaint"),
    ("c'est inadmissible", "complaint"),
    ("quiero poner una queja", "complaint"),
    ("Ik heb een klacht", "complaint"),
    # orders
    ("Where is my parcel?", "order_status"),
    ("where is my package", "order_status"),
    ("My tracking number doesn't work", "order_status"),
    ("When will my order arrive?", "order_status"),
    ("how long does delivery take", "order_status"),
    ("Wo ist meine Bestellung?", "order_status"),
    ("où est mon colis ?", "order_status"),
    ("¿Dónde está mi pedido?", "order_status"),
    ("Waar is mijn pakket?", "order_status"),
    # greetings and thanks
    ("hi", "greeting"),
    ("Hello!", "greeting"),
    ("Good morning 👋", "greeting"),
    ("hola", "greeting"),
    ("Bonjour", "greeting"),
    ("Hallo", "greeting"),
    ("bom dia", "greeting"),
    ("Hoi", "greeting"),
    ("bedankt!", "greeting"),
    ("thanks!", "greeting"),
    # questions
    ("Can I stop by the store?", "question"),
    ("Do you ship to Canada?", "question"),
    ("what payment methods do you accept", "question"),
    ("How do I clean a fabric shade", "question"),
    ("Is your shop GDPR compliant?", "question"),
    ("¿Aceptan PayPal?", "question"),
    ("Wie kann ich bezahlen", "question"),
    ("Hoe kan ik betalen", "question"),
    # everything else
    ("I'll stop by the store tomorrow", "other"),
    ("my lamp flickers", "other"),
    ("hi, my lamp flickers", "other"),
    ("I can't access my account", "other"),
    ("remove the lamp from my account wishlist", "other"),
    ("🙂", "other"),
    ("", "other"),
    (None, "other"),
]


@pytest.mark.parametrize("text", OPT_OUTS)
def test_opt_out_keywords_and_phrases(text: str) -> None:
    """STOP and its usual variants, in several languages, are opt-outs."""
    assert classify(text) == "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        "Can I stop by the store?",
        "I'll stop by the store tomorrow",
        "the light won't stop flickering",
        "can I cancel my order?",
        "when does the sale end?",
    ],
)
def test_opt_out_words_inside_other_sentences_are_not_opt_outs(text: str) -> None:
    """An opt-out keyword counts as the whole message or a clear phrase, never as a substring."""
    assert classify(text) != "opt_out"


@pytest.mark.parametrize(("text", "kind"), DATA_REQUESTS)
def test_data_protection_requests_and_their_kind(text: str, kind: DataRequestKind) -> None:
    """Deletion and export requests are recognised in several languages, with their kind."""
    assert classify(text) == "data_request"
    assert data_request_kind(text) == kind


@pytest.mark.parametrize("text", DATA_QUESTIONS)
def test_refusals_and_policy_questions_are_data_questions(text: str) -> None:
    """ "Don't delete my data" or "how do I unsubscribe?" is answered, not acted on."""
    assert classify(text) == "data_question"


@pytest.mark.parametrize(("text", "intent"), INTENTS)
def test_intents(text: str | None, intent: Intent) -> None:
    """Each message gets the intent its rules describe."""
    assert classify(text) == intent


def test_a_data_request_wins_over_an_opt_out_in_the_same_message() -> None:
    """Erasure covers marketing too, so the stronger request is the one recorded."""
    assert classify("unsubscribe me and delete my data") == "data_request"
    assert data_request_kind("unsubscribe me and delete my data") == "erasure"


def test_a_refusal_beside_a_request_leaves_the_request() -> None:
    """ "Unsubscribe me, but don't delete my account" is an opt-out, not an erasure."""
    assert classify("Unsubscribe me, but don't delete my account") == "opt_out"


def test_a_refusal_beside_another_question_is_still_a_data_question() -> None:
    """A delivery question followed by "do NOT delete my data" is about the data."""
    text = "Hi, how long does delivery take? Please do NOT delete my data"
    assert classify(text) == "data_question"


def test_normalise_folds_accents_case_and_punctuation() -> None:
    """Accents, case, punctuation and emoji do not change what a message says."""
    assert normalise("  ARRÊT!! 🙏 Straße ") == "arret strasse"


def test_thanks_is_recognised_as_the_whole_message_only() -> None:
    """A thank-you alone is thanks; a thank-you with a question is not."""
    assert is_thanks("Thank you!")
    assert is_thanks("Dank je wel")
    assert not is_thanks("thanks, where is my order?")
    assert not is_thanks(None)


@given(st.one_of(st.none(), st.text()))
def test_classify_never_raises(text: str | None) -> None:
    """Any text at all, or none, gets one of the known intents."""
    assert classify(text) in get_args(Intent)
    if text is not None:
        assert data_request_kind(text) in ("erasure", "export")
