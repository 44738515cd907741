"""The delivery log in PostgreSQL, and the sender resuming an action after a restart,
including steps a crash left in doubt."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from schemas.events import HandoffRequested, ReplyRequested
from sinks.outbound.deliveries import StepRecord
from sinks.outbound.requests import Targets, build_requests
from sinks.outbound.sender import FailedRound, OutboundSender
from sinks.postgres.deliveries import PostgresDeliveryLog
from sinks.postgres.pool import Database, PoolConfig
from switchboard.standins import StandInURLs, Tokens, run_standins
from tests.fakes.outbound_actions import (
    CHATWOOT_TOKEN,
    DIALOG360_KEY,
    WHATSAPP_TOKEN,
    handoff,
    reply,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
    yield database
    await database.close()


@pytest.fixture(scope="module")
def standins() -> Iterator[StandInURLs]:
    with run_standins(tokens=Tokens(CHATWOOT_TOKEN, WHATSAPP_TOKEN, DIALOG360_KEY)) as urls:
        yield urls


def _action_id() -> str:
    return f"handoff:{uuid.uuid4().hex}"


async def test_recorded_steps_are_the_delivered_steps(database: Database) -> None:
    """Recorded steps come back delivered, and only for their own action."""
    log, action, other = PostgresDeliveryLog(database), _action_id(), _action_id()
    assert await log.steps(action) == {}
    await log.record(action, "notice", 200, "101")
    await log.record(action, "toggle_status", 200, None)
    await log.record(other, "note", 201, "7")
    assert await log.steps(action) == {
        "notice": StepRecord("notice", "delivered", None, 200, "101"),
        "toggle_status": StepRecord("toggle_status", "delivered", None, 200, None),
    }
    assert await log.steps(other) == {"note": StepRecord("note", "delivered", None, 201, "7")}


async def test_attempting_then_delivered(database: Database) -> None:
    """A step is marked attempting with the time, then delivered; a delivered step is never
    marked attempting again, and a step found at the provider may have no status code."""
    log, action = PostgresDeliveryLog(database), _action_id()
    await log.attempting(action, "reply")
    [attempt] = (await log.steps(action)).values()
    assert (attempt.state, attempt.status_code, attempt.provider_id) == ("attempting", None, None)
    assert attempt.attempted_at is not None
    assert abs(datetime.now(UTC) - attempt.attempted_at) < timedelta(minutes=1)
    await log.record(action, "reply", None, "55")
    await log.attempting(action, "reply")
    [delivered] = (await log.steps(action)).values()
    assert (delivered.state, delivered.status_code, delivered.provider_id) == (
        "delivered",
        None,
        "55",
    )
    assert delivered.attempted_at == attempt.attempted_at


async def test_first_record_of_a_step_wins(database: Database) -> None:
    """Recording a step twice keeps the first status code and provider id."""
    log, action = PostgresDeliveryLog(database), _action_id()
    await log.record(action, "reply", 200, "wamid.first")
    await log.record(action, "reply", 202, "wamid.second")
    async with database.connection() as conn:
        row = await conn.fetchrow(
            "SELECT status_code, provider_message_id, delivered_at FROM deliveries"
            " WHERE action_id = $1 AND step = 'reply'",
            action,
        )
    assert row is not None
    assert (row["status_code"], row["provider_message_id"]) == (200, "wamid.first")
    assert row["delivered_at"] is not None


async def test_resend_after_restart_skips_what_was_delivered(
    database_url: str, standins: StandInURLs
) -> None:
    """A hand-off whose toggle_status failed resumes there in the next round, in a new
    process after a restart: nothing delivered is sent again."""
    _control(standins.chatwoot, "reset", {})
    targets = Targets(
        chatwoot_base_url=standins.chatwoot,
        chatwoot_api_token=CHATWOOT_TOKEN,
        whatsapp_api_base_url=standins.whatsapp_api_base_url,
        whatsapp_access_token=WHATSAPP_TOKEN,
        dialog360_api_base_url=standins.dialog360,
        dialog360_api_key=DIALOG360_KEY,
    )
    action = handoff("chatwoot", action_id=_action_id())
    fault = {"status": 500, "times": 2, "after": 2}  # notice and note pass, toggle_status fails
    _control(standins.chatwoot, "faults", fault)

    rounds: list[tuple[str | None, str | None]] = []
    for _ in range(3):  # three process lifetimes: a fresh pool and client each time
        database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                sender = OutboundSender(client, targets, PostgresDeliveryLog(database))
                result = await sender.send(action)
                rounds.append((result.outcome, result.step))
        except FailedRound as exc:
            rounds.append((exc.reason, exc.step))
        finally:
            await database.close()

    failed = ("http_500", "toggle_status")
    assert rounds == [failed, failed, ("delivered", None)]
    paths = [r["path"].rsplit("/", 1)[1] for r in _received(standins.chatwoot)]
    assert paths == ["messages", "messages", "toggle_status", "toggle_status", "toggle_status"]
    database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
    try:
        async with database.connection() as conn:
            rows = await conn.fetch(
                "SELECT step, status_code, provider_message_id FROM deliveries"
                " WHERE action_id = $1",
                action.id,
            )
    finally:
        await database.close()
    recorded = {r["step"]: (r["status_code"], r["provider_message_id"]) for r in rows}
    assert set(recorded) == {"notice", "note", "toggle_status"}
    assert all(status == 200 for status, _ in recorded.values())
    assert recorded["notice"][1] is not None
    assert recorded["toggle_status"][1] is None


def _targets(standins: StandInURLs) -> Targets:
    return Targets(
        chatwoot_base_url=standins.chatwoot,
        chatwoot_api_token=CHATWOOT_TOKEN,
        whatsapp_api_base_url=standins.whatsapp_api_base_url,
        whatsapp_access_token=WHATSAPP_TOKEN,
        dialog360_api_base_url=standins.dialog360,
        dialog360_api_key=DIALOG360_KEY,
    )


async def _send_in_new_process(
    database_url: str, targets: Targets, action: ReplyRequested | HandoffRequested
) -> bool:
    """Send ``action`` as a freshly started worker would: its own pool and client."""
    database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            sender = OutboundSender(client, targets, PostgresDeliveryLog(database))
            return (await sender.send(action)).ok
    finally:
        await database.close()


async def _rows(database_url: str, action_id: str) -> dict[str, tuple[str, int | None, str | None]]:
    database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
    try:
        async with database.connection() as conn:
            rows = await conn.fetch(
                "SELECT step, state, status_code, provider_message_id FROM deliveries"
                " WHERE action_id = $1",
                action_id,
            )
    finally:
        await database.close()
    return {r["step"]: (r["state"], r["status_code"], r["provider_message_id"]) for r in rows}


async def _crash_before_recording(
    database_url: str,
    targets: Targets,
    action: ReplyRequested | HandoffRequested,
    step: str,
    *,
    reached_provider: bool,
) -> None:
    """What a worker SIGKILLed mid-step leaves: the step marked attempting in PostgreSQL and,
    if the request got through, the message at the provider, but no delivery recorded."""
    database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
    try:
        await PostgresDeliveryLog(database).attempting(action.id, step)
    finally:
        await database.close()
    if reached_provider:
        [request] = [r for r in build_requests(action, targets) if r.step == step]
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.post(
                request.url, headers=dict(request.headers), json=request.json
            )
        response.raise_for_status()


def _messages(standins: StandInURLs, conversation: int = 42) -> list[dict[str, Any]]:
    url = f"{standins.chatwoot}/api/v1/accounts/3/conversations/{conversation}/messages"
    payload: list[dict[str, Any]] = httpx.get(
        url, headers={"api_access_token": CHATWOOT_TOKEN}
    ).json()["payload"]
    return payload


async def test_a_step_not_sent_is_no_longer_in_doubt(database_url: str) -> None:
    """``not_sent`` takes back an attempting mark (the provider said it did not act), and
    never a delivery."""
    database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
    try:
        log, action_id = PostgresDeliveryLog(database), _action_id()
        await log.attempting(action_id, "notice")
        await log.not_sent(action_id, "notice")
        assert await log.steps(action_id) == {}
        await log.attempting(action_id, "notice")
        await log.record(action_id, "notice", 200, "7")
        await log.not_sent(action_id, "notice")
        assert (await log.steps(action_id))["notice"].delivered
    finally:
        await database.close()


async def test_step_in_doubt_found_at_chatwoot_is_not_resent(
    database_url: str, standins: StandInURLs
) -> None:
    """After a crash between Chatwoot's answer and the record, the restarted sender finds the
    reply by its marker, records it delivered with Chatwoot's id, and posts nothing."""
    _control(standins.chatwoot, "reset", {})
    targets, action = _targets(standins), reply("chatwoot", action_id=_action_id())
    await _crash_before_recording(database_url, targets, action, "reply", reached_provider=True)
    assert await _send_in_new_process(database_url, targets, action)
    assert [r["method"] for r in _received(standins.chatwoot)] == ["POST", "GET"]
    [message] = _messages(standins)
    assert await _rows(database_url, action.id) == {
        "reply": ("delivered", None, str(message["id"]))
    }


