"""Readiness and the detailed view against the real broker and database; outages are made
with a TCP forwarder switched off in front of them, never by stopping the shared servers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from fastapi.testclient import TestClient

from ingest.app import build_ingest, create_app
from ingest.health.routes import build_health
from schemas.catalogue import INBOUND
from sinks.postgres.pool import Database, PoolConfig
from switchboard.settings import Settings
from tests.integration.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


def poll(get: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _split(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


@pytest.fixture
def kafka_proxy(settings: Settings) -> Iterator[TcpProxy]:
    proxy = TcpProxy(*_split(settings.kafka_bootstrap_servers.split(",")[0]))
    yield proxy
    proxy.shutdown()


async def _lagging_group(settings: Settings) -> str:
    """A pipeline group (named after the worker group) 3 messages behind on inbound."""
    group = f"{settings.switchboard_worker_group}-health-{uuid.uuid4().hex[:6]}"
    topic = INBOUND.full_name(settings.switchboard_topic_prefix)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for _ in range(3):
            await producer.send_and_wait(topic, b"{}", key=b"k", partition=0)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        last = (await consumer.end_offsets([tp]))[tp]
        await consumer.commit({tp: OffsetAndMetadata(last - 3, "")})
    finally:
        await consumer.stop()
    return group


async def test_ready_and_detailed_with_the_real_broker(settings: Settings) -> None:
    """200 with Kafka up; detailed shows brokers, topics, the group and lag; /metrics has lag."""
    group = await _lagging_group(settings)
    own = settings.model_copy(update={"switchboard_lag_interval_seconds": 0.5})
    ingest = build_ingest(own)
    checks = build_health(own, ingest.log, registry=ingest.metrics.registry)
    with TestClient(create_app(ingest, checks)) as client:
        ready = client.get("/health/readiness")
        assert ready.status_code == 200, ready.text
        kafka = ready.json()["components"]["kafka"]
        assert kafka["status"] == "up"
        assert kafka["producer_connected"] is True
        assert kafka["brokers"] >= 1
        assert kafka["topics_missing"] == []

        detailed = poll(
            lambda: client.get("/health/detailed").json(),
            lambda body: group in body["components"]["lag"].get("groups", {}),
        )
        lag = detailed["components"]["lag"]["groups"][group]
        assert (lag["lag"], lag["status"], lag["members"]) == (3, "STOP", 0)
        assert lag["lag_seconds"] >= 0
        assert detailed["components"]["consumer_group"]["group"] == own.switchboard_worker_group
        assert detailed["status"] == "degraded"  # a stopped group degrades, never 503s

        metrics = client.get("/metrics").text
        topic = INBOUND.full_name(own.switchboard_topic_prefix)
        labels = f'group="{group}",partition="0",topic="{topic}"'
        line = f"switchboard_consumergroup_lag_messages{{{labels}}} 3.0"
        assert line in metrics


def test_readiness_follows_kafka(settings: Settings, kafka_proxy: TcpProxy) -> None:
    """503 within seconds while the configured broker address is unreachable, 200 when it
    answers, and 503 again when it goes away."""
    own = settings.model_copy(
        update={
            "kafka_bootstrap_servers": f"127.0.0.1:{kafka_proxy.port}",
            "switchboard_lag_interval_seconds": 0,
        }
    )
    ingest = build_ingest(own)
    with TestClient(create_app(ingest, build_health(own, ingest.log))) as client:
        started = time.monotonic()
        answer = client.get("/health/readiness")
        assert answer.status_code == 503
        assert time.monotonic() - started < 2.5
        assert answer.json()["components"]["kafka"]["status"] == "down"
        assert client.get("/health/liveness").status_code == 200

        kafka_proxy.open()
        answer = poll(lambda: client.get("/health/readiness"), lambda r: r.status_code == 200)
        assert answer.status_code == 200, answer.text
        assert answer.json()["components"]["kafka"]["producer_connected"] is True

        kafka_proxy.close()
        started = time.monotonic()
        answer = poll(lambda: client.get("/health/readiness"), lambda r: r.status_code == 503)
        assert answer.status_code == 503
        assert time.monotonic() - started < 5

        kafka_proxy.open()
        answer = poll(lambda: client.get("/health/readiness"), lambda r: r.status_code == 200)
        assert answer.status_code == 200


class _Later:
    """A pool opened once the app's event loop runs (asyncpg pools belong to one loop)."""

    database: Database | None = None

    def connection(self) -> AbstractAsyncContextManager[Any]:
        assert self.database is not None
        return self.database.connection()

    def stats(self) -> dict[str, int]:
        assert self.database is not None
        return self.database.stats()


def test_readiness_follows_postgres(settings: Settings) -> None:
    """503 within seconds of PostgreSQL going away, with pool figures while it is there."""
    url = urlsplit(settings.database_url.get_secret_value())
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 5432)
    proxy.open()
    proxied = urlunsplit(url._replace(netloc=f"{url.username}@127.0.0.1:{proxy.port}"))
    own = settings.model_copy(update={"switchboard_lag_interval_seconds": 0})
    ingest = build_ingest(own)
    later = _Later()
    try:
        with TestClient(create_app(ingest, build_health(own, ingest.log, later))) as client:
            config = PoolConfig(proxied, size=2, max_overflow=0)
            later.database = client.portal.call(Database.connect, config)  # type: ignore[union-attr]
            answer = client.get("/health/readiness")
            assert answer.status_code == 200, answer.text
            postgres = answer.json()["components"]["postgres"]
            assert postgres["pool"]["size"] == 2
            assert postgres["pool"]["idle"] + postgres["pool"]["in_use"] == 2

            proxy.close()
            started = time.monotonic()
            answer = poll(lambda: client.get("/health/readiness"), lambda r: r.status_code == 503)
            assert answer.status_code == 503
            assert time.monotonic() - started < 5
            assert answer.json()["components"]["postgres"]["status"] == "down"

            proxy.open()
            answer = poll(lambda: client.get("/health/readiness"), lambda r: r.status_code == 200)
            assert answer.status_code == 200, answer.text
            client.portal.call(later.database.close)  # type: ignore[union-attr]
    finally:
        proxy.shutdown()
