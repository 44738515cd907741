"""The local stack's launcher, for real: a private stack folder on ports nobody else uses.

The folder is fresh, but its `kafka` jar cache is a symlink to the repository's `.stack/kafka`,
so the jars are downloaded once for the checkout, not once per test run.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from switchboard import stack
from switchboard.settings import Settings
from switchboard.stack.config import KAFKA, POSTGRES, ComponentState, StackState, dump_state
from tests.private_stack import free_ports, private_folder

pytestmark = pytest.mark.integration


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _gone(pid: int) -> bool:
    """Exited; a zombie left for an init that does not reap counts as exited."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _settings(folder: Path, ports: list[int]) -> Settings:
    kafka_port, controller_port, postgres_port = ports
    return Settings(
        switchboard_stack_dir=folder,
        switchboard_stack_kafka_port=kafka_port,
        switchboard_stack_controller_port=controller_port,
        switchboard_stack_postgres_port=postgres_port,
    )


@pytest.fixture(scope="module")
def settings() -> Iterator[Settings]:
    folder = private_folder()
    settings = _settings(folder, free_ports(3))
    yield settings
    stack.down(settings)
    shutil.rmtree(folder, ignore_errors=True)  # removes the symlink, not the shared jars


@pytest.fixture
def running(settings: Settings) -> stack.Endpoints:
    """The private stack, started by the first test that needs it and reused by the rest."""
    return stack.up(settings, {})


async def test_up_serves_kafka_metadata_and_postgres(
    settings: Settings, running: stack.Endpoints
) -> None:
    """After `up`, a Kafka client gets the one broker's metadata and PostgreSQL answers SELECT 1."""
    port = settings.switchboard_stack_kafka_port
    assert running.kafka_bootstrap_servers == f"127.0.0.1:{port}"
    assert running.kafka_local
    assert running.postgres_local
    admin = AIOKafkaAdminClient(bootstrap_servers=running.kafka_bootstrap_servers)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
    finally:
        await admin.close()
    assert [(b["host"], b["port"]) for b in cluster["brokers"]] == [("127.0.0.1", port)]
    connection = await asyncpg.connect(running.database_url)
    try:
        assert await connection.fetchval("SELECT 1") == 1
    finally:
        await connection.close()
    env_file = (Path(settings.switchboard_stack_dir) / "stack.env").read_text()
    assert f"DATABASE_URL={running.database_url}\n" in env_file


def test_second_up_reuses_the_running_processes(
    settings: Settings, running: stack.Endpoints
) -> None:
    """A second `up` finds the running broker and server instead of starting others."""
    before = stack.status(settings)
    started = time.monotonic()
    again = stack.up(settings, {})
    assert time.monotonic() - started < 5
    assert again == running
    after = stack.status(settings)
    assert [c.pid for c in after.components] == [c.pid for c in before.components]


def test_status_reports_both_components_running(
    settings: Settings, running: stack.Endpoints
) -> None:
    """`status` gives each component's pid, port and log, and `kafka_pid` the broker's pid."""
    current = stack.status(settings)
    kafka, postgres = current.component(KAFKA), current.component(POSTGRES)
    assert kafka.running
    assert postgres.running
    assert kafka.port == settings.switchboard_stack_kafka_port
    assert postgres.port == settings.switchboard_stack_postgres_port
    assert kafka.log.name == "kafka.log"
    assert stack.kafka_pid(settings) == kafka.pid
    assert current.as_dict()[POSTGRES]["state"] == "running"


def test_a_port_taken_by_a_stranger_fails_before_anything_starts() -> None:
    """A foreign listener on the Kafka port fails `up` naming the port and the setting."""
    folder = private_folder()
    ports = free_ports(3)
    settings = _settings(folder, ports)
    try:
        with socket.socket() as stranger:
            stranger.bind(("127.0.0.1", ports[0]))
            stranger.listen()
            with pytest.raises(stack.StackError, match=f"port {ports[0]}.*KAFKA_PORT"):
                stack.up(settings, {})
        assert not any(c.running for c in stack.status(settings).components)
        assert not _answers(ports[2])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_down_stops_both_and_forgets_them(settings: Settings, running: stack.Endpoints) -> None:
    """`down` stops the broker and the server it started and clears them from the state."""
    pids = [c.pid for c in stack.status(settings).components]
    assert all(pid is not None for pid in pids)
    assert set(stack.down(settings)) == {KAFKA, POSTGRES}
    assert all(_gone(pid) for pid in pids if pid is not None)
    assert not any(c.running for c in stack.status(settings).components)
    assert stack.kafka_pid(settings) is None
    assert not _answers(settings.switchboard_stack_kafka_port)
    assert not _answers(settings.switchboard_stack_postgres_port)
    assert stack.down(settings) == ()


def test_stale_state_and_an_external_kafka(settings: Settings) -> None:
    """Dead pids in the state file are replaced, and a given Kafka address is used, not started."""
    stack.down(settings)
    dead = ComponentState(pid=_dead_pid(), port=1, started_at=time.time())
    stale = StackState().with_component(KAFKA, dead).with_component(POSTGRES, dead)
    (Path(settings.switchboard_stack_dir) / "state.json").write_text(dump_state(stale))

    endpoints = stack.up(settings, {"KAFKA_BOOTSTRAP_SERVERS": "kafka.example:9092"})

    assert endpoints.kafka_bootstrap_servers == "kafka.example:9092"
    assert not endpoints.kafka_local
    assert endpoints.postgres_local
    current = stack.status(settings)
    assert not current.component(KAFKA).running
    assert stack.kafka_pid(settings) is None
    assert not _answers(settings.switchboard_stack_kafka_port)
    assert current.component(POSTGRES).running
    assert current.component(POSTGRES).pid != dead.pid
