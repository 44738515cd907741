"""Pure parts of the local stack: folder layout, rendered config files and the state file.

Nothing here starts a process or touches the network, so all of it is unit-tested directly.
"""

from __future__ import annotations

import base64
import json
import shlex
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

KAFKA_VERSION = "4.4.0"  # Keep in step with deploy/kafka/pom.xml.
LOOPBACK = "127.0.0.1"
KAFKA_NODE_ID = 1
DATABASE_NAME = "switchboard"
DATABASE_USER = "postgres"
STATE_VERSION = 1

KAFKA = "kafka"
POSTGRES = "postgres"
COMPONENTS = (KAFKA, POSTGRES)


@dataclass(frozen=True)
class StackPaths:
    """Where everything lives under the stack folder.

    The jar cache (`kafka/<version>/libs`) holds nothing but downloaded jars, so that several
    stack folders (tests) can share it through a symlink; broker config and data sit beside it.
    """

    root: Path

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def env_file(self) -> Path:
        return self.root / "stack.env"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def kafka_log(self) -> Path:
        return self.logs / "kafka.log"

    @property
    def postgres_log(self) -> Path:
        return self.logs / "postgres.log"

    @property
    def kafka_home(self) -> Path:
        return self.root / "kafka" / KAFKA_VERSION

    @property
    def kafka_libs(self) -> Path:
        return self.kafka_home / "libs"

    @property
    def kafka_config(self) -> Path:
        return self.root / "kafka-config"

    @property
    def kafka_data(self) -> Path:
        return self.root / "kafka-data"

    @property
    def postgres_data(self) -> Path:
        return self.root / "postgres" / "data"

    def log_for(self, component: str) -> Path:
        return self.kafka_log if component == KAFKA else self.postgres_log


def render_server_properties(*, kafka_port: int, controller_port: int, log_dir: Path) -> str:
    """A combined broker+controller KRaft node that only listens on loopback."""
    settings: dict[str, str | int] = {
        "process.roles": "broker,controller",
        "node.id": KAFKA_NODE_ID,
        # A static voter set: a single node has nothing to reconfigure.
        "controller.quorum.voters": f"{KAFKA_NODE_ID}@{LOOPBACK}:{controller_port}",
        "controller.listener.names": "CONTROLLER",
        "listeners": f"PLAINTEXT://{LOOPBACK}:{kafka_port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{kafka_port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": 1,
        # One broker: internal topics must not ask for replicas that can never exist.
        "offsets.topic.replication.factor": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "min.insync.replicas": 1,
        # Consumers in tests should not wait 3 s for a group that will never grow.
        "group.initial.rebalance.delay.ms": 0,
        # Topics are created on purpose (streams/topics.py), as in production.
        "auto.create.topics.enable": "false",
    }
    lines = ["# Written by switchboard.stack on every start; edits are overwritten."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def render_log4j2_config() -> str:
    """Log4j 2 config: everything to stdout, which the launcher sends to logs/kafka.log."""
    return """\
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by switchboard.stack on every start; edits are overwritten. -->
<!-- No Log4j shutdown hook: it would stop logging halfway through the broker's own
     controlled shutdown. The console appender flushes every line, so nothing is lost. -->
<Configuration status="warn" shutdownHook="disable">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <!-- Every request at INFO would drown the broker's own messages. -->
    <Logger name="kafka.request.logger" level="warn"/>
    <Root level="info">
      <AppenderRef ref="stdout"/>
    </Root>
  </Loggers>
</Configuration>
"""


def generate_cluster_id() -> str:
    """A KRaft cluster id as Kafka's own `Uuid.randomUuid()` makes them.

    Base64url without padding of 16 random bytes; one starting with "-" would be read as a
    command-line option, which is why Kafka never hands those out either.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def local_database_url(port: int) -> str:
    return f"postgresql://{DATABASE_USER}@{LOOPBACK}:{port}/{DATABASE_NAME}"


def kafka_bootstrap(port: int) -> str:
    return f"{LOOPBACK}:{port}"


def render_stack_env(*, kafka_bootstrap_servers: str, database_url: str) -> str:
    """Lines both `source` and docker-compose's `env_file` read the same way."""
    return (
        "# Written by `switchboard stack up`.\n"
        f"KAFKA_BOOTSTRAP_SERVERS={kafka_bootstrap_servers}\n"
        f"DATABASE_URL={database_url}\n"
    )


def export_lines(*, kafka_bootstrap_servers: str, database_url: str) -> list[str]:
    return [
        f"export KAFKA_BOOTSTRAP_SERVERS={shlex.quote(kafka_bootstrap_servers)}",
        f"export DATABASE_URL={shlex.quote(database_url)}",
    ]


class StateFileError(ValueError):
    """A state file this version of the stack did not write (or a damaged one)."""


@dataclass(frozen=True)
class ComponentState:
    """A process this stack started.

    `started_at` is the OS's own start time of `pid`; a pid alone can be reused by an
    unrelated process after a reboot, and this stack must never signal one of those.
    """

    pid: int
    port: int
    started_at: float
    extra_ports: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StackState:
    components: Mapping[str, ComponentState] = field(default_factory=dict)

    def get(self, name: str) -> ComponentState | None:
        return self.components.get(name)

    def with_component(self, name: str, component: ComponentState) -> StackState:
        return replace(self, components={**self.components, name: component})

    def without(self, name: str) -> StackState:
        return replace(self, components={k: v for k, v in self.components.items() if k != name})


def dump_state(state: StackState) -> str:
    components = {
        name: {
            "pid": c.pid,
            "port": c.port,
            "started_at": c.started_at,
            "extra_ports": dict(c.extra_ports),
        }
        for name, c in sorted(state.components.items())
    }
    return json.dumps({"version": STATE_VERSION, "components": components}, indent=2) + "\n"


def parse_state(text: str) -> StackState:
    """Read a state file; raises ValueError (StateFileError, or bad JSON) for a foreign one."""
    raw = json.loads(text)
    if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
        raise StateFileError("unknown state file version")
    raw_components = raw.get("components")
    if not isinstance(raw_components, dict):
        raise StateFileError("state file has no components object")
    components: dict[str, ComponentState] = {}
    for name, item in raw_components.items():
        if name not in COMPONENTS or not isinstance(item, dict):
            raise StateFileError(f"unexpected component {name!r} in state file")
        components[name] = _parse_component(item)
    return StackState(components=components)


def _parse_component(item: dict[str, object]) -> ComponentState:
    pid, port, started_at = item.get("pid"), item.get("port"), item.get("started_at")
    extra = item.get("extra_ports", {})
    # bool is an int subclass; `true` for a pid is a corrupt file, not pid 1.
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        raise StateFileError("component pid must be a positive integer")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise StateFileError("component port must be a TCP port")
    if not isinstance(started_at, int | float) or isinstance(started_at, bool):
        raise StateFileError("component started_at must be a number")
    if not isinstance(extra, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in extra.items()
    ):
        raise StateFileError("component extra_ports must map names to ports")
    return ComponentState(pid=pid, port=port, started_at=float(started_at), extra_ports=extra)
