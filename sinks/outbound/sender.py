"""Send one action's requests to its provider: in order, one attempt a step, once per step.

For every step, in this order:

1. skip it if the delivery log holds it as delivered (sent before a restart, a redelivery,
   or an earlier round);
2. if the log holds it as ``attempting``, an earlier attempt may have reached the provider
   without its answer being recorded (a process that died, a timeout, a 502 from a proxy):
   settle that first (see below);
3. mark it ``attempting`` in the log, then send it once;
4. record it as delivered, and only then start the next step.

A step that fails in a way worth another try (timeouts, connection errors, 408/425/429 and
5xx) ends the round: ``send`` raises `FailedRound` (a `RetryLater`, carrying the provider's
``Retry-After``), and the deliver record's policy (`switchboard.retrying.until_done`, the
``delivery`` backoff) sends the action again, which skips the steps delivered so far. That
policy is the only retry of a provider failure. An attempt that cannot have reached the
provider (no connection, or an answer other than 502/504) is marked ``not_sent``, so the
next round does not take it for one in doubt.

The caller commits the action's Kafka offset only after ``send`` returns.

Settling a step in doubt (2.):

* Chatwoot messages carry their ``{action_id}:{step}`` marker in ``content_attributes``; the
  sender lists the conversation's messages, newest first, back to a few minutes before the
  step's last attempt. Found: the step is recorded as delivered with that message's id, and
  not sent. Not found: it is sent. Listing needs a Chatwoot user token
  (``CHATWOOT_ADMIN_TOKEN``), since upstream Chatwoot lets agent-bot tokens only create
  messages; if the listing is refused (401/403/404) or unreadable, the step is sent again:
  at least once. A listing that fails (timeouts, 5xx) fails the round like a send, leaving
  the step in doubt for the next round.
* ``toggle_status`` is idempotent: it is simply sent again.
* WhatsApp (Cloud API, 360dialog) cannot list sent messages: the step is sent again (at
  least once) and ``outbound_step_ambiguous_resent`` is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx
import structlog
from structlog.typing import FilteringBoundLogger

from schemas.outbound import DeliveryResult, Destination
from sinks.outbound.deliveries import DeliveryLog, StepRecord
from sinks.outbound.guard import Guard, destination_of
from sinks.outbound.policy import Delivered, NoAnswer, Refused, Retry, classify
from sinks.outbound.requests import (
    Action,
    MessageLookup,
    NotDeliverableError,
    OutboundRequest,
    Targets,
    build_requests,
    provider_message_id,
    read_message_page,
)
from switchboard.retrying import RetryLater

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]

# How far before a step's last attempt its message may carry Chatwoot's timestamp: the two
# clocks differ, and Chatwoot's created_at is whole seconds.
LOOKUP_MARGIN = timedelta(minutes=5)
# Pages of 20 messages listed at most before the step is taken as not found.
LOOKUP_MAX_PAGES = 10
# Chatwoot's page size (MessageFinder): a shorter page is the conversation's first.
CHATWOOT_PAGE_SIZE = 20
# Answers from a proxy that lost the provider's answer: the provider may have acted.
_AMBIGUOUS_STATUSES = frozenset({502, 504})
# A listing refused for good: no permission (bot token), or nothing to list. Send again.
_LOOKUP_REFUSED = frozenset({401, 403, 404})


def _utcnow() -> datetime:
    return datetime.now(UTC)


def outbound_client(timeout_seconds: float) -> httpx.AsyncClient:
    """The HTTP client for provider APIs; close it (``async with``) when the worker stops."""
    return httpx.AsyncClient(
        timeout=timeout_seconds,
        follow_redirects=False,
        headers={"User-Agent": "switchboard"},
    )


@dataclass(frozen=True)
class _Found:
    """The provider holds the step's message; ``provider_id`` is its id there."""

    provider_id: str | None


# The provider does not hold it, or cannot tell us (the step must be sent either way).
_Absent = Literal["not_found", "unavailable"]


