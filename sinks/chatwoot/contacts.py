"""Anonymising a contact in Chatwoot, for erasure (see ``sinks/chatwoot/anonymise.py``).

Three requests, each safe to repeat: read the contact (to learn its custom attribute keys),
update it with anonymised fields and ``gdpr_deleted: true``, remove every other custom
attribute. A 404 at any point means the contact is gone already: nothing left to anonymise.
Timeouts, connection errors, 408/425/429 and 5xx are retried a few times within the call
(honouring ``Retry-After``); what still fails raises `ChatwootContactError`, and the
erasure driver tries the target again later with a longer backoff.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import structlog

from sinks.chatwoot.anonymise import anonymised, attributes_to_remove, contact_path
from sinks.outbound.policy import Delivered, Refused, Retry, classify
from switchboard.retrying import RetryLater, backoff, retrying

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Result = Literal["anonymised", "gone"]

# Within one call; the driver retries the whole target after that, with its own backoff.
ATTEMPTS = 3
RETRY_AFTER_CAP_SECONDS = 5.0


class ChatwootContactError(Exception):
    """The contact could not be anonymised now; ``reason`` is e.g. ``http_500``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _GoneError(Exception):
    """Chatwoot answered 404: the contact does not exist (any more)."""


class ChatwootContacts:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        token: str | None,
        *,
        sleep: Sleep = asyncio.sleep,
        jitter: random.Random | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.sleep = sleep
        self.jitter = jitter

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
        policy = retrying(
            backoff("provider"),
            "chatwoot_contact",
            transient=lambda exc: isinstance(exc, RetryLater),
            attempts=ATTEMPTS,
            sleep=self.sleep,
            jitter=self.jitter,
            event="chatwoot_contact_retrying",
            step=method,
        )
        try:
            return await policy(self._once, method, path, body)
        except RetryLater as exc:
            log.warning("chatwoot_contact_failed", step=method, reason=exc.reason)
            raise ChatwootContactError(exc.reason) from None

    async def _once(self, method: str, path: str, body: dict[str, Any] | None) -> object:
        """One request: its JSON when accepted; `RetryLater` when worth another try."""
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
        if isinstance(decision, Refused):
            log.warning("chatwoot_contact_failed", step=method, reason=decision.reason)
            raise ChatwootContactError(decision.reason)
        raise RetryLater(decision.reason, decision.after_seconds)


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None
