"""`up`, `down` and `status` of the local stack, and their command-line rendering."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from switchboard.settings import Settings
from switchboard.stack import kafka, postgres, processes
from switchboard.stack.config import (
    COMPONENTS,
    KAFKA,
    POSTGRES,
    ComponentState,
    StackPaths,
    StackState,
    dump_state,
    export_lines,
    kafka_bootstrap,
    local_database_url,
    parse_state,
    render_stack_env,
)
from switchboard.stack.errors import StackError

# What overrides a component: when set, that component is somebody else's and is not started.
OVERRIDES = {KAFKA: "KAFKA_BOOTSTRAP_SERVERS", POSTGRES: "DATABASE_URL"}


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap_servers: str
    database_url: str
    kafka_local: bool
    postgres_local: bool


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    running: bool
    pid: int | None
    port: int
    log: Path


@dataclass(frozen=True)
class StackStatus:
    stack_dir: Path
    components: tuple[ComponentStatus, ...]

    def component(self, name: str) -> ComponentStatus:
        return next(c for c in self.components if c.name == name)

    def as_dict(self) -> dict[str, dict[str, object]]:
        return {
            c.name: {
                "state": "running" if c.running else "stopped",
                "pid": c.pid,
                "port": c.port,
                "log": str(c.log),
            }
            for c in self.components
        }


def stack_paths(settings: Settings) -> StackPaths:
    # Absolute, because the paths end up in config files and in processes with another cwd.
    return StackPaths(root=Path(settings.switchboard_stack_dir).expanduser().resolve())


def _wanted_ports(settings: Settings, name: str) -> dict[str, int]:
    """Each port a component listens on, keyed by the setting that chooses it."""
    if name == KAFKA:
        return {
            "switchboard_stack_kafka_port": settings.switchboard_stack_kafka_port,
            "switchboard_stack_controller_port": settings.switchboard_stack_controller_port,
        }
    return {"switchboard_stack_postgres_port": settings.switchboard_stack_postgres_port}


def _as_state_ports(name: str, ports: Mapping[str, int]) -> tuple[int, dict[str, int]]:
    values = list(ports.values())
    return values[0], ({"controller": values[1]} if name == KAFKA else {})


def _read_state(paths: StackPaths) -> StackState:
    try:
        return parse_state(paths.state.read_text())
    except FileNotFoundError:
        return StackState()
    except ValueError:
        # Unreadable means nothing can be trusted in it; the port checks still guard
        # against starting a second server next to a live one.
        return StackState()


def _write_state(paths: StackPaths, state: StackState) -> None:
    processes.write_atomically(paths.state, dump_state(state))


def _is_alive(component: ComponentState | None) -> bool:
    return component is not None and processes.is_running(component.pid, component.started_at)


def _adopt_postgres(paths: StackPaths, port: int) -> ComponentState | None:
    """A server on this stack's own data directory is this stack's, state file or not.

    PostgreSQL would refuse to start a second one on the same directory anyway.
    """
    pid = postgres.postmaster_pid(paths)
    if pid is None or str(paths.postgres_data) not in processes.command_line(pid):
        return None  # gone, or a pid from a stale postmaster.pid now used by another program
    started_at = processes.start_time(pid)
    if started_at is None or not processes.port_answers(port):
        return None
    return ComponentState(pid=pid, port=port, started_at=started_at)


def _adopt_kafka(paths: StackPaths, port: int) -> ComponentState | None:
    """A broker running on this stack's own server.properties is this stack's.

    Matched on the exact command line this launcher builds, so a broker of anybody else's,
    even on the same port, is never taken for ours.
    """
    pid = processes.listener_pid(port)
    if pid is None:
        return None
    properties = str(kafka.properties_path(paths))
    started_at = processes.start_time(pid)
    if processes.command_line(pid)[-2:] != ["kafka.Kafka", properties] or started_at is None:
        return None
    return ComponentState(pid=pid, port=port, started_at=started_at)


def _reusable(
    paths: StackPaths, state: StackState, name: str, ports: Mapping[str, int]
) -> tuple[StackState, bool]:
    """Keep a live, answering component; forget a dead one; stop a hung one of ours."""
    port, extra = _as_state_ports(name, ports)
    current = state.get(name)
    if not _is_alive(current):
        # The state file was lost or is stale, but the process may still be ours.
        adopt = _adopt_postgres if name == POSTGRES else _adopt_kafka
        current = adopt(paths, port)
        if current is not None:
            current = ComponentState(current.pid, port, current.started_at, extra)
            state = state.with_component(name, current)
    if current is None or not _is_alive(current):
        return state.without(name), False
    if (current.port, dict(current.extra_ports)) != (port, extra):
        raise StackError(
            f"{name} of this stack is running on port {current.port}, but the settings ask "
            f"for {port}; run `switchboard stack down` first to move it"
        )
    if processes.port_answers(current.port):
        return state, True
    _stop(paths, name, current)
    return state.without(name), False


def _start(paths: StackPaths, state: StackState, name: str, ports: Mapping[str, int]) -> StackState:
    port, extra = _as_state_ports(name, ports)
    if name == KAFKA:
        pid = kafka.start(paths, kafka_port=port, controller_port=extra["controller"])
    else:
        pid = postgres.start(paths, port=port)
    started_at = processes.start_time(pid)
    if started_at is None:
        raise StackError(
            f"{name} exited right after starting; see {paths.log_for(name)}:\n"
            + processes.tail(paths.log_for(name))
        )
    component = ComponentState(pid=pid, port=port, started_at=started_at, extra_ports=extra)
    # Recorded before the readiness wait, so that `down` finds it whatever happens next.
    state = state.with_component(name, component)
    _write_state(paths, state)
    try:
        if name == KAFKA:
            kafka.wait_until_ready(paths, pid=pid, started_at=started_at, port=port)
        else:
            postgres.ensure_database(port)
    except StackError:
        _stop(paths, name, component)
        _write_state(paths, state.without(name))
        raise
    return state


def _stop(paths: StackPaths, name: str, component: ComponentState) -> None:
    if name == POSTGRES:
        postgres.stop(paths, pid=component.pid, started_at=component.started_at)
    else:
        processes.terminate(component.pid, component.started_at)
    if _is_alive(component):
        raise StackError(f"{name} (pid {component.pid}) did not stop; see {paths.log_for(name)}")


def up(settings: Settings, env: Mapping[str, str]) -> Endpoints:
    """Start Kafka and PostgreSQL unless running already or given in `env`; wait until ready."""
    paths = stack_paths(settings)
    local = [name for name in COMPONENTS if not env.get(OVERRIDES[name])]
    with processes.file_lock(paths.lock):
        state = _read_state(paths)
        to_start = []
        for name in local:
            state, reused = _reusable(paths, state, name, _wanted_ports(settings, name))
            if not reused:
                to_start.append(name)
        _write_state(paths, state)
        # Every port is checked before anything starts: no half-started stack on a conflict.
        for name in to_start:
            for setting, port in _wanted_ports(settings, name).items():
                processes.require_free_port(port, setting)
        for name in to_start:
            state = _start(paths, state, name, _wanted_ports(settings, name))
        endpoints = Endpoints(
            kafka_bootstrap_servers=env.get(OVERRIDES[KAFKA])
            or kafka_bootstrap(settings.switchboard_stack_kafka_port),
            database_url=env.get(OVERRIDES[POSTGRES])
            or local_database_url(settings.switchboard_stack_postgres_port),
            kafka_local=KAFKA in local,
            postgres_local=POSTGRES in local,
        )
        # 0600: an external DATABASE_URL may carry a password.
        processes.write_atomically(
            paths.env_file,
            render_stack_env(
                kafka_bootstrap_servers=endpoints.kafka_bootstrap_servers,
                database_url=endpoints.database_url,
            ),
            mode=0o600,
        )
    return endpoints


def down(settings: Settings) -> tuple[str, ...]:
    """Stop what this stack started (pids from the state file only); returns their names."""
    paths = stack_paths(settings)
    stopped: list[str] = []
    with processes.file_lock(paths.lock):
        state = _read_state(paths)
        for name in COMPONENTS:
            component = state.get(name)
            if component is None:
                continue
            if _is_alive(component):
                _stop(paths, name, component)
                stopped.append(name)
            state = state.without(name)
            _write_state(paths, state)
        paths.env_file.unlink(missing_ok=True)
    return tuple(stopped)


def status(settings: Settings) -> StackStatus:
    paths = stack_paths(settings)
    state = _read_state(paths)
    components = []
    for name in COMPONENTS:
        component = state.get(name)
        wanted_port, _ = _as_state_ports(name, _wanted_ports(settings, name))
        answering = component and _is_alive(component) and processes.port_answers(component.port)
        live = component if answering else None
        components.append(
            ComponentStatus(
                name=name,
                running=live is not None,
                pid=live.pid if live else None,
                port=component.port if component else wanted_port,
                log=paths.log_for(name),
            )
        )
    return StackStatus(stack_dir=paths.root, components=tuple(components))


def kafka_pid(settings: Settings) -> int | None:
    """The broker's pid while it runs, for tests that pause it (SIGSTOP) to fake an outage."""
    component = _read_state(stack_paths(settings)).get(KAFKA)
    return component.pid if component is not None and _is_alive(component) else None


