"""A record whose acknowledgement the consumer never got holds its partition's commit, and
the commit watch reads the partition again from it: handled twice, nothing committed past
it unhandled, and the group catches up. Without the watch the commit stays held."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.one_partition_app import (
    LOST,
    RECORDS,
    MakeApp,
    until_handled,
)

pytestmark = pytest.mark.integration

PATIENCE = 2.0
APP = "commit_watch_app"


async def test_a_record_the_consumer_never_heard_of_is_read_again_and_then_committed(
    app_factory: MakeApp,
) -> None:
    app = app_factory(APP, str(PATIENCE))
    await app.run()
    await app.until_committed(RECORDS)
    lines = app.lines()
    assert lines.count(f"handled {LOST}") == 2, lines
    assert "repaired reread" in lines
    assert "repaired skip" not in lines


async def test_without_the_watch_the_commit_waits_at_the_unacknowledged_record(
    app_factory: MakeApp,
) -> None:
    app = app_factory(APP, "0")
    await app.run()
    await until_handled(app, RECORDS)
    await asyncio.sleep(3 * PATIENCE)  # commits run every second
    # Faust alone would have committed past it (to 10) as soon as offset 4 was acknowledged.
    assert await app.committed() == LOST
    assert app.lines().count(f"handled {LOST}") == 1
