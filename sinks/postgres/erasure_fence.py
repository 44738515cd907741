"""The fence between a contact's erasure and writes about them still in flight.

A record written before an erasure was requested can reach a sink after the erasure's
``postgres`` target ran: a reply the storage agent had not stored yet, a consent event still
on its way. Without a fence its row would outlive a completed erasure.

Every write about contacts takes a shared advisory lock per contact, in its own transaction,
and drops what happened at or before an erasure requested for that contact. The erasure's
deletion takes the same lock exclusively, so it waits for writes already under way (and
deletes what they wrote), and every write after it sees the deletion request and drops the
row. Events after the request (the contact writing again) are stored as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

# The first key of the two-key advisory locks: apart from every other lock of the database.
_NAMESPACE = 0x5EB0_E7A5 & 0x7FFF_FFFF

# Functions in FROM are lateral: one shared lock per contact, taken in the array's order.
_ENTER = """
SELECT c AS contact_id,
       (SELECT max(d.requested_at) FROM gdpr_deletions AS d WHERE d.contact_id = c) AS erased
FROM unnest($2::text[]) AS c, pg_advisory_xact_lock_shared($1, hashtext(c))
"""

_CLOSE = "SELECT pg_advisory_xact_lock($1, hashtext($2))"

Erased = Mapping[str, datetime]


async def enter(conn: Any, contacts: Iterable[str]) -> Erased:
    """Inside a write's transaction: hold off the erasure of these contacts until it
    commits, and say since when each erased one is forgotten."""
    ordered = sorted(set(contacts))  # one order for every writer
    if not ordered:
        return {}
    rows = await conn.fetch(_ENTER, _NAMESPACE, ordered)
    return {row["contact_id"]: row["erased"] for row in rows if row["erased"] is not None}


async def close(conn: Any, contact_id: str) -> None:
    """Inside the erasure's deletion transaction: wait for the contact's writes under way,
    and keep new ones out until it commits."""
    await conn.execute(_CLOSE, _NAMESPACE, contact_id)


def forgotten(erased: Erased, contact_id: str | None, at: datetime) -> bool:
    """True for what happened to a contact at or before their erasure was requested."""
    since = erased.get(contact_id) if contact_id is not None else None
    return since is not None and at <= since
