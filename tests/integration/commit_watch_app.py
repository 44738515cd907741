"""A Faust app whose agent loses the acknowledgement of one record, once, the way Faust
loses one around a rebalance: the stream is done with the record, the consumer never hears
of it. With the commit watch on, the partition must be read again from that record.

    python -m tests.integration.commit_watch_app TOPIC OFFSET JOURNAL PATIENCE

Every record handled and every repair is appended to JOURNAL. PATIENCE 0 leaves the watch
off. Settings come from the environment, as for `switchboard worker`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import faust

from streams.runtime.app import create_app
from streams.runtime.commit_watch import CommitAction
from streams.runtime.faust_fixes import watch_commits
from switchboard.settings import Settings


def build(topic_name: str, lose: int, journal: Path, patience: float) -> faust.App:
    app = create_app(Settings())
    topic = app.topic(topic_name, key_serializer="raw", value_serializer="raw")
    lost: list[int] = []

    def note(line: str) -> None:
        with journal.open("a") as out:
            out.write(line + "\n")

    @app.agent(topic)
    async def handle(stream: Any) -> None:
        async for event in stream.noack().events():
            offset = event.message.offset
            note(f"handled {offset}")
            if offset == lose and not lost:
                lost.append(offset)
                event.message.acked = True  # done with, and the consumer never told
            else:
                await stream.ack(event)

    if patience:

        def repaired(topic: str, verdict: CommitAction) -> None:
            note(f"repaired {verdict.value}")

        watch_commits(app, interval=0.5, patience=patience, repaired=repaired)
    return app


if __name__ == "__main__":
    name, offset, path, patience = sys.argv[1:5]
    worker = faust.Worker(build(name, int(offset), Path(path), float(patience)), loglevel="info")
    worker.spinner = None
    worker.execute_from_commandline()
