"""`switchboard ingest --workers N`: several processes, each building its own app."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from uvicorn.importer import import_from_string

from switchboard.cli import INGEST_APP, parser


def test_workers_default_to_one_process() -> None:
    """Without --workers, ingest serves from one process, as before."""
    assert parser().parse_args(["ingest"]).workers == 1


def test_workers_take_a_positive_count() -> None:
    """--workers 2 is two processes; 0 is refused before anything starts."""
    assert parser().parse_args(["ingest", "--workers", "2"]).workers == 2
    with pytest.raises(SystemExit):
        parser().parse_args(["ingest", "--workers", "0"])


def test_each_worker_process_builds_the_ingest_app_from_the_environment() -> None:
    """What uvicorn imports in each worker process is a factory of the whole ingest app
    (webhooks, health, metrics), wired from Settings, with nothing connected yet."""
    factory = import_from_string(INGEST_APP)
    app = factory()
    assert isinstance(app, FastAPI)
    assert {"/webhooks/whatsapp", "/health", "/health/readiness"} <= set(app.openapi()["paths"])
    assert "/metrics" in {getattr(route, "path", None) for route in app.routes}
