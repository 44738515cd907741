"""`switchboard lag`: the pipeline's consumer groups, partition by partition.

Without `--watch` it takes two samples `SAMPLE_GAP_SECONDS` apart, so that a status that
needs movement (STALL, WARN, REWIND) can be judged, and prints the second; STOP and OK need
only one. With `--watch` it samples every few seconds and keeps a window of five minutes, the
same window the lag monitor keeps.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from lag.offsets import LagReader
from lag.report import render_table, report_json
from lag.tracker import LagTracker, Report
from sinks.kafka.errors import KAFKA_FAILURES
from switchboard.settings import Settings

SAMPLE_GAP_SECONDS = 2.0
WINDOW_SECONDS = 300.0


async def _sample(
    reader: LagReader, tracker: LagTracker, settings: Settings, only: Sequence[str]
) -> Report:
    groups = list(only) or await reader.list_groups(settings.switchboard_worker_group)
    return tracker.add(await reader.snapshot(groups))


async def describe(settings: Settings, only: Sequence[str] = (), *, samples: int = 2) -> Report:
    """The groups' lag after `samples` looks `SAMPLE_GAP_SECONDS` apart."""
    reader = LagReader(settings.kafka_bootstrap_servers)
    tracker = LagTracker(window_seconds=WINDOW_SECONDS)
    await reader.start()
    try:
        report = await _sample(reader, tracker, settings, only)
        for _ in range(samples - 1):
            await asyncio.sleep(SAMPLE_GAP_SECONDS)
            report = await _sample(reader, tracker, settings, only)
        return report
    finally:
        await reader.close()


async def watch(
    settings: Settings, only: Sequence[str], every: float, show: Callable[[Report], None]
) -> None:
    reader = LagReader(settings.kafka_bootstrap_servers)
    tracker = LagTracker(window_seconds=WINDOW_SECONDS)
    await reader.start()
    try:
        while True:
            show(await _sample(reader, tracker, settings, only))
            await asyncio.sleep(every)
    finally:
        await reader.close()


def _printer(as_json: bool, clear: bool) -> Callable[[Report], None]:
    def show(report: Report) -> None:
        if as_json:
            print(json.dumps(report_json(report)), flush=True)
            return
        if clear:
            print("\x1b[2J\x1b[H", end="")
        stamp = datetime.fromtimestamp(report.time, UTC).isoformat(timespec="seconds")
        print(f"{stamp}\n{render_table(report)}\n", flush=True)

    return show


def run(
    settings: Settings, *, groups: Sequence[str], watch_seconds: float | None, as_json: bool
) -> int:
    try:
        return _run(settings, groups, watch_seconds, as_json)
    except KAFKA_FAILURES as exc:
        where = settings.kafka_bootstrap_servers
        print(f"cannot read consumer groups from Kafka at {where}: {exc}", file=sys.stderr)
        return 1


def _run(
    settings: Settings, groups: Sequence[str], watch_seconds: float | None, as_json: bool
) -> int:
    if watch_seconds is not None:
        show = _printer(as_json, clear=sys.stdout.isatty())
        try:
            asyncio.run(watch(settings, groups, watch_seconds, show))
        except KeyboardInterrupt:
            return 0
        return 0
    report = asyncio.run(describe(settings, groups))
    if as_json:
        print(json.dumps(report_json(report), indent=2))
    else:
        print(render_table(report))
    return 0
