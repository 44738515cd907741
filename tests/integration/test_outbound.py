"""The delivery log in PostgreSQL, and the sender resuming an action after a restart."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from sinks.outbound.requests import Targets
from sinks.outbound.sender import OutboundSender
from sinks.postgres.deliveries import PostgresDeliveryLog
from sinks.postgres.pool import Database, PoolConfig
from switchboard.standins import StandInURLs, Tokens, run_standins
from tests.unit.outbound_actions import CHATWOOT_TOKEN, DIALOG360_KEY, WHATSAPP_TOKEN, handoff

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


async def _no_sleep(_: float) -> None:
    return None


async def test_recorded_steps_are_the_done_steps(database: Database) -> None:
    """Recorded steps come back as the action's done steps, and only for that action."""
    log, action, other = PostgresDeliveryLog(database), _action_id(), _action_id()
    assert await log.done_steps(action) == set()
    await log.record(action, "notice", 200, "101")
    await log.record(action, "toggle_status", 200, None)
    await log.record(other, "note", 201, "7")
    assert await log.done_steps(action) == {"notice", "toggle_status"}
    assert await log.done_steps(other) == {"note"}


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
    """A hand-off that gave up at toggle_status resumes there after a restart, nothing resent."""
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

    results = []
    for _ in range(2):  # two process lifetimes: a fresh pool and client each time
        database = await Database.connect(PoolConfig(database_url, size=1, max_overflow=0))
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                log = PostgresDeliveryLog(database)
                sender = OutboundSender(client, targets, log, retries=1, sleep=_no_sleep)
                results.append(await sender.send(action))
        finally:
            await database.close()

    assert [(r.outcome, r.reason, r.step) for r in results] == [
        ("gave_up", "http_500", "toggle_status"),
        ("delivered", None, None),
    ]
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


def _control(url: str, endpoint: str, body: dict[str, Any]) -> None:
    httpx.post(f"{url}/_standin/{endpoint}", json=body).raise_for_status()


def _received(url: str) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = httpx.get(f"{url}/_standin/requests").json()["requests"]
    return requests
