"""Send one action's requests to its provider: in order, with retries, at most once per step.

For every step, in this order:

1. skip it if the delivery log already holds it (sent before a restart or a redelivery);
2. send it, retrying timeouts, connection errors, 408/425/429 and 5xx with backoff or the
   provider's ``Retry-After``, up to ``retries`` more times;
3. record it in the delivery log, and only then start the next step.

The caller commits the action's Kafka offset only after ``send`` returns. A crash between
2 and 3 sends that one step again on redelivery: delivery is at least once per step, and
exactly once for every step that was recorded.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import structlog
from structlog.typing import FilteringBoundLogger

from sinks.outbound.deliveries import DeliveryLog, DeliveryResult
from sinks.outbound.policy import Delivered, NoAnswer, Refused, Retry, classify, wait_seconds
from sinks.outbound.requests import (
    Action,
    NotDeliverableError,
    OutboundRequest,
    Targets,
    build_requests,
    provider_message_id,
)
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def targets_from_settings(settings: Settings) -> Targets:
    return Targets(
        chatwoot_base_url=settings.chatwoot_base_url,
        chatwoot_api_token=settings.chatwoot_api_token.get_secret_value(),
        whatsapp_api_base_url=settings.whatsapp_api_base_url,
        whatsapp_access_token=settings.whatsapp_access_token.get_secret_value(),
        dialog360_api_base_url=settings.dialog360_api_base_url,
        dialog360_api_key=settings.dialog360_api_key.get_secret_value(),
    )


def outbound_client(settings: Settings) -> httpx.AsyncClient:
    """The HTTP client for provider APIs; close it (``async with``) when the worker stops."""
    return httpx.AsyncClient(
        timeout=settings.switchboard_delivery_timeout_seconds,
        follow_redirects=False,
        headers={"User-Agent": "switchboard"},
    )


class OutboundSender:
    def __init__(
        self,
        client: httpx.AsyncClient,
        targets: Targets,
        deliveries: DeliveryLog,
        *,
        retries: int = 5,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = _utcnow,
        jitter: random.Random | None = None,
    ) -> None:
        self.client = client
        self.targets = targets
        self.deliveries = deliveries
        self.max_attempts = retries + 1
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        client: httpx.AsyncClient,
        deliveries: DeliveryLog,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> OutboundSender:
        return cls(
            client,
            targets_from_settings(settings),
            deliveries,
            retries=settings.switchboard_delivery_retries,
            sleep=sleep,
        )

    async def send(self, action: Action) -> DeliveryResult:
        """Carry out every step of ``action`` not delivered before."""
        bound = log.bind(action_id=action.id, action_type=action.type)
        try:
            requests = build_requests(action, self.targets)
        except NotDeliverableError as exc:
            bound.error("outbound_not_deliverable", reason=exc.reason)
            return DeliveryResult.refused(exc.reason)
        done = await self.deliveries.done_steps(action.id) if requests else set()
        for request in requests:
            if request.step in done:
                bound.info("outbound_step_already_delivered", step=request.step)
                continue
            failure = await self._deliver(action.id, request, bound.bind(step=request.step))
            if failure is not None:
                return failure
        return DeliveryResult.delivered()

    async def _deliver(
        self, action_id: str, request: OutboundRequest, bound: FilteringBoundLogger
    ) -> DeliveryResult | None:
        """Send one step until it is accepted (then record it), refused, or out of attempts."""
        for attempt in range(1, self.max_attempts + 1):
            answer = await self._call(request)
            failed: Retry | Refused
            if isinstance(answer, httpx.Response):
                status_code: int | None = answer.status_code
                decision = classify(
                    answer.status_code, answer.headers.get("Retry-After"), now=self.clock()
                )
                if isinstance(decision, Delivered):
                    provider_id = provider_message_id(_json_or_none(answer))
                    await self.deliveries.record(
                        action_id, request.step, answer.status_code, provider_id
                    )
                    bound.info("outbound_step_delivered", status_code=status_code, attempt=attempt)
                    return None
                failed = decision
            else:
                status_code, failed = None, classify(answer, now=self.clock())
            context = {"status_code": status_code, "attempt": attempt, "reason": failed.reason}
            if isinstance(failed, Refused):
                bound.error("outbound_step_refused", **context)
                return DeliveryResult.refused(failed.reason, request.step)
            if attempt == self.max_attempts:
                bound.error("outbound_step_gave_up", **context)
                return DeliveryResult.gave_up(failed.reason, request.step)
            wait = wait_seconds(failed, attempt, self.jitter)
            bound.warning("outbound_step_retrying", wait_seconds=round(wait, 3), **context)
            await self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns")

    async def _call(self, request: OutboundRequest) -> httpx.Response | NoAnswer:
        try:
            return await self.client.request(
                request.method, request.url, headers=dict(request.headers), json=request.json
            )
        except httpx.TimeoutException:
            return "timeout"
        except httpx.TransportError:
            return "connection_error"


def _json_or_none(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None
