"""Operating-system plumbing: process liveness, ports, the folder lock and detached spawning."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import psutil  # type: ignore[import-untyped,unused-ignore]

from switchboard.stack.config import LOOPBACK
from switchboard.stack.errors import StackError

T = TypeVar("T")

STOP_TIMEOUT_SECONDS = 20.0
# psutil derives start times from boot time and clock ticks; allow for the rounding.
_START_TIME_TOLERANCE_SECONDS = 1.0


def start_time(pid: int) -> float | None:
    """The OS start time of a live process, or None when it is gone or only a zombie left."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(process.create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def is_running(pid: int, started_at: float) -> bool:
    """True when `pid` is alive and is still the very process that was recorded."""
    _reap(pid)
    current = start_time(pid)
    return current is not None and abs(current - started_at) < _START_TIME_TOLERANCE_SECONDS


def _reap(pid: int) -> None:
    # A process started by this interpreter stays a zombie until waited for; waiting for
    # anyone else's child is refused by the kernel, which is all this needs.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def port_answers(port: int, host: str = LOOPBACK, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server could bind `port` now.

    SO_REUSEADDR, as Java and PostgreSQL set it themselves, so that a socket in TIME_WAIT
    from a previous run does not count as taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def listener_pid(port: int) -> int | None:
    """Best effort: the pid listening on `port` (other users' sockets may be hidden)."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return int(conn.pid) if conn.pid is not None else None
    except (psutil.Error, OSError):
        pass
    return None


def command_line(pid: int) -> list[str]:
    try:
        return [str(part) for part in psutil.Process(pid).cmdline()]
    except psutil.Error:
        return []


def describe_listener(port: int) -> str:
    """Who listens on `port`, for error messages only."""
    pid = listener_pid(port)
    if pid is None:
        return "another process"
    try:
        return f"{psutil.Process(pid).name()} (pid {pid})"
    except psutil.Error:
        return f"pid {pid}"


def require_free_port(port: int, setting: str) -> None:
    if not port_is_free(port):
        raise StackError(
            f"port {port} is already in use by {describe_listener(port)}, which this stack did "
            f"not start; stop it or choose another port with {setting.upper()}"
        )


def spawn_detached(argv: Sequence[str], *, log_path: Path, cwd: Path) -> int:
    """Start `argv` in its own session, output appended to `log_path`, and return its pid.

    A shell starts the program in the background and exits at once, so the program is never
    a child of this interpreter: it outlives `switchboard stack up`, leaves no zombie behind
    in a long-lived caller (a test session), and Popen has no running child to warn about.
    """
    script = '"$@" </dev/null >>"$0" 2>&1 & echo $!'
    result = subprocess.run(  # noqa: S603 - fixed script, arguments passed as "$@"
        ["/bin/sh", "-c", script, str(log_path), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        start_new_session=True,
    )
    return int(result.stdout.strip())


def terminate(pid: int, started_at: float, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM, then SIGKILL after `timeout`; only if `pid` is still the recorded process."""
    if not is_running(pid, started_at):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        # A paused process (tests SIGSTOP the broker) only acts on SIGTERM once resumed.
        os.kill(pid, signal.SIGCONT)
    if wait_until_gone(pid, started_at, timeout):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_until_gone(pid, started_at, 5.0)


def wait_until_gone(pid: int, started_at: float, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_running(pid, started_at):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock, released by the kernel even if this process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def rotate_log(path: Path) -> None:
    """Keep one previous log, so a crash stays readable after the next start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.replace(path.with_name(path.name + ".1"))
    path.touch()


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    # A reader (`status` without the lock) sees the old file or the new one, never half.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    tmp.replace(path)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code.

    The stack's API is synchronous, but it is also called from inside running event loops
    (async test fixtures), where `asyncio.run` refuses; a private thread has no loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
