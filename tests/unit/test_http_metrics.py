"""Ingest's HTTP metrics: by route template and status, never by the raw path."""

from __future__ import annotations

from fastapi.testclient import TestClient

from datakeys.testing import in_memory_keyring
from ingest.app import build_ingest, create_app
from ingest.testing import InMemoryEventLog, whatsapp_headers, whatsapp_text_body
from switchboard.settings import Settings

SECRET = "whatsapp-secret-for-tests"


def _metrics_after(paths: list[str]) -> str:
    settings = Settings(whatsapp_app_secret=SECRET)
    ingest = build_ingest(settings, InMemoryEventLog(), in_memory_keyring())
    with TestClient(create_app(ingest)) as client:
        body = whatsapp_text_body(wamid="wamid.m1", phone="15551234567", text="Hello")
        assert (
            client.post(
                "/webhooks/whatsapp", content=body, headers=whatsapp_headers(SECRET, body)
            ).status_code
            == 200
        )
        for path in paths:
            client.get(path)
        return client.get("/metrics").text


def test_requests_are_counted_by_route_template_and_status() -> None:
    """A webhook POST is labelled with its route and status, and timed."""
    text = _metrics_after([])
    assert (
        'switchboard_http_requests_total{method="POST",route="/webhooks/whatsapp",status="200"} 1.0'
        in text
    )
    assert (
        'switchboard_http_request_duration_seconds_count{method="POST",route="/webhooks/whatsapp"}'
        in text
    )
    assert 'switchboard_http_requests_in_progress{method="POST"} 0.0' in text


def test_paths_with_parameters_or_no_route_keep_labels_bounded() -> None:
    """A path parameter's value and an unknown path never become label values."""
    paths = ["/health", "/no-such-page-15551234567", "/gdpr/deletions/abc123secretid"]
    text = _metrics_after(paths)
    assert "15551234567" not in text
    assert "abc123secretid" not in text
    assert 'route="/gdpr/deletions/{deletion_id}"' in text
    assert 'route="unmatched",status="404"' in text
    assert 'route="/health",status="200"' in text


def test_produce_latency_and_webhook_outcomes_share_the_registry() -> None:
    """The produce histogram and webhook outcomes are served on the same /metrics."""
    text = _metrics_after([])
    assert "switchboard_produce_duration_seconds_count 1.0" in text
    assert 'switchboard_webhook_requests_total{outcome="accepted",provider="whatsapp"} 1.0' in text
