"""The audit trail (``audit_log``): who did what, when, and how it ended.

An entry names an actor (an API key id, ``cli:<user>`` or ``signed-link``), an action
from a fixed vocabulary, the pseudonymous contact id at most, and an outcome. Details are
ids of our own making (export or deletion ids, the scope that was missing), never what a
caller sent as a contact, which may be a phone number. Refusals anyone can cause are not
entries but counts (``audit_refusals``, see `ingest.compliance.refusals`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import structlog

from ingest.compliance.ports import Connections
from ingest.compliance.refusals import RefusalCount

log = structlog.get_logger(__name__)

Action = Literal[
    "consent.record",
    "export.request",
    "export.status",
    "export.download",
    "erasure.request",
    "deletion.status",
    "apikey.create",
    "apikey.revoke",
]


_OUR_ID = re.compile(r"^(exp|del|key)_[0-9a-f]{16,32}$")


def is_our_id(value: str) -> bool:
    """Whether ``value`` is shaped like an id we issue (export, deletion, key)."""
    return _OUR_ID.match(value) is not None


def our_id(value: str) -> str:
    """An id a caller sent, for the audit detail, only if it is shaped like one we issue:
    anything else could be text a caller typed."""
    return value if is_our_id(value) else "unrecognised"


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: Action
    outcome: str
    subject: str | None = None
    detail: dict[str, str] = field(default_factory=dict)


class AuditTrail(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...


class PostgresAuditTrail:
    def __init__(self, database: Connections) -> None:
        self.database = database

    async def record(self, entry: AuditEntry) -> None:
        """Write the entry; an audit write that fails is logged loudly, the answer stands
        (what was done, such as an event appended, cannot be taken back)."""
        try:
            async with self.database.connection() as conn:
                await conn.execute(
                    "INSERT INTO audit_log (actor, action, subject, outcome, detail)"
                    " VALUES ($1, $2, $3, $4, $5::jsonb)",
                    entry.actor,
                    entry.action,
                    entry.subject,
                    entry.outcome,
                    json.dumps(entry.detail),
                )
        except Exception as exc:
            log.error(  # noqa: TRY400 - the traceback could quote personal data
                "audit_write_failed",
                action=entry.action,
                outcome=entry.outcome,
                error=type(exc).__name__,
            )


class PostgresRefusalLog:
    """Counted refusals (`ingest.compliance.refusals`) into ``audit_refusals``: one row per
    window, endpoint, reason and key, which later writes of the same window add to (several
    ingest processes count into the same windows)."""

    def __init__(self, database: Connections) -> None:
        self.database = database

    async def write(self, counts: Sequence[RefusalCount]) -> None:
        async with self.database.connection() as conn:
            await conn.execute(
                "INSERT INTO audit_refusals (window_start, endpoint, reason, key_id, attempts)"
                " SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[],"
                " $5::bigint[])"
                " ON CONFLICT (window_start, endpoint, reason, key_id)"
                " DO UPDATE SET attempts = audit_refusals.attempts + EXCLUDED.attempts",
                [c.window_start for c in counts],
                [c.endpoint for c in counts],
                [c.reason for c in counts],
                [c.key_id for c in counts],
                [c.attempts for c in counts],
            )
