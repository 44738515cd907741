"""A real worker serves /metrics after processing a message, and the correlation id of the
webhook follows the event to the outbound sender's log line."""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ingest.app import build_ingest, create_app
from ingest.testing import whatsapp_headers, whatsapp_text_body
from switchboard.settings import Settings
from tests.deploy_metrics import served_names, used_names
from tests.integration.conftest import TEST_SECRET, Worker, eventually, isolated, settings_env

pytestmark = pytest.mark.integration

# Families a dashboard or alert reads from the worker (see deploy/).
WORKER_FAMILIES = {
    "switchboard_worker_messages_processed",
    "switchboard_worker_message_duration_seconds",
    "switchboard_flow_runs",
    "switchboard_handoffs",
    "switchboard_retrieval_searches",
    "switchboard_retrieval_passages_returned",
    "switchboard_model_calls",
    "switchboard_model_errors",
    "switchboard_deliveries",
    "switchboard_dead_letters",
    "switchboard_postgres_queries",
    "switchboard_postgres_query_duration_seconds",
    "switchboard_postgres_pool_connections",
    "switchboard_consent_changes",
    "switchboard_exports",
    "switchboard_erasures_requested",
    "switchboard_erasures_completed",
    "switchboard_erasures_pending",
    "switchboard_consumergroup_lag_messages",
    "switchboard_consumergroup_lag_seconds",
    "switchboard_consumergroup_status",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def own(settings: Settings) -> Settings:
    return await isolated(settings, "metrics")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def metrics_worker(own: Settings, port: int, tmp_path: Path) -> Iterator[Worker]:
    env = {
        **settings_env(own, tmp_path),
        "SWITCHBOARD_WORKER_WEB_PORT": str(port),
        "SWITCHBOARD_LAG_INTERVAL_SECONDS": "1",
    }
    running = Worker(env, tmp_path / "worker.log")
    running.start()
    yield running
    running.stop()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


async def scrape(port: int) -> str | None:
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
    except httpx.TransportError:
        return None
    return response.text if response.status_code == 200 else None


async def test_metrics_and_correlation_after_a_message(
    own: Settings, port: int, metrics_worker: Worker
) -> None:
    """After one customer message: every family is served, the counters moved, and the
    sender's log line carries the webhook's correlation id."""
    request_id = f"corr-{uuid.uuid4().hex[:12]}"
    body = whatsapp_text_body(
        wamid=f"wamid.metrics-{uuid.uuid4().hex}",
        phone="15550109999",
        text="How long does delivery take?",
    )
    with TestClient(create_app(build_ingest(own))) as client:
        headers = {**whatsapp_headers(TEST_SECRET, body), "X-Request-ID": request_id}
        assert client.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 200
        ingest_metrics = client.get("/metrics").text

    async def delivered() -> str | None:
        # The store writes beside converse and deliver, not before them: wait for both.
        text = await scrape(port)
        name = "switchboard_deliveries_total"
        if (
            text
            and value(text, name, provider="whatsapp-cloud", outcome="delivered") >= 1
            and value(text, "switchboard_worker_messages_processed_total", agent="store") >= 1
        ):
            return text
        return None

    text = await eventually(delivered, timeout=60)
    assert text, metrics_worker.log()
    families = {family.name for family in text_string_to_metric_families(text)}
    assert families >= WORKER_FAMILIES, WORKER_FAMILIES - families
    assert value(text, "switchboard_worker_messages_processed_total", agent="converse") >= 1
    assert value(text, "switchboard_worker_messages_processed_total", agent="store") >= 1
    runs = [v for (name, _), v in samples(text).items() if name == "switchboard_flow_runs_total"]
    assert sum(runs) == 1
    assert value(text, "switchboard_retrieval_searches_total") >= 1
    assert value(text, "switchboard_postgres_queries_total", verb="insert") >= 1
    assert value(text, "switchboard_postgres_pool_connections", state="size") >= 1
    assert "15550109999" not in text
    # Every metric the alert rules and the dashboard read is served by one of the processes.
    missing = used_names() - served_names(text) - served_names(ingest_metrics)
    assert not missing, sorted(missing)

    log = metrics_worker.log()
    assert "metrics_serving" in log
    sent = [line for line in log.splitlines() if "outbound_step_delivered" in line]
    assert sent, log
    assert all(re.search(rf"correlation_id=\W*{request_id}", line) for line in sent), sent
    assert "HTTP Request:" not in log
    assert "15550109999" not in log


async def test_the_erasure_backlog_is_read_from_the_database(
    own: Settings, port: int, database_url: str, metrics_worker: Worker
) -> None:
    """An erasure pending for two days shows in the backlog gauges the alert reads."""
    deletion_id = f"del-metrics-{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by, status,"
            " requested_at) VALUES ($1, 'contact-metrics', 'test', 'test', 'pending',"
            " now() - interval '2 days')",
            deletion_id,
        )

        async def backlog() -> str | None:
            text = await scrape(port)
            age = value(text or "", "switchboard_erasure_oldest_pending_age_seconds")
            return text if age >= 2 * 86400 else None

        text = await eventually(backlog, timeout=60)
        assert text, metrics_worker.log()
        assert value(text, "switchboard_erasures_pending") >= 1
    finally:
        await conn.execute("DELETE FROM gdpr_deletions WHERE deletion_id = $1", deletion_id)
        await conn.close()