def _table(stack: StackStatus) -> list[str]:
    rows = [("component", "state", "pid", "port", "log")]
    rows += [
        (
            c.name,
            "running" if c.running else "stopped",
            str(c.pid) if c.pid is not None else "-",
            str(c.port),
            str(c.log),
        )
        for c in stack.components
    ]
    # The last column (a path) is left unpadded so that lines carry no trailing blanks.
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in rows
    ]


def run_cli(
    action: str,
    settings: Settings,
    env: Mapping[str, str],
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`switchboard stack up|down|status`: print the outcome, return the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if action == "up":
            endpoints = up(settings, env)
            lines = _table(status(settings))
            for name, is_local in (
                (KAFKA, endpoints.kafka_local),
                (POSTGRES, endpoints.postgres_local),
            ):
                if not is_local:
                    lines.append(
                        f"{name}: not started, {OVERRIDES[name]} is set in the environment"
                    )
            lines += ["", f"# also written to {stack_paths(settings).env_file}"]
            lines += export_lines(
                kafka_bootstrap_servers=endpoints.kafka_bootstrap_servers,
                database_url=endpoints.database_url,
            )
        elif action == "down":
            stopped = down(settings)
            lines = [
                f"stopped: {', '.join(stopped)}" if stopped else "nothing of this stack was running"
            ]
        elif action == "status":
            stack = status(settings)
            lines = [f"stack folder: {stack.stack_dir}", *_table(stack)]
        else:
            err.write(f"unknown stack action {action!r}; use up, down or status\n")
            return 2
    except StackError as exc:
        err.write(f"switchboard stack {action}: {exc}\n")
        return 1
    out.write("\n".join(lines) + "\n")
    return 0
