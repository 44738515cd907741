"""A single-node Apache Kafka (KRaft, combined broker and controller) from Maven Central jars."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from sinks.kafka.errors import KAFKA_FAILURES
from switchboard.stack import processes
from switchboard.stack.config import (
    StackPaths,
    generate_cluster_id,
    kafka_bootstrap,
    render_log4j2_config,
    render_server_properties,
)
from switchboard.stack.errors import StackError

POM = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
READY_TIMEOUT_SECONDS = 60.0
_FORMAT_TIMEOUT_SECONDS = 120.0
_MAVEN_TIMEOUT_SECONDS = 900.0
# The same JVM flags as Kafka's own kafka-server-start.sh, with a heap sized for a laptop.
_JVM_OPTIONS = (
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StackError(f"`{name}` is not on PATH; the local Kafka needs Java 17+ and Maven")
    return found


def _marker(paths: StackPaths) -> Path:
    return paths.kafka_home / ".fetched"


def fetch_jars(paths: StackPaths) -> None:
    """Copy the broker's jars from Maven Central into the cache, unless already complete.

    The marker holds a hash of the pom, written only after Maven succeeded: an interrupted
    download, or a pom that changed since, is fetched again from scratch.
    """
    if not POM.exists():
        raise StackError(f"{POM} is missing; run the stack from a checkout of the repository")
    wanted = hashlib.sha256(POM.read_bytes()).hexdigest()
    paths.kafka_home.mkdir(parents=True, exist_ok=True)
    # The jar cache may be shared by several stack folders (tests symlink it); one fetch at a time.
    with processes.file_lock(paths.kafka_home / ".lock"):
        marker = _marker(paths)
        if marker.exists() and marker.read_text().strip() == wanted:
            return
        marker.unlink(missing_ok=True)
        shutil.rmtree(paths.kafka_libs, ignore_errors=True)
        command = [
            _tool("mvn"),
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={paths.kafka_libs}",
        ]
        result = subprocess.run(  # noqa: S603 - fixed argv
            command, capture_output=True, text=True, timeout=_MAVEN_TIMEOUT_SECONDS, check=False
        )
        if result.returncode != 0:
            raise StackError(
                "Maven could not fetch the Kafka jars:\n" + (result.stdout + result.stderr)[-4000:]
            )
        marker.write_text(wanted + "\n")


def _java_command(paths: StackPaths, main_class: str, *args: str) -> list[str]:
    return [
        _tool("java"),
        *_JVM_OPTIONS,
        f"-Dlog4j2.configurationFile={paths.kafka_config / 'log4j2.xml'}",
        "-cp",
        f"{paths.kafka_libs}/*",  # expanded by java itself, not by a shell
        main_class,
        *args,
    ]


def properties_path(paths: StackPaths) -> Path:
    return paths.kafka_config / "server.properties"


def write_config(paths: StackPaths, *, kafka_port: int, controller_port: int) -> Path:
    """Render the broker's config files; returns the server.properties path."""
    paths.kafka_config.mkdir(parents=True, exist_ok=True)
    properties = properties_path(paths)
    properties.write_text(
        render_server_properties(
            kafka_port=kafka_port, controller_port=controller_port, log_dir=paths.kafka_data
        )
    )
    (paths.kafka_config / "log4j2.xml").write_text(render_log4j2_config())
    return properties


def format_storage(paths: StackPaths, properties: Path) -> None:
    """Format the KRaft log directory once; the cluster id is generated once and kept."""
    if (paths.kafka_data / "meta.properties").exists():
        return
    id_file = paths.kafka_config / "cluster.id"
    if not id_file.exists():
        id_file.write_text(generate_cluster_id() + "\n")
    cluster_id = id_file.read_text().strip()
    command = _java_command(
        paths,
        "kafka.tools.StorageTool",
        "format",
        "--cluster-id",
        cluster_id,
        "--config",
        str(properties),
    )
    result = subprocess.run(  # noqa: S603 - fixed argv
        command, capture_output=True, text=True, timeout=_FORMAT_TIMEOUT_SECONDS, check=False
    )
    if result.returncode != 0:
        raise StackError(
            f"Formatting Kafka storage in {paths.kafka_data} failed:\n"
            + (result.stdout + result.stderr)[-4000:]
        )


def start(paths: StackPaths, *, kafka_port: int, controller_port: int) -> int:
    """Fetch, configure, format and launch the broker detached; returns the JVM's pid."""
    fetch_jars(paths)
    properties = write_config(paths, kafka_port=kafka_port, controller_port=controller_port)
    format_storage(paths, properties)
    processes.rotate_log(paths.kafka_log)
    return processes.spawn_detached(
        _java_command(paths, "kafka.Kafka", str(properties)),
        log_path=paths.kafka_log,
        cwd=paths.root,
    )


def wait_until_ready(
    paths: StackPaths,
    *,
    pid: int,
    started_at: float,
    port: int,
    timeout: float = READY_TIMEOUT_SECONDS,
) -> None:
    """Block until a real Kafka client gets cluster metadata with a broker in it.

    A listening socket is not enough: the broker accepts connections before it has
    caught up with the metadata log and registered itself.
    """
    deadline = time.monotonic() + timeout
    bootstrap = kafka_bootstrap(port)
    while time.monotonic() < deadline:
        if not processes.is_running(pid, started_at):
            raise StackError(
                f"Kafka exited during startup; see {paths.kafka_log}:\n"
                + processes.tail(paths.kafka_log)
            )
        # Only ask a client once the port is open: aiokafka logs every refused connection.
        if processes.port_answers(port) and processes.run_sync(_has_broker(bootstrap)):
            return
        time.sleep(0.25)
    raise StackError(
        f"Kafka did not serve metadata on {bootstrap} within {timeout:.0f} s; see {paths.kafka_log}"
    )


async def _has_broker(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
    except KAFKA_FAILURES:
        return False
    finally:
        await admin.close()
    return bool(cluster.get("brokers"))
