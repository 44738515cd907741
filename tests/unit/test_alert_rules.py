"""deploy/: Prometheus loads the alert rules, and every metric the rules and the Grafana
dashboard use is served on /metrics by ingest or the worker (promtool's check of the rules
runs with the integration tests)."""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from datakeys.testing import in_memory_keyring
from ingest.app import build_ingest, create_app
from ingest.testing import InMemoryEventLog, whatsapp_headers, whatsapp_text_body
from streams.bootstrap import bootstrap
from switchboard.settings import Settings
from tests.deploy_metrics import (
    PROMETHEUS,
    ROOT,
    rule_expressions,
    served_names,
    used_names,
)

SECRET = "alert-rules-whatsapp-secret"


def ingest_exposition() -> str:
    """ingest's /metrics after a webhook went through."""
    settings = Settings(whatsapp_app_secret=SECRET)
    with TestClient(
        create_app(build_ingest(settings, InMemoryEventLog(), in_memory_keyring()))
    ) as client:
        body = whatsapp_text_body(wamid="wamid.rules", phone="15550000000", text="hi")
        client.post("/webhooks/whatsapp", content=body, headers=whatsapp_headers(SECRET, body))
        return client.get("/metrics").text


def worker_exposition(tmp_path: Path) -> str:
    """The worker's registry as the bootstrap wires it (lag and retention gauges included),
    without starting the app."""
    settings = Settings(switchboard_worker_data_dir=tmp_path)
    return generate_latest(bootstrap(settings).metrics.registry).decode()


def test_prometheus_loads_the_rules_and_scrapes_both_processes() -> None:
    """docker-compose's Prometheus evaluates alerts.yml and scrapes ingest and the worker."""
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in volumes
    port = Settings.model_fields["switchboard_worker_web_port"].default
    targets = {
        t for job in config["scrape_configs"] for g in job["static_configs"] for t in g["targets"]
    }
    assert f"worker:{port}" in targets


def test_every_metric_used_is_served(tmp_path: Path) -> None:
    """No alert or panel reads a metric that neither process exposes."""
    served = served_names(ingest_exposition()) | served_names(worker_exposition(tmp_path))
    used = used_names()
    assert len(used) > 30
    assert used <= served, sorted(used - served)


def test_rules_cover_what_operations_asked_for() -> None:
    """Lag in seconds, stalled and stopped partitions, webhook errors, dead letters and
    erasures not completing each have a rule."""
    text = "\n".join(rule_expressions())
    for needle in (
        "switchboard_consumergroup_lag_seconds",
        "switchboard_consumergroup_status == 5",
        "switchboard_consumergroup_status == 4",
        "switchboard_webhook_requests_total",
        "switchboard_dead_letters_total",
        "switchboard_erasure_oldest_pending_age_seconds",
    ):
        assert needle in text
