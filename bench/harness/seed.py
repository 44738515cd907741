"""The seed design, kept as a baseline: FastAPI, the same HMAC check, a Celery `.delay()`.

What webhook receivers commonly do before a log: verify the signature, hand the payload to
a Celery task through Redis and answer 200. Its answer promises less than ingest's: the
task sits in one Redis server's memory (no replica, no fsync) and nothing is sealed. It is
the yardstick ingest's tail and throughput are held to, not a design to copy. No Celery
worker runs: `.delay()` is all a webhook waits for, and the bench empties the queue.
"""

from __future__ import annotations

import json
import subprocess
from contextlib import ExitStack
from pathlib import Path

import uvicorn
from celery import Celery
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bench.harness.children import HOST, die_with_parent, free_port, stop
from ingest.signatures import whatsapp as whatsapp_signature
from ingest.signatures.errors import SignatureError

WEBHOOK = "/webhooks/whatsapp"


def seed_app(secret: bytes, redis_url: str) -> FastAPI:
    celery = Celery("seed", broker=redis_url)
    celery.conf.broker_connection_retry_on_startup = True

    @celery.task(name="seed.process_whatsapp")  # type: ignore[untyped-decorator]
    def process_whatsapp(payload: object) -> None:
        """Run by a Celery worker in the seed design; none runs in the benchmark."""

    app = FastAPI(title="seed")

    @app.post(WEBHOOK)
    async def webhook(request: Request) -> Response:
        body = await request.body()
        try:
            whatsapp_signature.verify((secret,), request.headers, body)
        except SignatureError:
            return JSONResponse({"detail": "bad signature"}, status_code=403)
        process_whatsapp.delay(json.loads(body))  # blocks the loop for Redis's answer
        return JSONResponse({"status": "accepted", "events": 1, "ignored": 0})

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "healthy"})

    return app


def serve_seed(port: int, secret: str, redis_url: str) -> None:
    """Served exactly as `switchboard ingest` serves ingest (one process)."""
    uvicorn.run(
        seed_app(secret.encode(), redis_url),
        host=HOST,
        port=port,
        access_log=False,
        proxy_headers=False,
        log_level="warning",
    )


def start_redis(server: str, logs: Path, stack: ExitStack) -> str:
    """A private Redis (`server` is its executable) on a free port, stopped with the run;
    its URL. Run as Celery's broker usually is: no snapshots, no append-only file."""
    port = free_port()
    argv = [server, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    with (logs / "redis.log").open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the Debian package's server, fixed flags
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - spawned before any thread
        )
    stack.callback(stop, process)
    return f"redis://{HOST}:{port}/0"
