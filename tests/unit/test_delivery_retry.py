"""A delivery is retried at one level: the sender's attempts, then the record's policy.

The sender spends its own retries on one send; when it gives up, ``Deliveries.handle``
raises `RetryLater` instead of looping, and the deliver record's policy sends the action
again, with the delivery backoff, until it is delivered or refused. Nothing it asks for is
reported to Sentry: a provider being down is not an error of ours."""

from __future__ import annotations

from typing import Any, cast
from unittest.mock import AsyncMock

import pytest

from schemas.outbound import DeliveryResult
from streams.delivery import Deliveries
from streams.runtime.dead_letter import DeadLetters
from switchboard import retrying
from switchboard.retrying import RetryLater, until_done
from tests.fakes.outbound_actions import reply


class ScriptedSender:
    """Answers each send with the next result of its script."""

    def __init__(self, *results: DeliveryResult) -> None:
        self.results = list(results)
        self.sent = 0

    async def send(self, action: object) -> DeliveryResult:
        self.sent += 1
        return self.results.pop(0)


class Pauses:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def deliveries(sender: ScriptedSender, dead_letters: AsyncMock | None = None) -> Deliveries:
    letters = cast("DeadLetters", dead_letters or AsyncMock())
    return Deliveries(sender, AsyncMock(), letters, clock=lambda: 1_700_000_000.0)


async def test_a_sender_that_gave_up_is_not_retried_inside_handle() -> None:
    sender = ScriptedSender(DeliveryResult.gave_up("http_503", "reply"))
    with pytest.raises(RetryLater, match="http_503"):
        await deliveries(sender).handle(reply("whatsapp-cloud"), cast("Any", None))
    assert sender.sent == 1


async def test_the_records_policy_sends_again_until_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reported: list[object] = []
    monkeypatch.setattr(retrying, "capture", lambda exc, **tags: reported.append(exc))
    sender = ScriptedSender(
        DeliveryResult.gave_up("http_503", "reply"),
        DeliveryResult.gave_up("timeout", "reply"),
        DeliveryResult.delivered(),
    )
    pauses = Pauses()
    policy = until_done("deliver", "delivery", sleep=pauses)
    await policy(deliveries(sender).handle, reply("whatsapp-cloud"), cast("Any", None))
    assert sender.sent == 3
    first = retrying.backoff("delivery")
    assert first.base / 2 <= pauses.waits[0] <= first.base
    assert reported == []


async def test_a_refusal_is_dead_lettered_not_retried() -> None:
    letters = AsyncMock()
    sender = ScriptedSender(DeliveryResult.refused("http_400", "reply"))
    await deliveries(sender, letters).handle(reply("whatsapp-cloud"), cast("Any", None))
    assert sender.sent == 1
    letters.send.assert_awaited_once_with(None, "delivery_refused:http_400")