class FailedRound(RetryLater):
    """A step failed in a way the provider may accept when tried again (a `Retry` decision):
    the round ends here, and the record's policy sends the action again, after the
    provider's ``Retry-After`` when it gave one. ``step`` and ``status_code`` are for logs."""

    def __init__(self, decision: Retry, step: str, status_code: int | None) -> None:
        super().__init__(decision.reason, decision.after_seconds)
        self.step = step
        self.status_code = status_code


@dataclass(frozen=True)
class _Step:
    """One step of an action in this round: whether the provider must be asked first (an
    earlier attempt may have got through), and since when."""

    action_id: str
    request: OutboundRequest
    bound: FilteringBoundLogger
    in_doubt: bool
    since: datetime | None


class OutboundSender:
    def __init__(
        self,
        client: httpx.AsyncClient,
        targets: Targets,
        deliveries: DeliveryLog,
        *,
        clock: Clock = _utcnow,
        guard: Guard | None = None,
    ) -> None:
        self.client = client
        # Each destination's circuit and rate limit; without one, calls go when they come.
        self.guard = guard
        self.targets = targets
        self.deliveries = deliveries
        self.clock = clock

    async def send(self, action: Action) -> DeliveryResult:
        """One round: every step of ``action`` not delivered before, each tried once.

        Raises `FailedRound` when a step should be tried again; the steps before it stay
        delivered, so the next round starts at that step."""
        bound = log.bind(action_id=action.id, action_type=action.type)
        try:
            requests = build_requests(action, self.targets)
        except NotDeliverableError as exc:
            bound.error("outbound_not_deliverable", reason=exc.reason)
            return DeliveryResult.refused(exc.reason)
        records = await self.deliveries.steps(action.id) if requests else {}
        destination = destination_of(action)
        for request in requests:
            step_log = bound.bind(step=request.step)
            record = records.get(request.step)
            if record is not None and record.delivered:
                step_log.info("outbound_step_already_delivered")
                continue
            in_doubt = record is not None and self._in_doubt(request, record, step_log)
            since = record.attempted_at if record is not None else None
            step = _Step(action.id, request, step_log, in_doubt, since)
            refusal = await self._attempt(step, destination)
            if refusal is not None:
                return refusal
        return DeliveryResult.delivered()

    def _in_doubt(
        self, request: OutboundRequest, record: StepRecord, bound: FilteringBoundLogger
    ) -> bool:
        """A step left ``attempting``: True when the provider must be asked before sending."""
        if request.lookup is not None:
            bound.info("outbound_step_in_doubt", attempted_at=_iso(record.attempted_at))
            return True
        if request.idempotent:
            bound.info("outbound_step_idempotent_resent", attempted_at=_iso(record.attempted_at))
        else:
            bound.warning("outbound_step_ambiguous_resent", attempted_at=_iso(record.attempted_at))
        return False

    async def _attempt(self, step: _Step, destination: Destination) -> DeliveryResult | None:
        """One attempt at a step: None once delivered, a refusal, or `FailedRound`.

        While the step is in doubt, the provider is first asked for its message, going back
        to the step's last attempt; a step it cannot be asked about is sent again."""
        request, bound, lookup = step.request, step.bound, step.request.lookup
        if step.in_doubt and lookup is not None:
            await self._admit(destination)
            looked = await self._look_up(lookup, step.since, bound)
            self._answered(destination, not isinstance(looked, Retry), looked)
            if isinstance(looked, Retry):
                raise self._failed(step, looked, None)
            if isinstance(looked, _Found):
                await self.deliveries.record(step.action_id, request.step, None, looked.provider_id)
                bound.info("outbound_step_found_at_provider")
                return None
            if looked == "unavailable":
                bound.warning("outbound_step_ambiguous_resent")
        await self.deliveries.attempting(step.action_id, request.step)
        await self._admit(destination)
        answer = await self._call(request)
        decision, status_code, maybe_sent = self._judge(answer)
        self._answered(destination, not isinstance(decision, Retry), decision)
        if isinstance(decision, Delivered):
            body = _json_or_none(answer) if isinstance(answer, httpx.Response) else None
            provider_id = provider_message_id(body)
            await self.deliveries.record(step.action_id, request.step, status_code, provider_id)
            bound.info("outbound_step_delivered", status_code=status_code)
            return None
        if not maybe_sent:
            await self.deliveries.not_sent(step.action_id, request.step)
        if isinstance(decision, Refused):
            bound.error("outbound_step_refused", status_code=status_code, reason=decision.reason)
            return DeliveryResult.refused(decision.reason, request.step)
        raise self._failed(step, decision, status_code)

    def _judge(
        self, answer: httpx.Response | tuple[NoAnswer, bool]
    ) -> tuple[Delivered | Retry | Refused, int | None, bool]:
        """The decision on an answer, its status code, and whether the provider may have
        acted on the request although it did not accept it (a proxy's 502/504, a lost answer)."""
        if isinstance(answer, httpx.Response):
            retry_after = answer.headers.get("Retry-After")
            decision = classify(answer.status_code, retry_after, now=self.clock())
            return decision, answer.status_code, answer.status_code in _AMBIGUOUS_STATUSES
        reason, maybe_sent = answer
        return classify(reason, now=self.clock()), None, maybe_sent

    @staticmethod
    def _failed(step: _Step, decision: Retry, status_code: int | None) -> FailedRound:
        # Ids and codes only: the provider's answer may quote the message.
        step.bound.warning(
            "outbound_step_failed",
            status_code=status_code,
            reason=decision.reason,
            retry_after=decision.after_seconds,
        )
        return FailedRound(decision, step.request.step, status_code)

    async def _admit(self, destination: Destination) -> None:
        if self.guard is not None:
            await self.guard.admit(destination)

    def _answered(self, destination: Destination, ok: bool, outcome: object) -> None:
        if self.guard is not None:
            hint = outcome.after_seconds if isinstance(outcome, Retry) else None
            self.guard.answered(destination, ok, hint)

    async def _look_up(
        self, lookup: MessageLookup, since: datetime | None, bound: FilteringBoundLogger
    ) -> _Found | _Absent | Retry:
        """Page back through the conversation's messages for the one carrying the marker.

        Stops at a page older than ``since`` (less the clock margin), at the first page of the
        conversation, or after ``LOOKUP_MAX_PAGES``. A ``Retry`` means: ask again later."""
        oldest = None if since is None else (since - LOOKUP_MARGIN).timestamp()
        before: int | None = None
        for _ in range(LOOKUP_MAX_PAGES):
            params = {} if before is None else {"before": before}
            try:
                answer = await self.client.get(
                    lookup.url, headers=dict(lookup.headers), params=params
                )
            except httpx.TimeoutException:
                return Retry("lookup_timeout")
            except httpx.TransportError:
                return Retry("lookup_connection_error")
            if not answer.is_success:
                decision = classify(
                    answer.status_code, answer.headers.get("Retry-After"), now=self.clock()
                )
                if isinstance(decision, Retry) and answer.status_code not in _LOOKUP_REFUSED:
                    return Retry(f"lookup_{decision.reason}", decision.after_seconds)
                bound.warning("outbound_lookup_refused", status_code=answer.status_code)
                return "unavailable"
            page = read_message_page(_json_or_none(answer), lookup.marker)
            if page is None:
                bound.warning("outbound_lookup_unreadable", status_code=answer.status_code)
                return "unavailable"
            if page.found:
                return _Found(page.found_id)
            if (
                page.size < CHATWOOT_PAGE_SIZE
                or page.oldest_id is None
                or (oldest is not None and (page.oldest_created_at or 0) < oldest)
            ):
                bound.info("outbound_step_not_found_at_provider")
                return "not_found"
            before = page.oldest_id
        bound.warning("outbound_lookup_incomplete", pages=LOOKUP_MAX_PAGES)
        return "unavailable"

    async def _call(self, request: OutboundRequest) -> httpx.Response | tuple[NoAnswer, bool]:
        """The provider's answer; or why none came, and whether the request may have
        reached the provider all the same (anything but failing to connect)."""
        try:
            return await self.client.request(
                request.method, request.url, headers=dict(request.headers), json=request.json
            )
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            return "timeout", False
        except httpx.TimeoutException:
            return "timeout", True
        except httpx.ConnectError:
            return "connection_error", False
        except httpx.TransportError:
            return "connection_error", True


def _json_or_none(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
