"""A Faust app of the tests on a one-partition topic and a group of its own, run as a real
process: ten records produced, what it handled read from its journal, its group's commit
read from the broker. A pytest plugin (tests/conftest.py): ``app_factory`` is a fixture."""

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

RECORDS = 10
LOST = 3  # the offset the app loses once
STARTUP_SECONDS = 240.0  # a first start in a fresh checkout compiles every module it imports


class App:
    """``python -m tests.integration.<module> TOPIC OFFSET JOURNAL OPTION``."""

    def __init__(self, settings: Settings, tmp: Path, module: str, option: str) -> None:
        self.topic = f"{module.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
        self.group = f"{self.topic}-group"
        self.journal = tmp / "journal.txt"
        self.settings = settings
        env = settings_env(settings, tmp) | {"SWITCHBOARD_WORKER_GROUP": self.group}
        argv = python(f"tests.integration.{module}", self.topic, str(LOST))
        argv += [str(self.journal), option]
        self.process = Service(module, argv, env, tmp / "app.log")

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

    async def run(self) -> None:
        """Produce the records, start the app, and wait until it handles the first."""
        await self.produce()
        self.process.start()
        await until_handled(self, 1, STARTUP_SECONDS)

    async def until_committed(self, offset: int, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while await self.committed() < offset:
            assert time.monotonic() < deadline, self.process.tail()
            await asyncio.sleep(0.5)


MakeApp = Callable[[str, str], App]


@pytest.fixture
def app_factory(settings: Settings, tmp_path: Path) -> Iterator[MakeApp]:
    """Apps to start (module, option); each is stopped after the test."""
    started: list[App] = []

    def make(module: str, option: str) -> App:
        app = App(settings, tmp_path, module, option)
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
