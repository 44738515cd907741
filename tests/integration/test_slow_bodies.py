"""Slow and abandoned bodies against the real ingest (uvicorn on a free port, the real broker
and database): slow large bodies held open over raw sockets never get an ordinary webhook
refused, each ends in 408 (or 429 past its client's cap) with the connection closed; a
client hanging up mid-body is counted as its own outcome, with no 5xx, no traceback, no
Sentry event and nothing in Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import sentry_sdk
import uvicorn
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr

from ingest.app import build_ingest, create_app
from ingest.testing import chatwoot_headers, whatsapp_headers, whatsapp_text_body
from ingest.webhooks import Ingest
from schemas.catalogue import INBOUND
from switchboard.sentry import init_sentry
from switchboard.settings import Settings
from tests.fakes import chatwoot_payloads
from tests.integration.conftest import TEST_CHATWOOT_SECRET, TEST_SECRET
from tests.integration.sentry_receiver import Receiver
from tests.integration.tcp_proxy import free_port

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
MIB = 2**20
GRACE, DEADLINE = 5.0, 8.0  # seconds, as the defaults (5 s, 10 s), a little shorter


@dataclass
class Served:
    ingest: Ingest
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[Served]:
    """The real app under uvicorn (httptools, as `switchboard ingest` runs it) in a thread
    with its own loop, trusting this test as its proxy; uvicorn's logs reach the root
    logger (and caplog)."""
    own = settings.model_copy(
        update={
            "switchboard_body_timeout_seconds": DEADLINE,
            "switchboard_body_grace_seconds": GRACE,
            "switchboard_trusted_proxies": (f"{HOST}/32",),
        }
    )
    ingest = build_ingest(own)
    port = free_port()
    config = uvicorn.Config(create_app(ingest), host=HOST, port=port, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "ingest stopped"
        assert time.monotonic() < deadline, "ingest did not start"
        time.sleep(0.05)
    try:
        yield Served(ingest, port)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    with serving(settings) as served:
        yield served


@dataclass
class Slow:
    """A raw connection that sent its headers and part of a body, then waits."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def answer(self, seconds: float) -> tuple[int, dict[str, str], float]:
        """Status, headers and when the answer came (monotonic); ingest closes the
        connection after it."""
        async with asyncio.timeout(seconds):
            status = int((await self.reader.readline()).split()[1])
            headers = {}
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            await self.reader.readexactly(int(headers.get("content-length", "0")))
            answered = time.monotonic()
            closed = await self.reader.read() == b""  # the rest of the body is never read
        self.writer.close()
        assert closed
        return status, headers, answered


async def open_slow(
    port: int, path: str, declared: int, sent: bytes, client: str, *, extra: str = ""
) -> Slow:
    reader, writer = await asyncio.open_connection(HOST, port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\nX-Forwarded-For: {client}\r\n{extra}\r\n"
    )
    writer.write(head.encode() + sent)
    await writer.drain()
    return Slow(reader, writer)


def ordinary(n: int, run: str) -> tuple[str, bytes, dict[str, str]]:
    """A signed WhatsApp or Chatwoot webhook of a few hundred bytes, a client of its own."""
    client = {"X-Forwarded-For": f"10.77.{n // 250}.{n % 250 + 1}"}
    if n % 2:
        body = whatsapp_text_body(wamid=f"wamid.slow-{run}-{n}", phone="15550001111", text="Hi")
        return "/webhooks/whatsapp", body, whatsapp_headers(TEST_SECRET, body) | client
    payload = chatwoot_payloads.incoming_message()
    payload["id"] = int(run, 16) % 10**9 + n
    body = json.dumps(payload).encode()
    return "/webhooks/chatwoot", body, chatwoot_headers(TEST_CHATWOOT_SECRET, body) | client


