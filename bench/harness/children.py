"""Child processes of a benchmark: free ports, and servers that never outlive the run."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.harness.errors import BenchError
from bench.harness.report import ROOT

HOST = "127.0.0.1"
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM should this process die without cleaning up (SIGKILL,
    a crash). Children run in sessions of their own so that Ctrl-C reaches the benchmark
    only; only the kernel can then stop them after the benchmark is killed, and psutil has
    no call for PR_SET_PDEATHSIG: this is the one `prctl` of the benchmarks."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def check(self) -> None:
        if self.process.poll() is not None:
            raise BenchError(f"{self.name} exited with status {self.process.returncode}")

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"


def spawn(
    name: str,
    argv: list[str],
    env: dict[str, str],
    logs: Path,
    stack: ExitStack,
    *,
    stop_seconds: float = 20.0,  # a worker flushes and leaves its group first
) -> Child:
    """`argv` started from the project's root, its output in `<logs>/<name>.log`, stopped
    when `stack` closes."""
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and entry point
            argv,
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this process only; it stops them
            preexec_fn=die_with_parent,  # noqa: PLW1509 - spawned before our threads run
        )
    stack.callback(stop, process, stop_seconds)
    return Child(name, process, log)
