"""The sender against the provider stand-ins, driven as the deliver agent drives it: rounds
sent again by the record's retry policy, refusals, steps sent at most once, and steps left in
doubt by a crash or a lost answer settled with the provider before they are sent again."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from schemas.events import HandoffRequested, ReplyRequested
from schemas.outbound import DeliveryResult
from sinks.outbound.deliveries import Delivery, InMemoryDeliveryLog, StepRecord
from sinks.outbound.guard import Guard
from sinks.outbound.requests import Targets, build_requests
from sinks.outbound.sender import LOOKUP_MARGIN, FailedRound, OutboundSender
from streams.bootstrap.outbound import outbound_sender
from streams.metrics.instruments import MeteredSender
from streams.metrics.registry import WorkerMetrics
from switchboard.retrying import backoff, retrying
from switchboard.settings import Settings
from switchboard.standins import StandInURLs, Tokens, run_standins
from switchboard.standins.chatwoot import chatwoot_app
from tests.fakes.outbound_actions import (
    BSUID,
    CHATWOOT_TOKEN,
    DIALOG360_KEY,
    PHONE,
    PHONE_NUMBER_ID,
    WHATSAPP_TOKEN,
    handoff,
    reply,
)


class Sleeps:
    """An injectable sleep that only remembers how long it was asked to wait."""

    def __init__(self) -> None:
        self.durations: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.durations.append(seconds)


class Clocked(Sleeps):
    """Sleeps that move a clock on by each wait, for the guard's cool-downs."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    async def __call__(self, seconds: float) -> None:
        await super().__call__(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def standins() -> Iterator[StandInURLs]:
    with run_standins(tokens=Tokens(CHATWOOT_TOKEN, WHATSAPP_TOKEN, DIALOG360_KEY)) as urls:
        yield urls


@pytest.fixture(autouse=True)
def _fresh_standins(standins: StandInURLs) -> None:
    for url in (standins.chatwoot, standins.graph, standins.dialog360):
        reset(url)


def targets(urls: StandInURLs, **overrides: str) -> Targets:
    values = {
        "chatwoot_base_url": urls.chatwoot,
        "chatwoot_api_token": CHATWOOT_TOKEN,
        "whatsapp_api_base_url": urls.whatsapp_api_base_url,
        "whatsapp_access_token": WHATSAPP_TOKEN,
        "dialog360_api_base_url": urls.dialog360,
        "dialog360_api_key": DIALOG360_KEY,
        **overrides,
    }
    return Targets(**values)


class Rounds:
    """The sender as the deliver agent drives it: one round, and while rounds fail, another
    under the record's retry policy (the delivery backoff, or the provider's Retry-After).
    The agent goes on until cancelled; here at most ``rounds``, the last failure raised, and
    the pauses recorded instead of slept."""

    def __init__(self, sender: OutboundSender, sleeps: Sleeps, rounds: int) -> None:
        self.sender, self.sleeps, self.rounds = sender, sleeps, rounds

    async def send(self, action: ReplyRequested | HandoffRequested) -> DeliveryResult:
        policy = retrying(backoff("delivery"), "deliver", attempts=self.rounds, sleep=self.sleeps)
        result: DeliveryResult = await policy(self.sender.send, action)
        return result


@asynccontextmanager
async def sender(
    to: Targets,
    deliveries: InMemoryDeliveryLog,
    sleeps: Sleeps,
    *,
    rounds: int = 6,
    client_timeout: float = 5.0,
    guard: Guard | None = None,
) -> AsyncIterator[Rounds]:
    async with httpx.AsyncClient(timeout=client_timeout) as client:
        yield Rounds(OutboundSender(client, to, deliveries, guard=guard), sleeps, rounds)


def reset(url: str) -> None:
    httpx.post(f"{url}/_standin/reset").raise_for_status()


def inject(url: str, **fault: Any) -> None:
    httpx.post(f"{url}/_standin/faults", json=fault).raise_for_status()


def received(url: str) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = httpx.get(f"{url}/_standin/requests").json()["requests"]
    return requests


def posts(url: str) -> list[dict[str, Any]]:
    """What the stand-in received, without the message listings (GETs)."""
    return [r for r in received(url) if r["method"] == "POST"]


def calls(url: str) -> list[tuple[str, str]]:
    """(method, last path segment) of each request the stand-in received."""
    return [(r["method"], r["path"].rsplit("/", 1)[1]) for r in received(url)]


def listed(urls: StandInURLs, conversation: int = 42) -> list[dict[str, Any]]:
    """Every message the Chatwoot stand-in holds in account 3's conversation, oldest first."""
    url = f"{urls.chatwoot}/api/v1/accounts/3/conversations/{conversation}/messages"
    headers = {"api_access_token": CHATWOOT_TOKEN}
    found: list[dict[str, Any]] = []
    before: dict[str, int] = {}
    while page := httpx.get(url, headers=headers, params=before).json()["payload"]:
        found = page + found
        before = {"before": page[0]["id"]}
    return found


def markers(urls: StandInURLs) -> list[str | None]:
    return [m["content_attributes"].get("switchboard_action") for m in listed(urls)]


def crashed_after_sending(
    to: Targets, action: ReplyRequested | HandoffRequested, step: str
) -> dict[str, Any]:
    """What a process that died between Chatwoot's answer and recording it left at Chatwoot:
    the step's message, posted exactly as the sender posts it."""
    [request] = [r for r in build_requests(action, to) if r.step == step]
    response = httpx.post(request.url, headers=dict(request.headers), json=request.json)
    response.raise_for_status()
    created: dict[str, Any] = response.json()
    return created


async def test_server_errors_are_retried_until_delivered(standins: StandInURLs) -> None:
    """Three 500s then a 200: four rounds of one request, one accepted message, one recorded
    delivery."""
    inject(standins.chatwoot, status=500, times=3)
    deliveries, sleeps = InMemoryDeliveryLog(), Sleeps()
    async with sender(targets(standins), deliveries, sleeps) as outbound:
        result = await outbound.send(reply("chatwoot", action_id="a-500"))
    assert result == DeliveryResult.delivered()
    attempts = received(standins.chatwoot)
    assert [a["status"] for a in attempts] == [500, 500, 500, 200]
    assert len(sleeps.durations) == 3
    [delivery] = deliveries.deliveries.values()
    assert delivery == Delivery("a-500", "reply", 200, delivery.provider_id)
    assert delivery.provider_id is not None
    assert delivery.provider_id.isdigit()


async def test_retry_after_from_a_429_is_respected(standins: StandInURLs) -> None:
    """A 429 with Retry-After: 2 makes the next round wait exactly 2 seconds."""
    inject(standins.graph, status=429, retry_after=2, times=1)
    sleeps = Sleeps()
    async with sender(targets(standins), InMemoryDeliveryLog(), sleeps) as outbound:
        result = await outbound.send(reply("whatsapp-cloud"))
    assert result.ok
    assert sleeps.durations == [2.0]
    assert [a["status"] for a in received(standins.graph)] == [429, 200]


async def test_retry_after_as_http_date_on_503_is_respected(standins: StandInURLs) -> None:
    """A 503 whose Retry-After is a date already passed retries at once."""
    inject(standins.dialog360, status=503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    sleeps = Sleeps()
    async with sender(targets(standins), InMemoryDeliveryLog(), sleeps) as outbound:
        result = await outbound.send(reply("360dialog"))
    assert result.ok
    assert sleeps.durations == [0.0]


async def test_client_error_is_refused_without_retry(standins: StandInURLs) -> None:
    """A 400 is refused at once: one request, no wait, nothing recorded."""
    inject(standins.graph, status=400)
    deliveries, sleeps = InMemoryDeliveryLog(), Sleeps()
    async with sender(targets(standins), deliveries, sleeps) as outbound:
        result = await outbound.send(reply("whatsapp-cloud"))
    assert result == DeliveryResult.refused("http_400", "reply")
    assert len(received(standins.graph)) == 1
    assert sleeps.durations == []
    assert deliveries.deliveries == {}


async def test_wrong_token_is_refused(standins: StandInURLs) -> None:
    """Chatwoot's own 401 for a bad api_access_token is a refusal, not a retry."""
    async with sender(
        targets(standins, chatwoot_api_token="not-the-token"), InMemoryDeliveryLog(), Sleeps()
    ) as outbound:
        result = await outbound.send(reply("chatwoot"))
    assert result == DeliveryResult.refused("http_401", "reply")
    [attempt] = received(standins.chatwoot)
    assert attempt["status"] == 401


async def test_timeout_is_retried(standins: StandInURLs) -> None:
    """An answer slower than the client timeout is retried, and the retry is delivered."""
    inject(standins.graph, delay_seconds=5, times=1)
    sleeps = Sleeps()
    async with sender(
        targets(standins), InMemoryDeliveryLog(), sleeps, client_timeout=0.3
    ) as outbound:
        result = await outbound.send(reply("whatsapp-cloud"))
    assert result.ok
    assert len(sleeps.durations) == 1
    attempts = received(standins.graph)
    assert [a["fault"] for a in attempts] == ["delay", None]
    assert attempts[1]["status"] == 200


async def test_connection_errors_fail_each_round(standins: StandInURLs) -> None:
    """With nobody listening, each round fails at once and is sent again after a pause; the
    step was never sent, so it is not left in doubt."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sleeps, deliveries = Sleeps(), InMemoryDeliveryLog()
    to = targets(standins, chatwoot_base_url=f"http://127.0.0.1:{closed_port}")
    async with sender(to, deliveries, sleeps, rounds=3) as outbound:
        with pytest.raises(FailedRound) as failed:
            await outbound.send(reply("chatwoot"))
    assert (failed.value.reason, failed.value.step) == ("connection_error", "reply")
    assert len(sleeps.durations) == 2
    assert deliveries.attempts == {}


async def test_a_round_sends_each_step_once(standins: StandInURLs) -> None:
    """A provider answering 503 fails the round after one request: the sender never retries
    inside a round (the record's policy is the one retry), and nothing is recorded."""
    inject(standins.chatwoot, status=503, times=10)
    deliveries = InMemoryDeliveryLog()
    async with sender(targets(standins), deliveries, Sleeps()) as outbound:
        with pytest.raises(FailedRound, match="http_503"):
            await outbound.sender.send(reply("chatwoot"))
    assert len(received(standins.chatwoot)) == 1
    assert deliveries.deliveries == {}
    assert deliveries.attempts == {}  # Chatwoot answered: it did not act, nothing in doubt


async def test_second_send_of_a_delivered_action_sends_nothing(standins: StandInURLs) -> None:
    """Sending an action again after it was delivered makes no HTTP request at all."""
    deliveries = InMemoryDeliveryLog()
    async with sender(targets(standins), deliveries, Sleeps()) as outbound:
        first = await outbound.send(reply("whatsapp-cloud", action_id="again"))
        second = await outbound.send(reply("whatsapp-cloud", action_id="again"))
    assert first.ok
    assert second.ok
    assert len(received(standins.graph)) == 1


async def test_handoff_sends_its_steps_in_order(standins: StandInURLs) -> None:
    """A Chatwoot hand-off posts the notice, the private note, then opens the conversation."""
    deliveries = InMemoryDeliveryLog()
    async with sender(targets(standins), deliveries, Sleeps()) as outbound:
        result = await outbound.send(handoff("chatwoot", action_id="h-order"))
    assert result.ok
    attempts = received(standins.chatwoot)
    assert [(a["path"].rsplit("/", 1)[1], a["json"].get("private")) for a in attempts] == [
        ("messages", False),
        ("messages", True),
        ("toggle_status", None),
    ]
    assert {step for _, step in deliveries.deliveries} == {"notice", "note", "toggle_status"}
    assert deliveries.deliveries[("h-order", "toggle_status")].provider_id is None


async def test_handoff_skips_steps_already_recorded(standins: StandInURLs) -> None:
    """Steps the delivery log holds are not sent again; only the rest of the hand-off is."""
    deliveries = InMemoryDeliveryLog()
    await deliveries.record("h-skip", "notice", 200, "11")
    await deliveries.record("h-skip", "note", 200, "12")
    async with sender(targets(standins), deliveries, Sleeps()) as outbound:
        result = await outbound.send(handoff("chatwoot", action_id="h-skip"))
    assert result.ok
    [attempt] = received(standins.chatwoot)
    assert attempt["path"] == "/api/v1/accounts/3/conversations/42/toggle_status"


async def test_handoff_resumes_after_the_step_that_failed(standins: StandInURLs) -> None:
    """A refused note stops the hand-off; sending it again skips the notice already delivered.
    Chatwoot answered the note, so it is not in doubt: it is sent again without asking."""
    inject(standins.chatwoot, status=422, after=1)  # the notice passes, the note is refused
    deliveries = InMemoryDeliveryLog()
    async with sender(targets(standins), deliveries, Sleeps()) as outbound:
        first = await outbound.send(handoff("chatwoot", action_id="h-resume"))
        reset(standins.chatwoot)
        second = await outbound.send(handoff("chatwoot", action_id="h-resume"))
    assert first == DeliveryResult.refused("http_422", "note")
    assert second.ok
    assert [(a["method"], a["path"].rsplit("/", 1)[1]) for a in received(standins.chatwoot)] == [
        ("POST", "messages"),
        ("POST", "toggle_status"),
    ]
    assert [a["json"].get("private") for a in posts(standins.chatwoot)] == [True, None]


async def test_undeliverable_action_is_refused_without_a_request(standins: StandInURLs) -> None:
    """A reply with no text is refused before anything is sent."""
    async with sender(targets(standins), InMemoryDeliveryLog(), Sleeps()) as outbound:
        result = await outbound.send(reply("chatwoot", ""))
    assert result == DeliveryResult.refused("empty_reply")
    assert received(standins.chatwoot) == []


async def test_bsuid_recipient_reaches_the_graph_api(standins: StandInURLs) -> None:
    """A reply to a customer known only by BSUID is accepted and its wamid recorded."""
    deliveries = InMemoryDeliveryLog()
    async with sender(targets(standins), deliveries, Sleeps()) as outbound:
        result = await outbound.send(
            reply("whatsapp-cloud", phone=None, user_id=BSUID, action_id="bsuid")
        )
    assert result.ok
    [attempt] = received(standins.graph)
    assert attempt["json"]["recipient"] == BSUID
    assert attempt["headers"]["authorization"] == f"Bearer {WHATSAPP_TOKEN}"
    provider_id = deliveries.deliveries[("bsuid", "reply")].provider_id
    assert provider_id is not None
    assert provider_id.startswith("wamid.")


async def test_sender_is_wired_from_settings(standins: StandInURLs) -> None:
    """Settings give the sender its URLs, credentials and HTTP timeout."""
    settings = Settings(
        **standins.settings(),  # type: ignore[arg-type]
        chatwoot_api_token=SecretStr(CHATWOOT_TOKEN),
        dialog360_api_key=SecretStr(DIALOG360_KEY),
        switchboard_delivery_timeout_seconds=0.3,
    )
    inject(standins.dialog360, delay_seconds=5, times=1)
    async with outbound_sender(settings, InMemoryDeliveryLog()) as outbound:
        with pytest.raises(FailedRound, match="timeout"):
            await outbound.send(reply("360dialog"))
        delivered = await outbound.send(reply("360dialog"))
    assert delivered.ok
    assert [r["headers"]["d360-api-key"] for r in received(standins.dialog360)] == [
        DIALOG360_KEY
    ] * 2


async def test_log_lines_carry_ids_and_codes_never_personal_data(standins: StandInURLs) -> None:
    """The sender's log lines name the action, step and status code, and no line (the
    retry policy's neither) carries the text or the phone number."""
    inject(standins.graph, status=500, times=1)
    async with sender(targets(standins), InMemoryDeliveryLog(), Sleeps()) as outbound:
        with capture_logs() as entries:
            await outbound.send(reply("whatsapp-cloud", "my secret words", action_id="logged"))
    steps = [e for e in entries if "step" in e]
    assert [e["event"] for e in steps] == ["outbound_step_failed", "outbound_step_delivered"]
    for entry in steps:
        assert (entry["action_id"], entry["step"]) == ("logged", "reply")
        assert "status_code" in entry
    assert [e["attempt"] for e in entries if e["event"] == "retrying"] == [1]
    assert "my secret words" not in str(entries)
    assert PHONE not in str(entries)


# --- steps left "attempting" by a crash -------------------------------------------------


async def test_step_in_doubt_that_chatwoot_holds_is_not_sent_again(
    standins: StandInURLs,
) -> None:
    """A reply marked attempting whose message Chatwoot already holds (the process died before
    recording it) is found by its marker, recorded with that message's id, and not resent."""
    to, action = targets(standins), reply("chatwoot", action_id="doubt-found")
    deliveries = InMemoryDeliveryLog()
    await deliveries.attempting(action.id, "reply")
    created = crashed_after_sending(to, action, "reply")
    async with sender(to, deliveries, Sleeps()) as outbound:
        with capture_logs() as entries:
            result = await outbound.send(action)
    assert result.ok
    assert calls(standins.chatwoot)[1:] == [("GET", "messages")]
    assert markers(standins) == ["doubt-found:reply"]
    assert deliveries.deliveries == {
        ("doubt-found", "reply"): Delivery("doubt-found", "reply", None, str(created["id"]))
    }
    assert deliveries.attempts == {}
    assert [e["event"] for e in entries] == [
        "outbound_step_in_doubt",
        "outbound_step_found_at_provider",
    ]


async def test_step_in_doubt_that_chatwoot_lacks_is_sent_once(standins: StandInURLs) -> None:
    """A reply marked attempting that never reached Chatwoot is looked for, then sent once."""
    to, action = targets(standins), reply("chatwoot", action_id="doubt-missing")
    deliveries = InMemoryDeliveryLog()
    await deliveries.attempting(action.id, "reply")
    async with sender(to, deliveries, Sleeps()) as outbound:
        first = await outbound.send(action)
        second = await outbound.send(action)  # a redelivery after that: nothing more
    assert first.ok
    assert second.ok
    assert calls(standins.chatwoot) == [("GET", "messages"), ("POST", "messages")]
    assert markers(standins) == ["doubt-missing:reply"]
    delivery = deliveries.deliveries[("doubt-missing", "reply")]
    assert delivery.status_code == 200
    assert delivery.provider_id == str(listed(standins)[0]["id"])


async def test_lookup_pages_back_to_the_attempt(standins: StandInURLs) -> None:
    """A marked message older than Chatwoot's latest page of 20 is still found, a page back."""
    to, action = targets(standins), handoff("chatwoot", action_id="doubt-paged")
    deliveries = InMemoryDeliveryLog()
    await deliveries.record(action.id, "notice", 200, "1")
    await deliveries.attempting(action.id, "note")
    crashed_after_sending(to, action, "note")
    for n in range(25):  # the conversation went on meanwhile (other actions' replies)
        crashed_after_sending(to, reply("chatwoot", action_id=f"later-{n}"), "reply")
    async with sender(to, deliveries, Sleeps()) as outbound:
        result = await outbound.send(action)
    assert result.ok
    lookups = [r for r in received(standins.chatwoot) if r["method"] == "GET"]
    assert len(lookups) == 2
    assert calls(standins.chatwoot)[-1] == ("POST", "toggle_status")
    assert markers(standins).count("doubt-paged:note") == 1
    assert deliveries.deliveries[("doubt-paged", "note")].status_code is None


async def test_lookup_stops_at_messages_older_than_the_attempt(standins: StandInURLs) -> None:
    """Paging back ends at a page older than the last attempt (less the clock margin): what
    is older cannot be the step's message."""
    to, action = targets(standins), reply("chatwoot", action_id="doubt-recent")
    for n in range(45):
        crashed_after_sending(to, reply("chatwoot", action_id=f"earlier-{n}"), "reply")
    moment = datetime.now(UTC) + LOOKUP_MARGIN + timedelta(seconds=5)
    deliveries = InMemoryDeliveryLog(clock=lambda: moment)
    await deliveries.attempting(action.id, "reply")
    async with sender(to, deliveries, Sleeps()) as outbound:
        result = await outbound.send(action)
    assert result.ok
    methods = [r["method"] for r in received(standins.chatwoot)][45:]
    assert methods == ["GET", "POST"]  # one page, all older than the attempt: not found


async def test_toggle_status_in_doubt_is_sent_again(standins: StandInURLs) -> None:
    """Opening a conversation twice is harmless: toggle_status in doubt is resent, unasked."""
    deliveries = InMemoryDeliveryLog()
    action = handoff("chatwoot", action_id="doubt-toggle")
    await deliveries.record(action.id, "notice", 200, "1")
    await deliveries.record(action.id, "note", 200, "2")
    await deliveries.attempting(action.id, "toggle_status")
    async with sender(targets(standins), deliveries, Sleeps()) as outbound:
        result = await outbound.send(action)
    assert result.ok
    assert calls(standins.chatwoot) == [("POST", "toggle_status")]
    assert deliveries.deliveries[("doubt-toggle", "toggle_status")].status_code == 200


@pytest.mark.parametrize(
    ("source", "url"), [("whatsapp-cloud", "graph"), ("360dialog", "dialog360")]
)
async def test_whatsapp_step_in_doubt_is_sent_again_and_logged(
    standins: StandInURLs, source: str, url: str
) -> None:
    """The Cloud API cannot list what was sent: a step in doubt is resent (at least once),
    and the log says so with the action id."""
    deliveries = InMemoryDeliveryLog()
    action = reply(source, action_id="doubt-wa")  # type: ignore[arg-type]
    await deliveries.attempting(action.id, "reply")
    async with sender(targets(standins), deliveries, Sleeps()) as outbound:
        with capture_logs() as entries:
            result = await outbound.send(action)
    assert result.ok
    assert [r["method"] for r in received(getattr(standins, url))] == ["POST"]
    [ambiguous] = [e for e in entries if e["event"] == "outbound_step_ambiguous_resent"]
    assert (ambiguous["action_id"], ambiguous["step"]) == ("doubt-wa", "reply")
    assert ambiguous["log_level"] == "warning"


async def test_refused_lookup_falls_back_to_sending(standins: StandInURLs) -> None:
    """A listing Chatwoot refuses (401, as for a bot token) means sending again: at least
    once, logged."""
    to = targets(standins, chatwoot_admin_token="not-a-user-token")
    action = reply("chatwoot", action_id="doubt-refused")
    deliveries = InMemoryDeliveryLog()
    await deliveries.attempting(action.id, "reply")
    async with sender(to, deliveries, Sleeps()) as outbound:
        with capture_logs() as entries:
            result = await outbound.send(action)
    assert result.ok
    assert [(r["method"], r["status"]) for r in received(standins.chatwoot)] == [
        ("GET", 401),
        ("POST", 200),
    ]
    events = [e["event"] for e in entries]
    assert "outbound_lookup_refused" in events
    assert "outbound_step_ambiguous_resent" in events


async def test_failing_lookup_is_retried_and_never_guessed(standins: StandInURLs) -> None:
    """A listing that fails with 503 fails the round without sending: the step stays in
    doubt, and each next round asks again, until Chatwoot answers."""
    inject(standins.chatwoot, status=503, times=3)
    action = reply("chatwoot", action_id="doubt-down")
    deliveries, sleeps = InMemoryDeliveryLog(), Sleeps()
    await deliveries.attempting(action.id, "reply")
    async with sender(targets(standins), deliveries, sleeps, rounds=3) as outbound:
        with pytest.raises(FailedRound, match="lookup_http_503"):
            await outbound.send(action)
        assert set(deliveries.attempts) == {("doubt-down", "reply")}
        second = await outbound.send(action)  # Chatwoot is back
    assert [(r["method"], r["status"]) for r in received(standins.chatwoot)] == [
        ("GET", 503),
        ("GET", 503),
        ("GET", 503),
        ("GET", 200),
        ("POST", 200),
    ]
    assert second.ok
    assert markers(standins) == ["doubt-down:reply"]


async def test_answer_lost_by_a_gateway_is_looked_up_before_retrying(
    standins: StandInURLs,
) -> None:
    """A 504 may come after Chatwoot created the message: the retry asks first, finds it, and
    does not post it again."""
    to, action = targets(standins), reply("chatwoot", action_id="gateway")
    created = crashed_after_sending(to, action, "reply")  # what Chatwoot did behind the proxy
    already = len(received(standins.chatwoot))
    inject(standins.chatwoot, status=504)
    deliveries = InMemoryDeliveryLog()
    async with sender(to, deliveries, Sleeps()) as outbound:
        result = await outbound.send(action)
    assert result.ok
    assert [(r["method"], r["status"]) for r in received(standins.chatwoot)][already:] == [
        ("POST", 504),
        ("GET", 200),
    ]
    assert markers(standins) == ["gateway:reply"]
    assert deliveries.deliveries[("gateway", "reply")].provider_id == str(created["id"])


async def test_timed_out_chatwoot_message_is_looked_up_before_retrying(
    standins: StandInURLs,
) -> None:
    """After a timeout the sender asks Chatwoot before posting again; here the slow request
    was abandoned before Chatwoot acted, so the retry posts it, once."""
    inject(standins.chatwoot, delay_seconds=5, times=1)
    deliveries = InMemoryDeliveryLog()
    async with sender(targets(standins), deliveries, Sleeps(), client_timeout=0.3) as outbound:
        result = await outbound.send(reply("chatwoot", action_id="slow"))
    assert result.ok
    assert [(r["method"], r["fault"]) for r in received(standins.chatwoot)] == [
        ("POST", "delay"),
        ("GET", None),
        ("POST", None),
    ]
    assert markers(standins) == ["slow:reply"]


async def test_in_memory_log_keeps_the_first_delivery() -> None:
    """A delivered step is not marked attempting again, and a second record changes nothing."""
    moment = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    deliveries = InMemoryDeliveryLog(clock=lambda: moment)
    await deliveries.attempting("a", "reply")
    assert await deliveries.steps("a") == {
        "reply": StepRecord("reply", "attempting", attempted_at=moment)
    }
    await deliveries.record("a", "reply", 200, "1")
    await deliveries.attempting("a", "reply")
    await deliveries.record("a", "reply", 201, "2")
    assert await deliveries.steps("a") == {
        "reply": StepRecord("reply", "delivered", None, 200, "1")
    }
    assert await deliveries.steps("b") == {}


# --- the stand-ins themselves: what the tests above rely on ------------------------------


def test_graph_standin_answers_with_graph_errors(standins: StandInURLs) -> None:
    """The Graph stand-in refuses a bad token with 401 and a bad body with 400, as Graph does."""
    url = f"{standins.whatsapp_api_base_url}/123/messages"
    good = {"Authorization": f"Bearer {WHATSAPP_TOKEN}"}
    bad_token = httpx.post(url, json={}, headers={"Authorization": "Bearer nope"})
    no_product = httpx.post(url, json={"to": PHONE, "type": "text"}, headers=good)
    assert bad_token.status_code == 401
    assert bad_token.json()["error"]["code"] == 190
    assert no_product.status_code == 400
    assert set(no_product.json()["error"]) == {"message", "type", "code", "fbtrace_id"}


def test_chatwoot_standin_opens_conversations(standins: StandInURLs) -> None:
    """toggle_status answers with Chatwoot's meta/payload shape and the new status."""
    response = httpx.post(
        f"{standins.chatwoot}/api/v1/accounts/1/conversations/9/toggle_status",
        json={"status": "open"},
        headers={"api_access_token": CHATWOOT_TOKEN},
    )
    assert response.json() == {
        "meta": {},
        "payload": {"success": True, "conversation_id": 9, "current_status": "open"},
    }


def test_dialog360_standin_requires_its_api_key(standins: StandInURLs) -> None:
    """360dialog's stand-in answers 401 without the right D360-API-KEY."""
    response = httpx.post(f"{standins.dialog360}/messages", json={}, headers={"D360-API-KEY": "x"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "fault", [{"times": 2}, {"status": 99}, {"status": 500, "times": 0}, {"colour": "red"}, 3]
)
def test_standin_refuses_malformed_faults(standins: StandInURLs, fault: Any) -> None:
    """A fault with no status and no delay, or with bad values, is refused with 422."""
    response = httpx.post(f"{standins.chatwoot}/_standin/faults", json=fault)
    assert response.status_code == 422


def test_chatwoot_standin_lists_a_conversations_messages(standins: StandInURLs) -> None:
    """The listing answers like Chatwoot's: meta and payload, latest 20 oldest first, older
    pages with ?before=<id>, message_type as an integer, content_attributes kept."""
    url = f"{standins.chatwoot}/api/v1/accounts/3/conversations/77/messages"
    headers = {"api_access_token": CHATWOOT_TOKEN}
    for n in range(23):
        body = {"content": f"m{n}", "private": n == 0, "content_attributes": {"n": str(n)}}
        httpx.post(url, json=body, headers=headers).raise_for_status()
    httpx.post(url.replace("/77/", "/78/"), json={"content": "elsewhere"}, headers=headers)
    latest = httpx.get(url, headers=headers).json()
    assert set(latest) == {"meta", "payload"}
    assert [m["content"] for m in latest["payload"]] == [f"m{n}" for n in range(3, 23)]
    first = latest["payload"][0]
    assert first["message_type"] == 1
    assert first["content_attributes"] == {"n": "3"}
    assert {"id", "content", "private", "created_at", "conversation_id"} <= first.keys()
    older = httpx.get(url, headers=headers, params={"before": first["id"]}).json()["payload"]
    assert [(m["content"], m["private"]) for m in older] == [
        ("m0", True),
        ("m1", False),
        ("m2", False),
    ]
    assert httpx.get(url, headers={"api_access_token": "nope"}).status_code == 401
    gets = [r for r in received(standins.chatwoot) if r["method"] == "GET"]
    assert [(r["status"], r["json"]) for r in gets] == [(200, None), (200, None), (401, None)]


def test_chatwoot_standin_with_an_admin_token_refuses_bots_the_listing() -> None:
    """Given a user token, the stand-in lists only for it, as Chatwoot refuses bot tokens."""
    client = TestClient(chatwoot_app("bot-token", "user-token"))
    url = "/api/v1/accounts/1/conversations/5/messages"
    created = client.post(url, json={"content": "hi"}, headers={"api_access_token": "bot-token"})
    assert created.status_code == 200
    as_bot = client.get(url, headers={"api_access_token": "bot-token"})
    as_user = client.get(url, headers={"api_access_token": "user-token"})
    assert as_bot.status_code == 401
    assert [m["id"] for m in as_user.json()["payload"]] == [created.json()["id"]]


async def test_retries_and_outcomes_are_counted_by_provider(standins: StandInURLs) -> None:
    """Each round counts once for its provider: two failed (sent again), one delivered."""
    inject(standins.chatwoot, status=503, times=2)
    metrics = WorkerMetrics()
    async with sender(targets(standins), InMemoryDeliveryLog(), Sleeps()) as outbound:
        metered = MeteredSender(outbound.sender, metrics)
        policy = retrying(backoff("delivery"), "deliver", attempts=3, sleep=outbound.sleeps)
        result: DeliveryResult = await policy(metered.send, reply("chatwoot"))
    assert result.ok
    sample = metrics.registry.get_sample_value
    for outcome, count in (("failed", 2), ("delivered", 1), ("refused", 0)):
        labels = {"provider": "chatwoot", "outcome": outcome}
        assert sample("switchboard_deliveries_total", labels) == count


async def test_a_failing_destination_opens_its_circuit_and_no_other(
    standins: StandInURLs,
) -> None:
    """The Graph API answering 503: the sender tells the guard, whose circuit for that
    business number opens, so the next round first waits out its cool-down; Chatwoot's
    circuit stays closed and a Chatwoot reply goes at once."""
    sleeps = Clocked()
    guard = Guard(failures=2, clock=lambda: sleeps.now, sleep=sleeps)
    inject(standins.graph, status=503, times=100)
    async with sender(
        targets(standins), InMemoryDeliveryLog(), sleeps, rounds=3, guard=guard
    ) as send:
        with pytest.raises(FailedRound, match="http_503"):
            await send.send(reply("whatsapp-cloud", action_id="reply:wa:1"))
        assert [str(d) for d in guard.open_circuits()] == [f"whatsapp:{PHONE_NUMBER_ID}"]
        # Backoff 1, backoff 2, and in between the circuit's own wait for its cool-down.
        assert len(sleeps.durations) == 3
        delivered = await send.send(reply("chatwoot", action_id="reply:cw:1"))
        assert delivered.outcome == "delivered"
        assert len(sleeps.durations) == 3
