"""What a customer message is about, by deterministic rules. Pure.

Text is normalised first (accents folded, case folded, punctuation and emoji turned into
spaces), then rules are tried in order of how much is at stake. First what the message
says about erasure, export or opting out (`streams.flow.data_asks`, which holds all of that
language): a request is a ``data_request`` or an ``opt_out``; refusing one ("don't delete
my data") or asking about the policy ("what happens to my data if I cancel?") is a
``data_question``, answered with how to ask, never acted on. Then a request for a human, a
complaint, an order, a greeting, a question.

"Is your shop GDPR compliant?" names no request, so it stays a ``question`` for the
knowledge base; "GDPR request" or "GDPR" alone is an export request.
"""

from __future__ import annotations

import re

from schemas.events import DataRequestKind, Intent
from streams.flow.data_asks import normalise, read_data_ask, without_politeness

__all__ = ["THANKS", "classify", "data_request_kind", "is_thanks", "normalise"]

_HUMAN = re.compile(
    r"\b(talk|speak|chat|connect me|put me through|transfer me)\b.{0,15}\b(to|with)\b.{0,10}"
    r"\b(human|agent|person|representative|rep|operator|someone|somebody|staff|employee"
    r"|customer service|support team)\b"
    r"|\b(real|live|actual) (person|human|agent)\b"
    r"|\bhuman (please|agent|being)\b"
    r"|\b(want|need|get me|give me)( to (talk|speak) to)? (a|an|some) (human|agent|person"
    r"|representative|operator|colleague)\b"
    r"|\b(mit )?(einem|einer) (menschen|mitarbeiter(in)?|echten person)\b"
    r"|\becht\w* (mensch|person)\b"
    r"|\bparler a (un|une) (humain|conseiller|conseillere|agent|personne)\b"
    r"|\bvraie personne\b"
    r"|\bhablar con (un|una|alguien) ?(humano|agente|persona|asesor)?\b"
    r"|\bpersona real\b"
    r"|\bfalar com (um|uma|alguem) ?(humano|atendente|pessoa)?\b"
    r"|\bpessoa real\b"
    r"|\b(spreken|praten|chatten) met (een|iemand)\b|\bmet (een|iemand) (medewerker|mens)\b"
    r"|\bechte? (persoon|mens)\b"
)

_HUMAN_WORDS = frozenset(
    {
        "human",
        "agent",
        "operator",
        "representative",
        "person",
        "mensch",
        "mitarbeiter",
        "humain",
        "conseiller",
        "humano",
        "agente",
        "atendente",
        "medewerker",
    }
)

_COMPLAINT = re.compile(
    r"\b(complaint|complain\w*|terrible|awful|horrible|unacceptable|disgusting|worst"
    r"|ridiculous|scam|outrageous|furious|useless service|very disappointed"
    r"|refund now|money back now|want my money back)\b"
    r"|\b(beschwerde|unverschamt|inakzeptabel|frechheit)\b"
    r"|\b(plainte|reclamation|inadmissible|inacceptable|honteux|scandaleux)\b"
    r"|\b(queja|reclamacion|inaceptable|vergonzoso|estafa)\b"
    r"|\b(reclamacao|inaceitavel|vergonhoso|absurdo)\b"
    r"|\b(klacht|onacceptabel|schandalig|belachelijk|waardeloos|oplichting)\b"
)

_ORDER = re.compile(
    r"\b(order|orders|ordered|tracking|track|parcel|package|delivery|deliveries|delivered"
    r"|shipment|shipped|dispatch\w*)\b"
    r"|\bwhere is my\b"
    r"|\b(bestellung|sendung|lieferung|paket|sendungsverfolgung)\b"
    r"|\b(commande|colis|livraison|suivi)\b"
    r"|\b(pedido|paquete|envio|entrega|seguimiento)\b"
    r"|\b(encomenda|rastreamento|rastreio)\b"
    r"|\b(bestelling|pakket|pakketje|zending|levering|bezorging|verzending)\b"
)

_GREETINGS = frozenset(
    {
        "hi",
        "hii",
        "hello",
        "hey",
        "hiya",
        "yo",
        "hi there",
        "hello there",
        "hey there",
        "good morning",
        "good afternoon",
        "good evening",
        "morning",
        "hola",
        "buenas",
        "buenos dias",
        "buenas tardes",
        "buenas noches",
        "bonjour",
        "bonsoir",
        "salut",
        "coucou",
        "hallo",
        "servus",
        "moin",
        "guten morgen",
        "guten tag",
        "guten abend",
        "ciao",
        "ola",
        "oi",
        "bom dia",
        "boa tarde",
        "boa noite",
        "hoi",
        "goedemorgen",
        "goedemiddag",
        "goedenavond",
        "dag",
    }
)
THANKS = frozenset(
    {
        "thanks",
        "thank you",
        "thank you so much",
        "thanks a lot",
        "many thanks",
        "thx",
        "ty",
        "cheers",
        "merci",
        "merci beaucoup",
        "danke",
        "danke schon",
        "vielen dank",
        "gracias",
        "muchas gracias",
        "obrigado",
        "obrigada",
        "ok thanks",
        "ok thank you",
        "bedankt",
        "dank je",
        "dank u",
        "dank je wel",
        "dank u wel",
        "dankjewel",
        "hartelijk dank",
    }
)

_QUESTION_START = re.compile(
    r"^(what|whats|when|where|which|who|whom|whose|why|how|can|could|do|does|did|is|are|was"
    r"|will|would|should|may|might|have|has|any"
    r"|wie|was|wo|wann|warum|welche\w*|kann|konnen|gibt es|habt|haben sie"
    r"|comment|pourquoi|quand|combien|quel\w*|est ce|puis je|pouvez"
    r"|como|que|donde|cuando|cuanto\w*|cual\w*|por que|puedo|pueden|tienen|hay"
    r"|onde|quando|quanto\w*|qual|posso|voces"
    r"|hoe|wat|waar|wanneer|waarom|welke|kan ik|mag ik|kunnen jullie|hebben jullie|is er)\b"
)


def is_thanks(text: str | None) -> bool:
    """The whole message is a thank-you."""
    return normalise(text or "") in THANKS


def classify(text: str | None) -> Intent:
    """The intent of one customer message; ``None`` (a non-text message) is ``other``."""
    if not text:
        return "other"
    words = normalise(text)
    if not words:
        return "question" if "?" in text else "other"
    ask = read_data_ask(text)
    if ask is not None:
        if ask.mode != "request":
            return "data_question"
        return "opt_out" if ask.topic == "opt_out" else "data_request"
    if _HUMAN.search(words) or without_politeness(words) in _HUMAN_WORDS:
        return "human_request"
    if _COMPLAINT.search(words):
        return "complaint"
    if _ORDER.search(words):
        return "order_status"
    if words in _GREETINGS or words in THANKS:
        return "greeting"
    stripped = text.strip()
    if stripped.endswith("?") or stripped.startswith("¿") or _QUESTION_START.match(words):
        return "question"
    return "other"


def data_request_kind(text: str | None) -> DataRequestKind:
    """Erasure when the message's topic is erasure; otherwise export, which is reversible."""
    ask = read_data_ask(text)
    return "erasure" if ask is not None and ask.topic == "erasure" else "export"
