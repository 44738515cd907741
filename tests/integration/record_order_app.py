"""A Faust app whose agent never gets one record, once, the way Faust loses one inside the
consumer around a seek: the records after it arrive, the lost one does not. With the order
check on, the partition must be read again from it before any later record is handled.

    python -m tests.integration.record_order_app TOPIC OFFSET JOURNAL ORDERED

Every record handled and every gap noticed is appended to JOURNAL. ORDERED 0 leaves the
check off. Settings come from the environment, as for `switchboard worker`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import faust
from faust.types import EventT

from streams.runtime.app import create_app
from streams.runtime.reading import ordered_reader
from streams.runtime.record_order import Order, in_order
from switchboard.settings import Settings


async def losing(records: AsyncIterator[EventT[bytes]], lose: int) -> AsyncIterator[EventT[bytes]]:
    """Every record but the first delivery of offset ``lose``."""
    lost = False
    async for record in records:
        if record.message.offset == lose and not lost:
            lost = True
            continue
        yield record


def build(topic_name: str, lose: int, journal: Path, ordered: bool) -> faust.App:
    app = create_app(Settings())
    topic = app.topic(topic_name, key_serializer="raw", value_serializer="raw")

    def note(line: str) -> None:
        with journal.open("a") as out:
            out.write(line + "\n")

    @app.agent(topic)
    async def handle(stream: Any) -> None:
        manual = stream.noack()
        records = losing(manual.events(), lose)
        if ordered:
            gap = ordered_reader(app, lambda tp, missing, at: note(f"missing {missing} at {at}"))
            records = in_order(records, Order(), gap)
        async for record in records:
            note(f"handled {record.message.offset}")
            await manual.ack(record)

    return app


if __name__ == "__main__":
    name, offset, path, ordered = sys.argv[1:5]
    worker = faust.Worker(build(name, int(offset), Path(path), ordered == "1"), loglevel="info")
    worker.spinner = None
    worker.execute_from_commandline()
