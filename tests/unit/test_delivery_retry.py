"""A provider failure is retried at one level: the record's policy.

The sender tries each step once a round; a round that fails raises `RetryLater` (with the
provider's ``Retry-After`` when it gave one), which ``Deliveries.handle`` lets through, and
the deliver record's policy sends the action again, with the delivery backoff, until it is
delivered or refused. Nothing it asks for is reported to Sentry: a provider being down is
not an error of ours."""

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
    """Answers each round with the next of its script: a result, or a failure to raise."""

    def __init__(self, *rounds: DeliveryResult | RetryLater) -> None:
        self.rounds = list(rounds)
        self.sent = 0

    async def send(self, action: object) -> DeliveryResult:
        self.sent += 1
        answer = self.rounds.pop(0)
        if isinstance(answer, RetryLater):
            raise answer
        return answer


class Pauses:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def deliveries(sender: ScriptedSender, dead_letters: AsyncMock | None = None) -> Deliveries:
    letters = cast("DeadLetters", dead_letters or AsyncMock())
    return Deliveries(sender, AsyncMock(), letters, clock=lambda: 1_700_000_000.0)


async def test_a_failed_round_is_not_retried_inside_handle() -> None:
    sender = ScriptedSender(RetryLater("http_503"))
    with pytest.raises(RetryLater, match="http_503"):
        await deliveries(sender).handle(reply("whatsapp-cloud"), cast("Any", None))
    assert sender.sent == 1


async def test_the_records_policy_sends_again_until_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reported: list[object] = []
    monkeypatch.setattr(retrying, "capture", lambda exc, **tags: reported.append(exc))
    sender = ScriptedSender(
        RetryLater("http_503"),
        RetryLater("http_429", after_seconds=7.0),
        DeliveryResult.delivered(),
    )
    pauses = Pauses()
    policy = until_done("deliver", "delivery", sleep=pauses)
    await policy(deliveries(sender).handle, reply("whatsapp-cloud"), cast("Any", None))
    assert sender.sent == 3
    first = retrying.backoff("delivery")
    assert first.base / 2 <= pauses.waits[0] <= first.base
    assert pauses.waits[1] == 7.0  # the provider's Retry-After, not the backoff
    assert reported == []


async def test_a_refusal_is_dead_lettered_not_retried() -> None:
    letters = AsyncMock()
    sender = ScriptedSender(DeliveryResult.refused("http_400", "reply"))
    await deliveries(sender, letters).handle(reply("whatsapp-cloud"), cast("Any", None))
    assert sender.sent == 1
    letters.send.assert_awaited_once_with(None, "delivery_refused:http_400")
