"""Kafka's own command-line tools (kafka-consumer-groups and friends) for the local stack.

The broker's jars leave out `kafka-tools` on purpose (it pulls in Kafka Connect and Jetty);
its one jar is fetched beside them on demand, and run with the broker's jars on the
classpath, which hold everything else it needs. Used to check `switchboard lag` against
`kafka-consumer-groups --describe`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from switchboard.stack import processes
from switchboard.stack.config import KAFKA_VERSION, StackPaths
from switchboard.stack.errors import StackError
from switchboard.stack.kafka import _tool, fetch_jars

CONSUMER_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
# The plugin pinned as in deploy/kafka/pom.xml, so every machine resolves the same one.
_COPY_GOAL = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"
_MAVEN_TIMEOUT_SECONDS = 600.0


def tools_dir(paths: StackPaths) -> Path:
    return paths.kafka_home / "tools"


def fetch_tools(paths: StackPaths) -> None:
    """The broker's jars and the kafka-tools jar of the same version, unless already there."""
    fetch_jars(paths)
    jar = tools_dir(paths) / f"kafka-tools-{KAFKA_VERSION}.jar"
    with processes.file_lock(paths.kafka_home / ".tools-lock"):
        if jar.exists():
            return
        command = [
            _tool("mvn"),
            "-q",
            "-B",
            _COPY_GOAL,
            f"-Dartifact=org.apache.kafka:kafka-tools:{KAFKA_VERSION}",
            f"-DoutputDirectory={tools_dir(paths)}",
        ]
        result = subprocess.run(  # noqa: S603 - fixed argv
            command,
            capture_output=True,
            text=True,
            timeout=_MAVEN_TIMEOUT_SECONDS,
            check=False,
            cwd=paths.kafka_home,
        )
        if result.returncode != 0 or not jar.exists():
            raise StackError(
                "Maven could not fetch kafka-tools:\n" + (result.stdout + result.stderr)[-4000:]
            )


def tool_command(paths: StackPaths, main_class: str, *args: str) -> list[str]:
    """argv running one of Kafka's tools; `fetch_tools` first."""
    classpath = f"{paths.kafka_libs}/*:{tools_dir(paths)}/*"  # expanded by java itself
    return [_tool("java"), "-Xmx256m", "-cp", classpath, main_class, *args]
