"""`switchboard replay`: move a consumer group back (or seed a new one), or re-publish a
range into the pipeline. Refusals exit 1 (2 for a request that does not parse), with the
reason on stderr; the plan and summary go to stdout, the progress bar to stderr."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

import asyncpg
from aiokafka.errors import KafkaError

from schemas.catalogue import ERASURES
from sinks.postgres.pool import Database, PoolConfig
from sinks.postgres.replays import register_replay_group
from streams.replay.broker import (
    Republisher,
    commit_offsets,
    group_state,
    log_bounds,
    read_keys,
    read_range,
    reader,
)
from streams.replay.erased import ErasureFilter, erased_contacts
from streams.replay.marks import republished_headers
from streams.replay.plan import ReplayPlan, ReplayRefusedError, ReplayRequest, make_plan, refusal
from streams.replay.report import Tally, headline, progress_bar, render_plan, summary
from switchboard.settings import Settings


class Progress:
    """A text progress bar on one line of stderr, redrawn at most ten times a second."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self._drawn = 0.0

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if done < self.total and now - self._drawn < 0.1:
            return
        self._drawn = now
        print(f"\r{progress_bar(done, self.total)}", end="", file=self.stream, flush=True)

    def finish(self) -> None:
        print(file=self.stream, flush=True)


async def republish(
    bootstrap_servers: str, plan: ReplayPlan, erasures: ErasureFilter, progress: Progress
) -> Tally:
    """Copy the range into its topic, marked as a replay, leaving out erased contacts."""
    request = plan.request
    topic = request.full_topic
    tally = Tally()
    publisher = Republisher(bootstrap_servers)
    await publisher.start()
    try:
        async with reader(bootstrap_servers) as consumer:
            async for record in read_range(consumer, topic, plan.partitions):
                verdict = erasures.verdict(record.value)
                if verdict == "erased":
                    tally.erased += 1
                elif verdict == "unreadable":
                    tally.unreadable += 1
                else:
                    headers = republished_headers(
                        record.headers, topic, record.partition, record.offset, request.resend
                    )
                    await publisher.send(topic, record.partition, record.key, record.value, headers)
                    tally.republished += 1
                progress(tally.read)
    finally:
        await publisher.close()
    progress.finish()
    return tally


async def replay(settings: Settings, request: ReplayRequest, out: TextIO = sys.stdout) -> int:
    bootstrap = settings.kafka_bootstrap_servers
    bounds = await log_bounds(bootstrap, request.full_topic, request.from_time, request.to_time)
    plan = make_plan(request, bounds)
    print(headline(plan, dry_run=request.dry_run), file=out)
    if request.mode == "offsets":
        members, current = await group_state(bootstrap, request.group, request.full_topic)
        print(render_plan(plan, current), file=out)
        reason = refusal(request, members, worker_group=settings.switchboard_worker_group)
        if reason is not None:
            raise ReplayRefusedError(reason)
    else:
        print(render_plan(plan), file=out)
    if request.dry_run:
        print("dry run: nothing was changed", file=out)
        return 0
    if request.mode == "offsets":
        replay_group = request.group != settings.switchboard_worker_group
        if replay_group:
            await _register(settings, request)
        await commit_offsets(bootstrap, request.group, request.full_topic, plan.partitions)
        print(summary(plan, replay_group=replay_group), file=out)
        return 0
    erasures = ErasureFilter.from_contacts(
        erased_contacts(
            await read_keys(bootstrap, ERASURES.full_name(settings.switchboard_topic_prefix))
        )
    )
    tally = await republish(bootstrap, plan, erasures, Progress(plan.total))
    print(summary(plan, tally), file=out)
    return 0


async def _register(settings: Settings, request: ReplayRequest) -> None:
    """Mark the group as a replay's, before it has offsets: a worker in it sends nothing."""
    config = PoolConfig(settings.database_url.get_secret_value(), size=1, max_overflow=0)
    database = await Database.connect(config)
    try:
        await register_replay_group(database, request.group, request.full_topic, request.resend)
    finally:
        await database.close()


def run(settings: Settings, request: ReplayRequest) -> int:
    try:
        return asyncio.run(replay(settings, request))
    except ReplayRefusedError as exc:
        print(f"replay refused: {exc}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"replay stopped: PostgreSQL answered {type(exc).__name__}", file=sys.stderr)
        return 1
    except KafkaError as exc:
        print(
            f"replay stopped: Kafka at {settings.kafka_bootstrap_servers} answered "
            f"{type(exc).__name__}",
            file=sys.stderr,
        )
        return 1
