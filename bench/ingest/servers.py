"""The servers under test, children of the benchmark: bare, seed, ingest and ingest x2, and
how they are made ready before timing."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bench.harness.children import HOST, Child, free_port, spawn
from bench.harness.errors import BenchError
from bench.harness.seed import start_redis
from bench.harness.waiting import healthy
from bench.ingest.messages import CONTACTS, SECRET, Messages
from switchboard.settings import Settings

WEBHOOK = "/webhooks/whatsapp"
READY_SECONDS = 60.0
INGEST_WORKERS = 2


def serve_bare(port: int) -> None:
    """The web stack alone, served exactly as `switchboard ingest` serves ingest (run in a
    subprocess of its own: `python -m bench.ingest --serve-bare PORT`)."""
    app = FastAPI(title="bare")

    @app.post(WEBHOOK)
    async def webhook(request: Request) -> Response:
        await request.body()
        return JSONResponse({"status": "accepted", "events": 1, "ignored": 0})

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "healthy"})

    uvicorn.run(
        app, host=HOST, port=port, access_log=False, proxy_headers=False, log_level="warning"
    )


@dataclass(frozen=True)
class Server(Child):
    """A child serving HTTP at `url`."""

    url: str


def start_server(
    name: str, argv: list[str], port: int, *, env: dict[str, str], logs: Path, stack: ExitStack
) -> Server:
    child = spawn(name, [*argv, str(port)], env, logs, stack, stop_seconds=10.0)
    return Server(child.name, child.process, child.log, f"http://{HOST}:{port}")


@dataclass(frozen=True)
class Servers:
    bare: Server
    seed: Server
    ingest: Server
    ingest_workers: Server
    redis_url: str

    @property
    def all(self) -> tuple[Server, ...]:
        return (self.bare, self.seed, self.ingest, self.ingest_workers)


def server_env(settings: Settings, prefix: str, redis_url: str) -> dict[str, str]:
    return os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        # Ingest claims new contacts' data keys there.
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "SWITCHBOARD_TOPIC_PREFIX": prefix,
        "WHATSAPP_APP_SECRET": SECRET,
        "RATE_LIMIT_PER_MINUTE": str(10**9),
        "SWITCHBOARD_LOG_LEVEL": "WARNING",
        "BENCH_REDIS_URL": redis_url,
    }


def start_servers(settings: Settings, prefix: str, logs: Path, stack: ExitStack) -> Servers:
    """All with the same interpreter, so uvicorn picks the same loop and HTTP parser."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise BenchError("redis-server is not on PATH: apt-get install -y redis-server")
    redis_url = start_redis(redis_server, logs, stack)
    env = server_env(settings, prefix, redis_url)
    python = Path(sys.executable)
    script = [str(python), "-m", "bench.ingest"]
    switchboard = [str(python.parent / "switchboard"), "ingest", "--host", HOST]
    workers = [*switchboard, "--workers", str(INGEST_WORKERS), "--port"]

    def start(name: str, argv: list[str]) -> Server:
        return start_server(name, argv, free_port(), env=env, logs=logs, stack=stack)

    return Servers(
        bare=start("bare", [*script, "--serve-bare"]),
        seed=start("seed", [*script, "--serve-seed"]),
        ingest=start("ingest", [*switchboard, "--port"]),
        ingest_workers=start(f"ingest x{INGEST_WORKERS}", workers),
        redis_url=redis_url,
    )


async def wait_ready(session: aiohttp.ClientSession, server: Server) -> None:
    await healthy(session, server.url, READY_SECONDS, server.name, server.check)


async def preflight(session: aiohttp.ClientSession, servers: Sequence[Server]) -> None:
    """One signed message each before timing; ingest must accept it into Kafka."""
    for server in servers:
        ((body, headers),) = Messages().take(1)
        async with session.post(server.url + WEBHOOK, data=body, headers=headers) as response:
            answer = await response.text()
        if response.status != 200 or '"accepted"' not in answer:
            raise BenchError(f"{server.name} answered {response.status} {answer[:200]}")


async def make_keys(session: aiohttp.ClientSession, server: Server, messages: Messages) -> None:
    """One message from each customer before timing: each gets its data key once (a claim in
    PostgreSQL and a record on data-keys.v1), as a running desk's known customers have."""
    pending = messages.take(CONTACTS)

    async def sender() -> None:
        while pending:
            body, headers = pending.pop()
            async with session.post(server.url + WEBHOOK, data=body, headers=headers) as answer:
                if answer.status != 200:
                    raise BenchError(f"{server.name} answered {answer.status} making keys")

    await asyncio.gather(*(sender() for _ in range(8)))
