"""Everything a fault run breaks, owned by the run: a private Kafka and PostgreSQL started by
the project's launcher (in a folder and on ports of their own, so pausing or killing them
touches nobody else), and the ingest and worker as real processes.

The launcher's broker is always a private one here, whatever ``KAFKA_BOOTSTRAP_SERVERS``
says: a shared broker is not ours to SIGSTOP.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from switchboard import stack
from switchboard.settings import Settings
from switchboard.stack.config import KAFKA, POSTGRES
from switchboard.stack.processes import port_is_free, start_time

ROOT = Path(__file__).resolve().parents[2]
SHARED_JARS = ROOT / ".stack" / "kafka"
HOST = "127.0.0.1"


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

    def restart_postgres(self) -> None:
        """A fast shutdown (SIGINT: every session is cut off), then the launcher starts it."""
        pid = self._pid(POSTGRES)
        os.kill(pid, signal.SIGINT)
        _wait_gone(pid)
        self.up()

    def down(self) -> None:
        if self.paused is not None:
            os.kill(self.paused, signal.SIGCONT)
        stack.down(self.settings)
        shutil.rmtree(self.folder, ignore_errors=True)  # the symlink, not the shared jars


@dataclass
class Service:
    """A `switchboard` process (or a stand-in for one) that a run starts, kills and restarts."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    restarts: int = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        """SIGKILL: no flush, no leaving the group, nothing in flight finished."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        self.kill()
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 120) -> str:
        text = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return f"--- {self.name} (last {lines} lines) ---\n" + "\n".join(text[-lines:])


def python(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


async def serving(url: str, service: Service, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Wait until an ingest answers its liveness probe."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if not service.alive():
                raise RuntimeError(f"{service.name} exited\n{service.tail()}")
            try:
                if (await client.get(f"{url}/health/liveness")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service.name} did not serve within {timeout:.0f} s")
            await asyncio.sleep(0.1)
