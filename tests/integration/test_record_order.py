"""A record lost inside the consumer on its way to an ordered agent: the partition is read
again from it before any later record is handled, and the group commits to the end. Without
the order check the later records are handled first and the commit waits at the lost one."""

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

APP = "record_order_app"


def first_handled(lines: list[str]) -> list[int]:
    """Offsets in the order they were first handled."""
    handled = [int(line.split()[1]) for line in lines if line.startswith("handled")]
    return list(dict.fromkeys(handled))


async def test_a_lost_record_is_read_again_before_the_records_after_it(
    app_factory: MakeApp,
) -> None:
    app = app_factory(APP, "1")
    await app.run()
    await app.until_committed(RECORDS)
    lines = app.lines()
    assert first_handled(lines) == list(range(RECORDS)), lines
    assert f"missing {LOST} at {LOST + 1}" in lines


async def test_without_the_check_later_records_are_handled_first(app_factory: MakeApp) -> None:
    app = app_factory(APP, "0")
    await app.run()
    await until_handled(app, RECORDS - 1)
    await asyncio.sleep(3)  # commits run every second
    assert first_handled(app.lines()) == [n for n in range(RECORDS) if n != LOST]
    assert await app.committed() == LOST
