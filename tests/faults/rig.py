"""The processes a fault run kills and restarts: the ingest and the worker, for real.

The broker and database a run breaks come from `tests/private_stack.py`: always a private
stack, whatever ``KAFKA_BOOTSTRAP_SERVERS`` says, since a shared broker is not ours to SIGSTOP.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


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

    def count(self, event: str) -> int:
        """Lines of its log (every start's) that carry this event."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return sum(1 for line in text.splitlines() if event in line)

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