async def test_step_in_doubt_missing_at_chatwoot_is_sent_once(
    database_url: str, standins: StandInURLs
) -> None:
    """After a crash before the request left, the restarted sender looks, finds nothing, and
    posts the reply once; another restart then sends nothing at all."""
    _control(standins.chatwoot, "reset", {})
    targets, action = _targets(standins), reply("chatwoot", action_id=_action_id())
    await _crash_before_recording(database_url, targets, action, "reply", reached_provider=False)
    assert await _send_in_new_process(database_url, targets, action)
    assert await _send_in_new_process(database_url, targets, action)
    assert [r["method"] for r in _received(standins.chatwoot)] == ["GET", "POST"]
    [message] = _messages(standins)
    assert message["content_attributes"] == {"switchboard_action": f"{action.id}:reply"}
    assert await _rows(database_url, action.id) == {"reply": ("delivered", 200, str(message["id"]))}


async def test_toggle_status_in_doubt_is_resent(database_url: str, standins: StandInURLs) -> None:
    """A hand-off that crashed while opening the conversation opens it again, unasked."""
    _control(standins.chatwoot, "reset", {})
    targets, action = _targets(standins), handoff("chatwoot", action_id=_action_id())
    database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
    try:
        log = PostgresDeliveryLog(database)
        await log.record(action.id, "notice", 200, "1")
        await log.record(action.id, "note", 200, "2")
    finally:
        await database.close()
    await _crash_before_recording(
        database_url, targets, action, "toggle_status", reached_provider=True
    )
    assert await _send_in_new_process(database_url, targets, action)
    paths = [(r["method"], r["path"].rsplit("/", 1)[1]) for r in _received(standins.chatwoot)]
    assert paths == [("POST", "toggle_status"), ("POST", "toggle_status")]
    assert (await _rows(database_url, action.id))["toggle_status"] == ("delivered", 200, None)


async def test_whatsapp_step_in_doubt_is_resent(database_url: str, standins: StandInURLs) -> None:
    """WhatsApp cannot be asked: the step in doubt is sent again and logged as ambiguous."""
    _control(standins.graph, "reset", {})
    targets, action = _targets(standins), reply("whatsapp-cloud", action_id=_action_id())
    await _crash_before_recording(database_url, targets, action, "reply", reached_provider=True)
    with capture_logs() as entries:
        assert await _send_in_new_process(database_url, targets, action)
    assert len(_received(standins.graph)) == 2  # at least once: the one before the crash too
    [ambiguous] = [e for e in entries if e["event"] == "outbound_step_ambiguous_resent"]
    assert ambiguous["action_id"] == action.id
    state, status, wamid = (await _rows(database_url, action.id))["reply"]
    assert (state, status) == ("delivered", 200)
    assert wamid is not None
    assert wamid.startswith("wamid.")


def _control(url: str, endpoint: str, body: dict[str, Any]) -> None:
    httpx.post(f"{url}/_standin/{endpoint}", json=body).raise_for_status()


def _received(url: str) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = httpx.get(f"{url}/_standin/requests").json()["requests"]
    return requests
