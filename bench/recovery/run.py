"""A recovery run from start to end: its own database and topics, the Chatwoot stand-in in
this process and the workers as children; the stream started, the kills in turn, the
stream stopped and every message checked."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import uvloop
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from bench.harness.children import free_port
from bench.harness.kafka import Names, apply_topics, kafka_producer, produce, remove_topics
from bench.harness.waiting import until
from bench.harness.watch import ActionWatch
from bench.harness.worker import START_SECONDS, child_env
from bench.recovery.exactly_once import Counts, exactly_once
from bench.recovery.kills import restarts, takeovers
from bench.recovery.rig import Plan, Rig
from bench.recovery.stream import Stream
from bench.recovery.workers import Workers
from datakeys.build import build_keyring
from schemas.catalogue import ACTIONS
from sinks.postgres.pool import Database, PoolConfig
from switchboard.settings import Settings
from switchboard.stack.scratch import create_database, drop_database
from switchboard.standins import StandInURLs, Tokens, run_standins


async def phases(rig: Rig, producer: AIOKafkaProducer, chatwoot: str) -> Counts:
    ((record, warm, _),) = await rig.stream.sealed(1)
    await produce(producer, [record])
    print("waiting for the worker's first action", file=sys.stderr, flush=True)
    await until(lambda: rig.watch.has([warm]), START_SECONDS, "the first action", rig.workers.check)
    sender = asyncio.create_task(rig.stream.run(rig.plan.rate))
    try:
        await restarts(rig)
        await takeovers(rig)
        await asyncio.sleep(rig.plan.steady)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    return await exactly_once(rig, chatwoot)


async def measure(
    settings: Settings, names: Names, plan: Plan, workers: Workers
) -> tuple[Rig, Counts]:
    url = settings.database_url.get_secret_value()
    database = await Database.connect(PoolConfig(url, size=2, max_overflow=0))

    async def db() -> Database:
        return database

    keyring = build_keyring(settings, db)
    watch = ActionWatch(settings.kafka_bootstrap_servers, names.topic(ACTIONS))
    producer = kafka_producer(settings)
    rig = Rig(settings, names, plan, workers, watch, Stream(producer, keyring, settings))
    workers.start()
    try:
        await keyring.start()
        await watch.start()
        await producer.start()
        return rig, await phases(rig, producer, settings.chatwoot_base_url)
    finally:
        await producer.stop()
        await watch.stop()
        await keyring.stop()
        await database.close()


def run_bench(
    plan: Plan, settings: Settings, names: Names, logs: Path | None
) -> tuple[Rig, Counts]:
    server = settings.database_url.get_secret_value()
    with (
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
        tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp,
        ExitStack() as stack,  # exits first: workers, stand-ins, then topics and database
    ):
        url = runner.run(create_database(server, f"bench_recovery_{names.run}"))
        stack.callback(lambda: runner.run(drop_database(server, url)))
        stack.callback(lambda: runner.run(remove_topics(settings, names)))
        own = settings.model_copy(
            update={"database_url": SecretStr(url), "switchboard_topic_prefix": names.prefix}
        )
        runner.run(apply_topics(own, names))
        urls: StandInURLs = stack.enter_context(run_standins(tokens=Tokens.from_settings(own)))
        own = own.model_copy(update={"chatwoot_base_url": urls.chatwoot})

        def env(n: int) -> dict[str, str]:
            return child_env(own, names, urls, Path(tmp) / f"worker-data-{n}") | {
                "SWITCHBOARD_WORKER_WEB_PORT": str(free_port()),  # two may run at once
                **({"SWITCHBOARD_LOG_LEVEL": "INFO"} if logs else {}),
            }

        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
        workers = Workers(env, logs or Path(tmp), stack)
        try:
            return runner.run(measure(own, names, plan, workers))
        except BaseException:
            for child in workers.spawned:
                print(f"--- {child.name} log (tail) ---\n{child.tail()}", file=sys.stderr)
            raise
