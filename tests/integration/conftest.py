"""The real Kafka broker and PostgreSQL, started once per session by the project's launcher.

`KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` in the environment point the tests at existing
servers instead. Each session gets its own database and topic prefix, so runs never see
each other's data.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ingest.app import build_ingest, create_app
from ingest.compliance import apikeys
from ingest.compliance.keystore import KeyStore
from sinks.postgres.pool import Database, PoolConfig
from streams import topics
from switchboard import stack
from switchboard.settings import Settings
from switchboard.stack.scratch import create_database, drop_database
from switchboard.standins import StandInURLs, run_standins
from tests.integration.sentry_receiver import Receiver, sentry_off

ROOT = Path(__file__).resolve().parents[2]
TEST_SECRET = "integration-whatsapp-secret"
TEST_CHATWOOT_SECRET = "integration-chatwoot-secret"


@pytest.fixture(scope="session")
def endpoints() -> stack.Endpoints:
    return stack.up(Settings(), dict(os.environ))


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
async def database_url(endpoints: stack.Endpoints, run_id: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this session, dropped afterwards."""
    url = await create_database(endpoints.database_url, f"switchboard_test_{run_id}")
    yield url
    await drop_database(endpoints.database_url, url)


@pytest.fixture(scope="session")
def standins() -> Iterator[StandInURLs]:
    """Chatwoot, Graph API and 360dialog stand-ins for the whole session."""
    with run_standins() as urls:
        yield urls


@pytest.fixture
def standin_requests(standins: StandInURLs) -> Callable[[str], list[dict[str, Any]]]:
    """What a stand-in ("chatwoot", "graph", "dialog360") has received so far."""

    def fetch(which: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{getattr(standins, which)}/_standin/requests", timeout=5)
        requests: list[dict[str, Any]] = response.json()["requests"]
        return requests

    return fetch


@pytest.fixture(scope="session")
async def settings(
    endpoints: stack.Endpoints, database_url: str, run_id: str, standins: StandInURLs
) -> Settings:
    """Settings for this session: its own topics, consumer group and database."""
    settings = Settings(
        kafka_bootstrap_servers=endpoints.kafka_bootstrap_servers,
        database_url=SecretStr(database_url),
        switchboard_topic_prefix=f"test-{run_id}.",
        switchboard_worker_group=f"test-worker-{run_id}",
        whatsapp_app_secret=(SecretStr(TEST_SECRET),),
        chatwoot_webhook_secret=(SecretStr(TEST_CHATWOOT_SECRET),),
        rate_limit_per_minute=100_000,
        switchboard_compliance_client_per_minute=100_000,
        switchboard_compliance_key_per_minute=100_000,
        switchboard_produce_timeout_seconds=3.0,
        chatwoot_base_url=standins.chatwoot,
        whatsapp_api_base_url=standins.whatsapp_api_base_url,
        dialog360_api_base_url=standins.dialog360,
    )
    await topics.apply(
        settings.kafka_bootstrap_servers,
        settings.switchboard_topic_prefix,
        settings.switchboard_kafka_replication_factor,
    )
    return settings


async def isolated(settings: Settings, name: str) -> Settings:
    """The session's settings with topics and a consumer group of their own, for a test
    that runs its own worker (with other options, or to kill it)."""
    run = uuid.uuid4().hex[:8]
    own = settings.model_copy(
        update={
            "switchboard_topic_prefix": f"{name}-{run}.",
            "switchboard_worker_group": f"{name}-worker-{run}",
        }
    )
    await topics.apply(own.kafka_bootstrap_servers, own.switchboard_topic_prefix, 1)
    return own


async def compliance_key(settings: Settings, name: str, *scopes: str) -> str:
    """A compliance API key with these scopes (all when none is named), stored in the
    session's database; its token."""
    database = await Database.connect(
        PoolConfig(settings.database_url.get_secret_value(), size=1, max_overflow=0)
    )
    try:
        key = apikeys.generate(name, scopes or apikeys.SCOPES)
        await KeyStore(database).add(key)
    finally:
        await database.close()
    return key.token


def settings_env(settings: Settings, tmp: Path) -> dict[str, str]:
    """The environment a child process needs to run with these settings."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "SWITCHBOARD_TOPIC_PREFIX": settings.switchboard_topic_prefix,
        "SWITCHBOARD_WORKER_GROUP": settings.switchboard_worker_group,
        "SWITCHBOARD_WORKER_DATA_DIR": str(tmp / "worker-data"),
        "SWITCHBOARD_EXPORT_DIR": str(tmp / "exports"),
        "WHATSAPP_APP_SECRET": TEST_SECRET,
        "CHATWOOT_WEBHOOK_SECRET": TEST_CHATWOOT_SECRET,
        "SWITCHBOARD_LOG_LEVEL": "INFO",
        "CHATWOOT_BASE_URL": settings.chatwoot_base_url,
        "WHATSAPP_API_BASE_URL": settings.whatsapp_api_base_url,
        "DIALOG360_API_BASE_URL": settings.dialog360_api_base_url,
        # Short enough that tests of a failing Chatwoot finish quickly.
        "SWITCHBOARD_DELIVERY_TIMEOUT_SECONDS": "2",
    }


class Worker:
    """A real `switchboard worker` process."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "switchboard.cli", "worker"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """ingest in-process, with the session's settings."""
    with TestClient(create_app(build_ingest(settings))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    tmp = tmp_path_factory.mktemp("worker")
    running = Worker(settings_env(settings, tmp), tmp / "worker.log")
    running.start()
    yield running
    running.stop()


async def eventually(
    probe: Callable[[], Any],
    timeout: float = 30.0,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    interval: float = 0.2,
) -> Any:
    """Poll an async probe until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A Sentry envelope endpoint; Sentry is left off (no DSN, no integrations) afterwards."""
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    sentry_off()