async def until(probe: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await probe():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_slow_large_bodies_never_refuse_an_ordinary_webhook(served: Served) -> None:
    """The issue's attack (10 bodies declaring 3 MiB and an 11th 2 MiB, one byte each, from
    one client) plus 8 bodies from two clients that fill every byte large bodies may hold
    and stall: ordinary signed webhooks all get 200 meanwhile; another large body gets 503;
    the attacker's bodies past its cap get 429 at once, the rest 408 once too slow, the
    stalled ones 408 at the deadline; every one has its connection closed; no 5xx but the
    503."""
    port, bodies = served.port, served.ingest.bodies
    started = time.monotonic()
    one_byte = [
        await open_slow(port, "/webhooks/360dialog", size, b"{", "10.66.0.1")
        for size in [3 * MIB] * 10 + [2 * MIB]
    ]
    stall = bodies.limits.large_bytes // 8 - 64
    stalled = [
        await open_slow(port, "/webhooks/whatsapp", 3 * MIB, b" " * stall, f"10.66.1.{n % 2}")
        for n in range(8)
    ]
    answers = [asyncio.create_task(slow.answer(DEADLINE + 5)) for slow in one_byte + stalled]
    await until(lambda: _true(bodies.held_large >= 8 * stall))
    cap = bodies.limits.large_per_client

    run = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
        webhooks = [ordinary(n, run) for n in range(40)]
        replies = [await client.post(p, content=b, headers=h) for p, b, h in webhooks]
        ordinary_done = time.monotonic()
        big = await open_slow(port, "/webhooks/whatsapp", MIB, b" " * 65536, "10.66.2.1")
        busy, busy_headers, _ = await big.answer(5.0)
    held_open = sum(bodies.large_bodies(c) for c in ("10.66.0.1", "10.66.1.0", "10.66.1.1"))
    assert [r.status_code for r in replies] == [200] * 40, [r.text for r in replies]
    assert all(r.json()["status"] == "accepted" for r in replies)
    assert (busy, busy_headers["retry-after"]) == (503, "1")
    assert held_open == cap + 8, "slow bodies were answered before the webhooks were"

    slow = await asyncio.gather(*answers)
    statuses = [status for status, _, _ in slow]
    assert sorted(statuses) == [408] * (cap + 8) + [429] * (len(one_byte) - cap)
    assert all(headers["connection"] == "close" for _, headers, _ in slow)
    assert all(at - started < 2 for status, _, at in slow if status == 429)
    assert all(at > ordinary_done for status, _, at in slow if status == 408)
    assert bodies.held == 0
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
        metrics_text = (await client.get("/metrics")).text
    counted = outcomes(metrics_text)
    assert counted["body_timeout"] == cap + 8
    assert counted["too_many_bodies"] == len(one_byte) - cap
    assert counted["busy"] == 1
    assert server_errors(metrics_text) == {"503": 1.0}


async def _true(value: bool) -> bool:
    return value


def outcomes(metrics_text: str) -> dict[str, float]:
    """switchboard_webhook_requests_total summed over providers, by outcome."""
    counted: dict[str, float] = {}
    for line in metrics_text.splitlines():
        if line.startswith("switchboard_webhook_requests_total{"):
            outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
            counted[outcome] = counted.get(outcome, 0.0) + float(line.rsplit(" ", 1)[1])
    return counted


def server_errors(metrics_text: str) -> dict[str, float]:
    """switchboard_http_requests_total with a 5xx status, by status."""
    found: dict[str, float] = {}
    for line in metrics_text.splitlines():
        if line.startswith("switchboard_http_requests_total{") and 'status="5' in line:
            status = line.split('status="', 1)[1][:3]
            found[status] = found.get(status, 0.0) + float(line.rsplit(" ", 1)[1])
    return found


@pytest.fixture
async def consumer(settings: Settings) -> AsyncIterator[AIOKafkaConsumer]:
    """Reads the inbound topic from its end, as it is now."""
    consumer = AIOKafkaConsumer(
        INBOUND.full_name(settings.switchboard_topic_prefix),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="latest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    await consumer.getmany(timeout_ms=500)  # assigned, positioned at the end
    yield consumer
    await consumer.stop()


async def test_a_client_hanging_up_mid_body_is_not_a_server_error(
    settings: Settings,
    receiver: Receiver,
    consumer: AIOKafkaConsumer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Counted as client_disconnected, 499 in the HTTP metrics; no 5xx, no traceback, no
    Sentry event, nothing written to Kafka."""
    dsn = f"http://publickey@{HOST}:{receiver.server_address[1]}/42"
    assert init_sentry(Settings(sentry_dsn=SecretStr(dsn)), "ingest")
    wamid = f"wamid.gone-{uuid.uuid4().hex}"
    body = whatsapp_text_body(wamid=wamid, phone="15550002222", text="Hi")
    request_id = f"gone-{uuid.uuid4().hex[:12]}"
    signed = whatsapp_headers(TEST_SECRET, body) | {"X-Request-ID": request_id}
    extra = "".join(f"{k}: {v}\r\n" for k, v in signed.items() if k != "Content-Type")
    with serving(settings) as served:
        gone = await open_slow(
            served.port, "/webhooks/whatsapp", len(body), body[:50], "10.88.0.1", extra=extra
        )
        await asyncio.sleep(0.2)
        gone.writer.close()
        await gone.writer.wait_closed()
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:

            async def counted() -> bool:
                text = (await client.get("/metrics")).text
                return outcomes(text).get("client_disconnected", 0) >= 1

            await until(counted)
            text = (await client.get("/metrics")).text
    assert 'route="/webhooks/whatsapp",status="499"} 1.0' in text
    assert server_errors(text) == {}
    assert not [r for r in caplog.records if r.exc_info or "Exception in ASGI" in r.getMessage()]
    sentry_sdk.flush(timeout=5)
    assert not [path for path, envelope in receiver.envelopes if b'"exception"' in envelope]
    batch = await consumer.getmany(timeout_ms=2000)
    written = [
        record
        for records in batch.values()
        for record in records
        if dict(record.headers).get("correlation-id") == request_id.encode()
    ]
    assert written == []
