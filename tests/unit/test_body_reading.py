"""Reading a body from the ASGI receive channel: within its pace, its size and the budget;
and what the webhooks and the compliance API answer (or count) when a body is too slow, or
its client hangs up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message

from datakeys.testing import in_memory_keyring
from ingest.admission import BodyBudget, BodyLimits, BodyPace
from ingest.app import build_ingest, create_app
from ingest.body import receive_body
from ingest.errors import Busy, ClientDisconnected, Oversized, SlowBody
from ingest.testing import InMemoryEventLog, whatsapp_headers, whatsapp_text_body
from switchboard.settings import Settings

SECRET = "whatsapp-secret-for-tests"
LIMIT = 64 * 1024
QUICK = BodyPace(total_seconds=0.4, grace_seconds=0.1, min_bytes_per_second=1000)
BODY = whatsapp_text_body(wamid="wamid.pace", phone="15551234567", text="Hello")


Step = bytes | float | None  # a chunk, a pause in seconds, or the client hanging up


def channel(steps: Sequence[Step], last: bool = True) -> Callable[[], Any]:
    """An ASGI receive channel: chunks (the last step ends the body when `last`), pauses, or
    a disconnect; after the steps, the client sends nothing more."""
    queue = list(steps)

    async def receive() -> Message:
        while queue:
            step = queue.pop(0)
            if isinstance(step, float):
                await asyncio.sleep(step)
            elif step is None:
                return {"type": "http.disconnect"}
            else:
                more = bool(queue) or not last
                return {"type": "http.request", "body": step, "more_body": more}
        await asyncio.sleep(3600)
        raise AssertionError("nothing more was to be received")

    return receive


async def test_a_body_in_pieces_within_its_pace_is_read_whole() -> None:
    body = await receive_body(channel([b"ab", 0.05, b"cd", 0.05, b"ef"]), LIMIT, QUICK)
    assert body == b"abcdef"


async def test_a_body_that_stops_coming_is_refused_408_after_the_grace() -> None:
    """One byte, then nothing: refused once the grace and that byte's share have passed."""
    started = asyncio.get_running_loop().time()
    with pytest.raises(SlowBody) as refused:
        await receive_body(channel([b"{"], last=False), LIMIT, QUICK)
    elapsed = asyncio.get_running_loop().time() - started
    assert 0.1 <= elapsed < 0.3
    assert refused.value.status_code == 408
    assert refused.value.outcome == "body_timeout"
    assert "slower than 1000 bytes/s" in refused.value.detail


async def test_a_body_that_keeps_its_rate_still_ends_at_the_deadline() -> None:
    """Enough bytes to stay due past the deadline: refused at the deadline all the same."""
    steps: list[Step] = []
    for _ in range(20):
        steps += [b"x" * 200, 0.03]
    started = asyncio.get_running_loop().time()
    with pytest.raises(SlowBody) as refused:
        await receive_body(channel(steps, last=False), LIMIT, QUICK)
    assert 0.4 <= asyncio.get_running_loop().time() - started < 0.6
    assert refused.value.detail == "request body not received within 0.4 s"


async def test_a_client_hanging_up_mid_body_is_its_own_outcome() -> None:
    with pytest.raises(ClientDisconnected) as gone:
        await receive_body(channel([b"{", None]), LIMIT, QUICK)
    assert (gone.value.status_code, gone.value.outcome) == (499, "client_disconnected")


async def test_size_and_budget_are_checked_as_each_chunk_arrives() -> None:
    """Each chunk is held in the reservation before it is kept; the size limit comes first."""
    limits = BodyLimits(1000, small_share=0.5, small_body_bytes=100, large_per_client=4)
    budget = BodyBudget(limits)
    reservation = budget.admit("a", declared=None)
    body = await receive_body(channel([b"x" * 300, b"x" * 100]), LIMIT, QUICK, reservation)
    assert (len(body), reservation.size, budget.held_large) == (400, 400, 400)
    other = budget.admit("b", declared=None)
    with pytest.raises(Busy):  # 400 of the large bodies' 500 are held
        await receive_body(channel([b"x" * 50, b"x" * 100]), LIMIT, QUICK, other)
    assert (other.size, other.large) == (50, False)
    with pytest.raises(Oversized):
        await receive_body(channel([b"x" * 11]), 10, QUICK, budget.admit("c", None))


# --- through the app -------------------------------------------------------------------


@pytest.fixture
def event_log() -> InMemoryEventLog:
    return InMemoryEventLog()


