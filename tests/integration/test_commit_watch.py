"""A record whose acknowledgement the consumer never got holds its partition's commit, and
the commit watch reads the partition again from it: handled twice, nothing committed past
it unhandled, and the group catches up. Without the watch the commit stays held."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import GroupCoordinatorNotAvailableError

from switchboard.settings import Settings
from tests.faults.rig import Service, python
from tests.integration.conftest import settings_env

pytestmark = pytest.mark.integration

RECORDS = 10
LOST = 3  # the offset whose acknowledgement goes missing
PATIENCE = 2.0
STARTUP_SECONDS = 240.0  # a first start in a fresh checkout compiles every module it imports


class App:
    """The app of tests/integration/commit_watch_app.py on a topic and group of its own."""

    def __init__(self, settings: Settings, tmp: Path, patience: float) -> None:
        self.topic = f"commit-watch-{uuid.uuid4().hex[:8]}"
        self.group = f"{self.topic}-group"
        self.journal = tmp / "journal.txt"
        self.settings = settings
        env = settings_env(settings, tmp) | {"SWITCHBOARD_WORKER_GROUP": self.group}
        argv = python("tests.integration.commit_watch_app", self.topic, str(LOST))
        argv += [str(self.journal), str(patience)]
        self.process = Service("commit-watch-app", argv, env, tmp / "app.log")

    async def produce(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(self.topic, 1, 1)])
        finally:
            await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap_servers)
        await producer.start()
        try:
            for n in range(RECORDS):
                await producer.send_and_wait(self.topic, str(n).encode())
        finally:
            await producer.stop()

    async def committed(self) -> int:
        """The group's committed offset; -1 while there is none (or, on a new broker, no
        coordinator for groups yet)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(self.group)
        except GroupCoordinatorNotAvailableError:
            return -1
        finally:
            await admin.close()
        found = offsets.get(TopicPartition(self.topic, 0))
        return -1 if found is None else found.offset

    def lines(self) -> list[str]:
        return self.journal.read_text().splitlines() if self.journal.exists() else []


MakeApp = Callable[[float], App]


@pytest.fixture
def app_factory(settings: Settings, tmp_path: Path) -> Iterator[MakeApp]:
    started: list[App] = []

    def make(patience: float) -> App:
        app = App(settings, tmp_path, patience)
        started.append(app)
        return app

    yield make
    for app in started:
        app.process.stop()


async def until_handled(app: App, count: int, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while sum(1 for line in app.lines() if line.startswith("handled")) < count:
        assert time.monotonic() < deadline, app.process.tail()
        await asyncio.sleep(0.2)


async def test_a_record_the_consumer_never_heard_of_is_read_again_and_then_committed(
    app_factory: MakeApp,
) -> None:
    app = app_factory(PATIENCE)
    await app.produce()
    app.process.start()
    await until_handled(app, 1, STARTUP_SECONDS)
    deadline = time.monotonic() + 60
    while await app.committed() < RECORDS:
        assert time.monotonic() < deadline, app.process.tail()
        await asyncio.sleep(0.5)
    lines = app.lines()
    assert lines.count(f"handled {LOST}") == 2, lines
    assert "repaired reread" in lines
    assert "repaired skip" not in lines


async def test_without_the_watch_the_commit_waits_at_the_unacknowledged_record(
    app_factory: MakeApp,
) -> None:
    app = app_factory(0)
    await app.produce()
    app.process.start()
    await until_handled(app, 1, STARTUP_SECONDS)
    await until_handled(app, RECORDS)
    await asyncio.sleep(3 * PATIENCE)  # commits run every second
    # Faust alone would have committed past it (to 10) as soon as offset 4 was acknowledged.
    assert await app.committed() == LOST
    assert app.lines().count(f"handled {LOST}") == 1
