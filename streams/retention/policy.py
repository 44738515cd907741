"""What a retention run removes, decided from plain facts and a clock. Pure.

Policies come from ``data_retention_policies`` (category → days). A record is past its
policy when it is *more* than that many days old: one exactly N days old is kept, so a
run at any moment of the day never removes something younger than the policy says.

- contacts: erased (through the same erasure path as a customer's request) when their
  last interaction is past the ``contacts`` policy, unless an erasure requested at or
  after that interaction already exists;
- conversations: dropped when their last message is past the ``conversations`` policy,
  unless their contact is being erased (the erasure removes them);
- consent records: deleted when past the ``consent_records`` policy;
- analytics: there is no analytics store yet, so nothing is ever removed for it.

A category without a policy row is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

CONTACTS = "contacts"
CONVERSATIONS = "conversations"
CONSENT_RECORDS = "consent_records"
ANALYTICS = "analytics"
CATEGORIES = (CONTACTS, CONVERSATIONS, CONSENT_RECORDS, ANALYTICS)


@dataclass(frozen=True)
class ContactFact:
    contact_id: str
    last_interaction_at: datetime
    # The latest erasure requested for this contact, if any, and whether one is unfinished.
    erasure_requested_at: datetime | None = None
    erasure_unfinished: bool = False


@dataclass(frozen=True)
class ConversationFact:
    conversation_key: str
    contact_id: str
    last_message_at: datetime


@dataclass(frozen=True)
class ConsentFact:
    event_id: str
    contact_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class RetentionPlan:
    erase_contacts: tuple[str, ...] = ()
    drop_conversations: tuple[ConversationFact, ...] = ()
    delete_consent_records: tuple[str, ...] = ()
    # Always 0: there is no analytics store yet.
    analytics: int = 0

    def counts(self) -> dict[str, int]:
        return {
            CONTACTS: len(self.erase_contacts),
            CONVERSATIONS: len(self.drop_conversations),
            CONSENT_RECORDS: len(self.delete_consent_records),
            ANALYTICS: self.analytics,
        }


def cutoff(policies: Mapping[str, int], category: str, now: datetime) -> datetime | None:
    """Anything older than this is past the category's policy; None: no policy, keep all."""
    days = policies.get(category)
    if days is None:
        return None
    return now - timedelta(days=days)


def _past(at: datetime, limit: datetime | None) -> bool:
    return limit is not None and at < limit


def _already_erased(fact: ContactFact) -> bool:
    requested = fact.erasure_requested_at
    return requested is not None and requested >= fact.last_interaction_at


def plan(
    policies: Mapping[str, int],
    now: datetime,
    contacts: Iterable[ContactFact] = (),
    conversations: Iterable[ConversationFact] = (),
    consents: Iterable[ConsentFact] = (),
) -> RetentionPlan:
    """Exactly what a run at ``now`` removes. Sorted, so a plan is reproducible."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    contact_limit = cutoff(policies, CONTACTS, now)
    contact_facts = list(contacts)
    erase = sorted(
        f.contact_id
        for f in contact_facts
        if _past(f.last_interaction_at, contact_limit) and not _already_erased(f)
    )
    # Conversations of contacts on their way out go with the erasure, not on their own.
    erasing = set(erase) | {f.contact_id for f in contact_facts if f.erasure_unfinished}
    conversation_limit = cutoff(policies, CONVERSATIONS, now)
    drop = sorted(
        (
            c
            for c in conversations
            if _past(c.last_message_at, conversation_limit) and c.contact_id not in erasing
        ),
        key=lambda c: c.conversation_key,
    )
    consent_limit = cutoff(policies, CONSENT_RECORDS, now)
    consent = sorted(c.event_id for c in consents if _past(c.occurred_at, consent_limit))
    return RetentionPlan(tuple(erase), tuple(drop), tuple(consent))
