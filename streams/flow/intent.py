"""What a customer message is about, by deterministic rules. Pure.

Text is normalised first (accents folded, case folded, punctuation and emoji turned into
spaces), then rules are tried in order of how much is at stake: a data-protection request,
an opt-out, a request for a human, a complaint, an order, a greeting, a question. Opt-out
keywords such as STOP count only as the whole message or inside a clear phrase, so that
"can I stop by the store?" stays a question.
"""

from __future__ import annotations

import re
import unicodedata

from schemas.events import DataRequestKind, Intent

_POLITE = re.compile(
    r"\b(please|pls|plz|now|bitte|svp|s il vous plait|por favor|thanks|thank you|merci|danke"
    r"|gracias|obrigad[oa])\b"
)

# The whole message, once politeness is stripped: carrier-style opt-out keywords.
_OPT_OUT_WORDS = frozenset(
    {
        "stop",
        "stopp",
        "stoppen",
        "stop all",
        "stopall",
        "stop it",
        "unsubscribe",
        "unsub",
        "opt out",
        "optout",
        "cancel",
        "end",
        "quit",
        "arret",
        "arreter",
        "alto",
        "baja",
        "parar",
        "pare",
        "abmelden",
        "abbestellen",
        "cancelar",
        "desuscribir",
        "desinscribir",
        "desabonner",
        "desinscrire",
        "sair",
        "descadastrar",
    }
)

_OPT_OUT_PHRASES = re.compile(
    r"\bunsubscrib"
    r"|\bopt(ing)? ?out\b"
    r"|\bstop (sending|messaging|texting|contacting|writing to|spamming)\b"
    r"|\b(no more|don ?t send( me)?( any)?( more)?) (messages|marketing|promotions|offers"
    r"|newsletters?|texts)\b"
    r"|\bremove me from\b"
    r"|\b(keine (werbung|nachrichten) mehr|abmelden|abbestellen)\b"
    r"|\b(me )?desabonner\b|\bdesinscri"
    r"|\bne plus recevoir\b"
    r"|\bdar(me)? de baja\b|\bno (me )?(envien|manden) mas\b|\bcancelar (la |mi )?suscripcion\b"
    r"|\bcancelar (a |minha )?inscricao\b|\bdescadastr|\bnao quero (mais )?receber\b"
)

_MY_DATA = r"(my|all my|all of my|our|all our)( personal)? (data|information|info|details|records)"
_MY_ACCOUNT = rf"({_MY_DATA}|my (account|profile))"
_ERASURE = re.compile(
    rf"\b(delete|erase|remove|wipe|destroy|forget)( (all|everything|completely|permanently"
    rf"|entirely|please))*( (of|about))? {_MY_ACCOUNT}\b"
    r"|\b(delete|erase|remove|forget) (everything|all) (about|on) (me|us)\b"
    r"|\bright to (be forgotten|erasure)\b"
    r"|\b(losch\w*|loesch\w*|entfern\w*)\b.{0,30}\b(meine[rn]?|mein) (daten|konto|account|profil)\b"
    r"|\b(meine[rn]?|mein) (daten|konto|account|profil)\b.{0,30}\b(losch|loesch|entfern)"
    r"|\brecht auf (vergessen|loschung)"
    r"|\b(supprimer|effacer|supprimez|effacez)\b.{0,20}\b(mes donnees|mon compte|mon profil)\b"
    r"|\bdroit a l ?oubli\b|\bdroit a l ?effacement\b"
    r"|\b(borrar|eliminar|suprimir|borren|eliminen)\b.{0,20}\b(mis datos|mi cuenta|mi perfil)\b"
    r"|\bderecho al olvido\b|\bderecho de supresion\b"
    r"|\b(apagar|excluir|eliminar|deletar|apaguem|excluam)\b.{0,20}\b(meus dados|minha conta)\b"
    r"|\bdireito ao esquecimento\b"
)
_EXPORT = re.compile(
    rf"\b(export|download|a copy of|copy of|send me)( (all|of))* {_MY_DATA}\b"
    r"|\b(data subject|subject) access request\b|\bdsar\b|\bright of access\b"
    r"|\b(datenauskunft|auskunft uber meine daten|kopie meiner daten)\b"
    r"|\bmeine daten (exportieren|herunterladen)\b"
    r"|\b(exporter|telecharger)\b.{0,20}\bmes donnees\b|\bcopie de mes donnees\b"
    r"|\bexportar (mis datos|meus dados)\b|\bcopia de mis datos\b|\bcopia dos meus dados\b"
)
# A data-protection law counts when the message asks for something under it, or is only
# its name: "is your shop GDPR compliant?" is a question for the knowledge base.
_DATA_LAW = re.compile(r"\b(gdpr|dsgvo|rgpd|lgpd|ccpa)\b")
_DATA_LAW_REQUEST = re.compile(
    r"\b(request|requesting|demand|anfrage|antrag|demande|solicitud|solicito|pedido"
    r"|requisicao|my data|meine daten|mes donnees|mis datos|meus dados|art(icle|ikel)? 1[57])\b"
)

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
)

_ORDER = re.compile(
    r"\b(order|orders|ordered|tracking|track|parcel|package|delivery|deliveries|delivered"
    r"|shipment|shipped|dispatch\w*)\b"
    r"|\bwhere is my\b"
    r"|\b(bestellung|sendung|lieferung|paket|sendungsverfolgung)\b"
    r"|\b(commande|colis|livraison|suivi)\b"
    r"|\b(pedido|paquete|envio|entrega|seguimiento)\b"
    r"|\b(encomenda|rastreamento|rastreio)\b"
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
    }
)

_QUESTION_START = re.compile(
    r"^(what|whats|when|where|which|who|whom|whose|why|how|can|could|do|does|did|is|are|was"
    r"|will|would|should|may|might|have|has|any"
    r"|wie|was|wo|wann|warum|welche\w*|kann|konnen|gibt es|habt|haben sie"
    r"|comment|pourquoi|quand|combien|quel\w*|est ce|puis je|pouvez"
    r"|como|que|donde|cuando|cuanto\w*|cual\w*|por que|puedo|pueden|tienen|hay"
    r"|onde|quando|quanto\w*|qual|posso|voces)\b"
)


def normalise(text: str) -> str:
    """Accent-folded, case-folded words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def _without_politeness(words: str) -> str:
    return " ".join(_POLITE.sub(" ", words).split())


def _is_data_request(words: str) -> bool:
    if _ERASURE.search(words) or _EXPORT.search(words):
        return True
    return _DATA_LAW.search(words) is not None and (
        _DATA_LAW_REQUEST.search(words) is not None or _DATA_LAW.fullmatch(words) is not None
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
    if _is_data_request(words):
        return "data_request"
    if _without_politeness(words) in _OPT_OUT_WORDS or _OPT_OUT_PHRASES.search(words):
        return "opt_out"
    if _HUMAN.search(words) or _without_politeness(words) in _HUMAN_WORDS:
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
    """Erasure when the message asks for deletion; otherwise export, which is reversible."""
    words = normalise(text or "")
    if _ERASURE.search(words):
        return "erasure"
    return "export"
