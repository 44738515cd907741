"""A private copy of the launcher's stack for tests that break it: its own folder and ports,
so pausing or killing its broker or database touches nobody else. The folder shares the
checkout's jar cache, so the jars are downloaded once per checkout, not once per run.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import tempfile
import time
from pathlib import Path

from switchboard import stack
from switchboard.settings import Settings
from switchboard.stack.config import KAFKA, POSTGRES
from switchboard.stack.processes import port_is_free, start_time

ROOT = Path(__file__).resolve().parents[1]
SHARED_JARS = ROOT / ".stack" / "kafka"


def free_ports(count: int) -> list[int]:
    """Free ports below the kernel's ephemeral range.

    The servers here are killed while clients keep reconnecting to them; a client whose
    ephemeral port happens to equal the dead server's port connects to itself (TCP
    simultaneous open) and holds the port, so the server could not come back on it.
    """
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    found: list[int] = []
    while len(found) < count:
        port = random.randrange(10_000, low)  # noqa: S311 - not a secret
        if port not in found and port_is_free(port):
            found.append(port)
    return found


def private_folder() -> Path:
    """A fresh stack folder sharing the checkout's jar cache (downloaded once per checkout).

    Not pytest's tmp_path: its base folder is 0700, which PostgreSQL's own account cannot
    enter when the tests run as root.
    """
    folder = Path(tempfile.mkdtemp(prefix="switchboard-stack-test-"))
    folder.chmod(0o755)
    SHARED_JARS.mkdir(parents=True, exist_ok=True)
    (folder / "kafka").symlink_to(SHARED_JARS, target_is_directory=True)
    return folder


def _wait_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while start_time(pid) is not None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"process {pid} did not exit within {timeout:.0f} s")
        time.sleep(0.05)


def _wait_free(port: int, timeout: float = 90.0) -> None:
    """Until the launcher could bind the port again: the connections a killed server leaves
    half-closed hold its port for a while (up to the kernel's FIN timeout)."""
    deadline = time.monotonic() + timeout
    while not port_is_free(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"port {port} still taken {timeout:.0f} s after its server died")
        time.sleep(0.1)


class PrivateStack:
    """The launcher's stack in a folder of its own, with the faults a run injects."""

    def __init__(self) -> None:
        self.folder = private_folder()
        kafka_port, controller_port, postgres_port = free_ports(3)
        self.settings = Settings(
            switchboard_stack_dir=self.folder,
            switchboard_stack_kafka_port=kafka_port,
            switchboard_stack_controller_port=controller_port,
            switchboard_stack_postgres_port=postgres_port,
        )
        self.paused: int | None = None

    def up(self) -> stack.Endpoints:
        return stack.up(self.settings, {})

    def _pid(self, name: str) -> int:
        pid = stack.status(self.settings).component(name).pid
        if pid is None:
            raise RuntimeError(f"{name} of the private stack is not running")
        return pid

    def pause_kafka(self) -> None:
        """The broker stops answering, connections stay open: a hung broker, not a dead one."""
        self.paused = self._pid(KAFKA)
        os.kill(self.paused, signal.SIGSTOP)

    def kill_kafka(self) -> None:
        pid = self.paused or self._pid(KAFKA)
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        self.paused = None
        _wait_free(self.settings.switchboard_stack_kafka_port)

    def restart_postgres(self) -> None:
        """A fast shutdown (SIGINT: every session is cut off), then the launcher starts it."""
        pid = self._pid(POSTGRES)
        os.kill(pid, signal.SIGINT)
        _wait_gone(pid)
        _wait_free(self.settings.switchboard_stack_postgres_port)
        self.up()

    def down(self) -> None:
        if self.paused is not None:
            os.kill(self.paused, signal.SIGCONT)
        stack.down(self.settings)
        shutil.rmtree(self.folder, ignore_errors=True)  # the symlink, not the shared jars
