from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

# Fixtures shared by tests in several modules, kept beside what they use.
pytest_plugins = ["tests.integration.one_partition_app"]

# Real provider bodies (see tests/fixtures/*/README.md for where they come from);
# SWITCHBOARD_FIXTURES_DIR points at another copy.
_DEFAULT_FIXTURES = Path(__file__).resolve().parent / "fixtures"

Fixtures = dict[tuple[str, str], Any]


def _fixtures_dir() -> Path:
    override = os.environ.get("SWITCHBOARD_FIXTURES_DIR")
    return Path(override) if override else _DEFAULT_FIXTURES


@pytest.fixture(scope="session")
def whatsapp_fixtures() -> dict[tuple[str, str], Any]:
    """Every WhatsApp Cloud API body, keyed by (file name, case name): ("message.json", "text")."""
    folder = _fixtures_dir() / "whatsapp-cloud"
    files = sorted(folder.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no WhatsApp fixtures in {folder}")
    bodies: dict[tuple[str, str], Any] = {}
    for path in files:
        cases = json.loads(path.read_text(encoding="utf-8"))
        for case, body in cases.items():
            bodies[(path.name, case)] = body
    return bodies


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """`switchboard.cli.main` configures structlog for the process, writing to the stderr of
    the test that called it: restore the defaults so later tests do not log to a closed file."""
    yield
    structlog.reset_defaults()