@pytest.fixture
def app(event_log: InMemoryEventLog) -> FastAPI:
    settings = Settings(
        whatsapp_app_secret=SECRET,
        rate_limit_per_minute=1000,
        switchboard_max_body_bytes=LIMIT,
        switchboard_body_budget_bytes=4 * LIMIT,
        switchboard_small_body_bytes=4096,
        switchboard_large_bodies_per_client=2,
        switchboard_body_timeout_seconds=0.4,
        switchboard_body_grace_seconds=0.1,
        switchboard_body_min_rate_bytes=1000,
    )
    return create_app(build_ingest(settings, event_log, in_memory_keyring()))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


async def call(
    app: FastAPI, path: str, headers: dict[str, str], receive: Callable[[], Any]
) -> list[Message]:
    """One request straight through the ASGI app; what it sent back."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("10.9.9.9", 40000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return sent


def outcome(name: str) -> str:
    return f'switchboard_webhook_requests_total{{outcome="{name}",provider="whatsapp"}} 1.0'


async def test_a_slow_webhook_body_gets_408_and_the_connection_closed(
    app: FastAPI, client: TestClient
) -> None:
    headers = whatsapp_headers(SECRET, BODY) | {"Content-Length": str(len(BODY))}
    sent = await call(app, "/webhooks/whatsapp", headers, channel([BODY[:1]], last=False))
    start = sent[0]
    assert start["status"] == 408
    assert (b"connection", b"close") in start["headers"]
    assert b"slower than 1000 bytes/s" in sent[1]["body"]
    text = client.get("/metrics").text
    assert outcome("body_timeout") in text
    assert 'route="/webhooks/whatsapp",status="408"} 1.0' in text
    assert client.app.state.ingest.bodies.held == 0  # type: ignore[attr-defined]


async def test_a_webhook_client_hanging_up_is_499_not_a_server_error(
    app: FastAPI,
    client: TestClient,
    event_log: InMemoryEventLog,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Counted as client_disconnected and 499; no 5xx, no traceback, nothing written."""
    headers = whatsapp_headers(SECRET, BODY) | {"Content-Length": str(len(BODY))}
    await call(app, "/webhooks/whatsapp", headers, channel([BODY[:10], None]))
    text = client.get("/metrics").text
    assert outcome("client_disconnected") in text
    assert 'route="/webhooks/whatsapp",status="499"} 1.0' in text
    assert 'status="500"' not in text
    assert not [r for r in caplog.records if r.exc_info]
    assert event_log.events == []


async def test_a_compliance_client_hanging_up_is_counted_499(
    app: FastAPI, client: TestClient
) -> None:
    """The compliance API's body limit answers nobody, and the metrics say 499, not 500
    (under `unmatched`: the limit stands before the routes)."""
    headers = {"Content-Type": "application/json", "Content-Length": "100"}
    assert await call(app, "/gdpr/consent", headers, channel([b"{", None])) == []
    text = client.get("/metrics").text
    assert 'method="POST",route="unmatched",status="499"} 1.0' in text
    assert 'status="500"' not in text


async def test_a_slow_compliance_body_gets_408(app: FastAPI) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": "100"}
    sent = await call(app, "/gdpr/consent", headers, channel([b"{"], last=False))
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_large_bodies_held_open_do_not_refuse_an_ordinary_webhook(
    app: FastAPI, client: TestClient
) -> None:
    """Large bodies fill everything they may, and more arrive: they are refused (429 past a
    client's cap, 503 past the budget) while an ordinary webhook is accepted."""
    ingest = client.app.state.ingest  # type: ignore[attr-defined]
    held = []
    for n in range(3):  # 3 x 64 KiB: every byte large bodies may hold
        reservation = ingest.bodies.admit(f"10.0.0.{n}", declared=LIMIT)
        reservation.grow(LIMIT)
        held.append(reservation)
    big = b" " * 8192
    headers = whatsapp_headers(SECRET, big) | {"Content-Length": str(len(big))}
    sent = await call(app, "/webhooks/whatsapp", headers, channel([big]))
    assert sent[0]["status"] == 503
    ingest.bodies.admit("10.9.9.9", declared=LIMIT)
    ingest.bodies.admit("10.9.9.9", declared=LIMIT)
    sent = await call(app, "/webhooks/whatsapp", headers, channel([big]))
    assert sent[0]["status"] == 429
    ordinary = client.post(
        "/webhooks/whatsapp", content=BODY, headers=whatsapp_headers(SECRET, BODY)
    )
    assert ordinary.status_code == 200
    for reservation in held:
        reservation.release()
