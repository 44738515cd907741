"""The `switchboard worker` children of a recovery run: started, killed with SIGKILL, and
checked while they should run."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench.harness.children import Child, spawn
from bench.harness.worker import switchboard_command


class Workers:
    """`switchboard worker` children: started, killed, and checked while they should run."""

    def __init__(self, env: Callable[[int], dict[str, str]], logs: Path, stack: ExitStack):
        self.env, self.logs, self.stack = env, logs, stack
        self.spawned: list[Child] = []
        self.running: list[Child] = []

    def start(self) -> Child:
        n = len(self.spawned) + 1
        argv = switchboard_command("worker")
        child = spawn(f"worker-{n}", argv, self.env(n), self.logs, self.stack)
        self.spawned.append(child)
        self.running.append(child)
        return child

    def kill(self, child: Child) -> float:
        """SIGKILL; the wall-clock time it was sent."""
        killed_at = time.time()
        os.kill(child.process.pid, signal.SIGKILL)
        child.process.wait()
        self.running.remove(child)
        return killed_at

    def check(self) -> None:
        for child in self.running:
            child.check()
