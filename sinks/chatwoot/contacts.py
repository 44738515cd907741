"""Anonymising a contact in Chatwoot, for erasure (see ``sinks/chatwoot/anonymise.py``).

Three requests, each safe to repeat: read the contact (to learn its custom attribute keys),
update it with anonymised fields and ``gdpr_deleted: true``, remove every other custom
attribute. A 404 at any point means the contact is gone already: nothing left to anonymise.
Each request is made once: a timeout, connection error, 408/425/429 or 5xx raises
`ChatwootContactError` with the reason and Chatwoot's ``Retry-After``, and the erasure's
plan (``streams/erasure/plan.py``, durable across restarts) is the one retry: it tries the
target again later, not before that ``Retry-After``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import structlog

from sinks.chatwoot.anonymise import anonymised, attributes_to_remove, contact_path
from sinks.outbound.policy import Delivered, Refused, Retry, classify

log = structlog.get_logger(__name__)

Result = Literal["anonymised", "gone"]

# A Retry-After over this is taken as this: the plan's own backoff grows past it anyway.
RETRY_AFTER_CAP_SECONDS = 300.0


class ChatwootContactError(Exception):
    """The contact could not be anonymised now; ``reason`` is e.g. ``http_500``, and
    ``after_seconds`` how long Chatwoot asked us to wait (its ``Retry-After``), if it did."""

    def __init__(self, reason: str, after_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after_seconds = after_seconds


class _GoneError(Exception):
    """Chatwoot answered 404: the contact does not exist (any more)."""


class ChatwootContacts:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        token: str | None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.token = token

    async def anonymise(self, account_id: int, contact_id: int) -> Result:
        if not self.token:
            raise ChatwootContactError("no_admin_token")
        path = contact_path(account_id, contact_id)
        try:
            current = await self._call("GET", path, None)
            await self._call("PUT", path, anonymised(contact_id))
            keys = attributes_to_remove(current)
            if keys:
                body = {"custom_attributes": keys}
                await self._call("POST", f"{path}/destroy_custom_attributes", body)
        except _GoneError:
            return "gone"
        return "anonymised"

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> object:
        """One request: its JSON when accepted; `ChatwootContactError` otherwise."""
        headers = {"api_access_token": self.token or "", "Content-Type": "application/json"}
        now = datetime.now(UTC)
        try:
            response = await self.client.request(
                method, f"{self.base_url}{path}", json=body, headers=headers
            )
        except httpx.TimeoutException:
            decision: Retry | Refused = classify("timeout", now=now)
        except httpx.TransportError:
            decision = classify("connection_error", now=now)
        else:
            if response.status_code == 404:
                raise _GoneError
            judged = classify(
                response.status_code,
                response.headers.get("Retry-After"),
                now=now,
                cap=RETRY_AFTER_CAP_SECONDS,
            )
            if isinstance(judged, Delivered):
                return _json(response)
            decision = judged
        log.warning("chatwoot_contact_failed", step=method, reason=decision.reason)
        after = decision.after_seconds if isinstance(decision, Retry) else None
        raise ChatwootContactError(decision.reason, after)


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None
