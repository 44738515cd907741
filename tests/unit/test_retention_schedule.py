"""The retention schedule and metrics, without a broker."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from streams.bootstrap import bootstrap
from streams.retention.metrics import RetentionMetrics
from switchboard.cli import main
from switchboard.settings import Settings


def test_a_malformed_schedule_stops_the_worker_at_start() -> None:
    """A cron expression that cannot be parsed is refused when the worker is built."""
    settings = Settings(switchboard_retention_cron="every night")
    with pytest.raises(ValueError, match="SWITCHBOARD_RETENTION_CRON"):
        bootstrap(settings)


def test_metrics_count_removals_by_category_only() -> None:
    """Each run adds its counts per category; the category is the only label."""
    registry = CollectorRegistry()
    metrics = RetentionMetrics(registry)
    metrics.completed(
        {"contacts": 2, "conversations": 0, "consent_records": 1, "analytics": 0}, 1.0
    )
    metrics.completed(
        {"contacts": 1, "conversations": 0, "consent_records": 0, "analytics": 0}, 2.0
    )
    value = registry.get_sample_value
    assert value("switchboard_retention_removed_total", {"category": "contacts"}) == 3
    assert value("switchboard_retention_removed_total", {"category": "consent_records"}) == 1
    assert value("switchboard_retention_runs_total", {"outcome": "completed"}) == 2
    assert value("switchboard_retention_last_success_timestamp_seconds") == 2.0


@pytest.mark.parametrize("now", ["2030-01-01T02:00:00", "yesterday"])
def test_the_cli_refuses_a_simulated_time_without_a_zone(
    now: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`retention run --now` needs an unambiguous instant."""
    assert main(["retention", "run", "--now", now]) == 2
    assert "ISO-8601" in capsys.readouterr().err
