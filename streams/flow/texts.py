"""Everything the bot says to a customer, in one place. Pure.

Each text is a promise, so each is kept next to the behaviour that makes it true, and
`tests/unit/test_customer_texts.py` lists every one of them with the test that shows it:
a text added here without a behaviour fails that test.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from schemas.events import DataRequestKind, HandoffReason

PRIVACY_ARTICLE = "“Your data and privacy”"

GREETING_REPLY = (
    "Hello! How can I help you today? You can ask me about orders, delivery, returns or our "
    "products, and ask for a colleague at any time."
)
THANKS_REPLY = "You're welcome! Is there anything else I can help you with?"
OPT_OUT_REPLY = (
    "Done: you won't receive marketing messages from us any more. If you write to us, "
    "we'll still answer here."
)
ALREADY_OPTED_OUT_REPLY = (
    "You're already unsubscribed from our marketing messages. If you write to us, we'll "
    "still answer here."
)

HANDOFF_REPLIES: Mapping[HandoffReason, str] = {
    "complaint": (
        "I'm sorry to hear that. I've passed your message to a colleague, who will get back "
        "to you here as soon as possible."
    ),
    "human_request": "Of course. A colleague will take over this conversation here shortly.",
    "low_confidence": (
        "I couldn't find that in our help articles. A colleague will follow up here shortly."
    ),
    # Communication consent is gone: the customer is not written to at all.
    "consent_withdrawn": "",
    "unverified_erasure_request": (
        "I can't delete personal data from this chat, because this channel doesn't let us "
        "confirm who you are. Nothing has been deleted. A colleague will contact you here to "
        "check your identity and take your request from there."
    ),
    "unverified_export_request": (
        "I can't send personal data from this chat, because this channel doesn't let us "
        "confirm who you are. A colleague will contact you here to check your identity and "
        "take your request from there."
    ),
    "export_failed": (
        "I'm sorry: we couldn't prepare the copy of your data. A colleague will follow up here."
    ),
}
DEFAULT_HANDOFF_REPLY = "Thanks for your message. A colleague will get back to you here shortly."


def handoff_text(reason: HandoffReason) -> str:
    return HANDOFF_REPLIES.get(reason, DEFAULT_HANDOFF_REPLY)


# --- data-protection requests in the chat -------------------------------------------------

# Answers to questions about the policy, and to negations ("don't delete my data"): how it
# works, and that nothing was done.
DATA_INFO_REPLIES: Mapping[str, str] = {
    "erasure": (
        "Nothing has been deleted. We keep your messages, contact details and orders for as "
        "long as the law requires, or until you ask us to delete them. If you ever want your "
        'personal data deleted, write "delete my data" here: I\'ll tell you exactly what '
        "will be deleted and ask you to confirm with a one-time code first. More in our help "
        f"article {PRIVACY_ARTICLE}."
    ),
    "export": (
        'You can get a copy of everything we hold about you: write "export my data" here '
        "and confirm with the one-time code I send you, and I'll send a download link to "
        "this chat when the copy is ready. Nothing has been requested yet. More in our help "
        f"article {PRIVACY_ARTICLE}."
    ),
    "opt_out": (
        "Nothing has changed. To stop marketing messages, reply STOP here at any time; you'll "
        "still get messages about your orders, and we'll still answer when you write to us. "
        f"More in our help article {PRIVACY_ARTICLE}."
    ),
}


def erasure_prompt(code: str, minutes: int) -> str:
    return (
        "You asked us to delete your personal data. This permanently deletes our copies of "
        "your messages and our replies, your contact details, your consent choices and any "
        "copies of your data we prepared for you. It cannot be undone.\n\n"
        f"To confirm, reply with the code {code} within {minutes} minutes. Any other reply "
        "cancels the request."
    )


def export_prompt(code: str, minutes: int, link_days: int) -> str:
    return (
        "You asked for a copy of your personal data. I'll send a download link to this chat "
        f"when it is ready; anyone with the link can open it for {link_days} days.\n\n"
        f"To confirm, reply with the code {code} within {minutes} minutes. Any other reply "
        "cancels the request."
    )


def erasure_confirmed(reference: str) -> str:
    return (
        "Confirmed. We are now deleting your personal data (reference "
        f"{reference}). This is the last message you will get from us about it: once it is "
        "done we no longer have your number or your messages, so we can't write to you "
        "about it. Keep the reference if you want to ask us about this request later."
    )


def export_confirmed(reference: str) -> str:
    return (
        f"Confirmed. We're preparing a copy of your personal data (reference {reference}). "
        "I'll send the download link here as soon as it is ready."
    )


def export_ready(url: str, expires_at: datetime) -> str:
    return (
        "Your copy of your personal data is ready. Download it here:\n"
        f"{url}\n\nThe link works until {expires_at:%d %B %Y, %H:%M} UTC. Anyone with the "
        "link can open it, so please don't share it."
    )


def wrong_code(kind: DataRequestKind) -> str:
    done = "nothing has been deleted" if kind == "erasure" else "no copy will be made"
    return (
        f"That code doesn't match, so {done} and the request is cancelled. If you still "
        "want it, ask again and I'll send you a new code."
    )


def code_expired(kind: DataRequestKind) -> str:
    done = "nothing has been deleted" if kind == "erasure" else "no copy will be made"
    return (
        f"The time to confirm ran out, so {done} and the request is cancelled. If you still "
        "want it, ask again and I'll send you a new code."
    )


def request_cancelled(kind: DataRequestKind) -> str:
    what = "delete your data" if kind == "erasure" else "send you a copy of your data"
    return f"I've cancelled your request to {what}: nothing has been done."
