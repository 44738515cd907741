"""A contact's consent and how a consent event changes it. Pure: no Faust, no database.

One record per contact in the ``consent`` table: for each type (marketing, analytics,
communication) whether it is granted, since when and who recorded it. ``revision`` counts
the changes, so that a reader fed from two paths (the table's changelog and the agent that
writes it) can tell an older copy from a newer one.

Defaults, when nothing was ever recorded for a type: a customer who writes to us may be
answered (communication), but marketing and analytics need an explicit grant.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.events import ConsentChanged, ConsentType, plain

# What holds when a type was never recorded.
DEFAULTS: dict[ConsentType, bool] = {
    "communication": True,
    "marketing": False,
    "analytics": False,
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Grant(_Frozen):
    """One type's current state: the last change recorded for it."""

    granted: bool
    since: AwareDatetime
    origin: str
    event_id: str


class ConsentState(_Frozen):
    revision: int = 0
    grants: dict[ConsentType, Grant] = Field(default_factory=dict)

    def granted(self, consent_type: ConsentType) -> bool:
        grant = self.grants.get(consent_type)
        return DEFAULTS[consent_type] if grant is None else grant.granted

    def recorded(self, consent_type: ConsentType) -> bool | None:
        """The recorded answer, or None when the contact never gave one."""
        grant = self.grants.get(consent_type)
        return None if grant is None else grant.granted


def changed(state: ConsentState, event: ConsentChanged) -> ConsentState | None:
    """The state after ``event``, or None when it changes nothing.

    The latest event by its own time wins, so a redelivered or late older event never
    overrides a newer one; the same event twice is a no-op.
    """
    data = event.data
    current = state.grants.get(data.consent_type)
    if current is not None and (current.event_id == event.id or current.since > event.time):
        return None
    grant = Grant(granted=data.granted, since=event.time, origin=data.origin, event_id=event.id)
    grants = {**state.grants, data.consent_type: grant}
    return ConsentState(revision=state.revision + 1, grants=grants)


def load(stored: Any) -> ConsentState:
    """A table value (JSON) as a state; nothing stored is the default state."""
    return ConsentState.model_validate(stored) if stored else ConsentState()


def dump(state: ConsentState) -> dict[str, Any]:
    return state.model_dump(mode="json")


# --- decisions -------------------------------------------------------------------------


def may_reply(state: ConsentState) -> bool:
    """Whether the bot may write to the contact at all."""
    return state.granted("communication")


def may_send_marketing(state: ConsentState) -> bool:
    """Marketing content only with an explicit marketing grant, and while we may write."""
    return may_reply(state) and state.recorded("marketing") is True


# --- the history row ------------------------------------------------------------------


def record_source(event: ConsentChanged) -> str:
    """Who recorded the change: the provider by name, else the origin (api, cli, flow)."""
    return event.source if event.data.origin == "provider" else event.data.origin


def ip_address(raw: str | None) -> str | None:
    """A valid IPv4/IPv6 address, normalised; anything else is not stored."""
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def record_row(event: ConsentChanged) -> tuple[str, str, str, bool, str, str, str | None, datetime]:
    """The ``consent_records`` row for a change:
    (event_id, contact_id, consent_type, granted, source, reason, ip_address, occurred_at)."""
    data = event.data
    return (
        event.id,
        data.contact_id,
        data.consent_type,
        data.granted,
        record_source(event),
        data.reason,
        ip_address(plain(data.personal).ip_address),
        event.time,
    )
