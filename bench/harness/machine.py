"""The machine a report was measured on: its first lines."""

from __future__ import annotations

import os
import platform
import re
from importlib import metadata
from pathlib import Path

from bench.harness.report import ROOT, load_average, revision


def machine() -> list[tuple[str, str]]:
    """Cores, CPU, kernel, load, Python, the revision measured and the Kafka broker's
    version; the first six name the machine alone."""
    # Neither platform nor psutil names the CPU model on Linux.
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    kafka = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
    return [
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("CPU", models[0] if models else platform.processor() or "unknown"),
        ("kernel", platform.release()),
        ("load average at start", load_average()),
        ("Python", platform.python_version()),
        ("revision", revision()),
        ("Kafka", kafka.group(1) if kafka else "unknown"),
    ]


def worker_row() -> tuple[str, str]:
    """The worker as the worker benchmarks run it."""
    versions = ", ".join(
        f"{n} {metadata.version(n)}" for n in ("faust-streaming", "aiokafka", "langgraph")
    )
    return ("worker", f"1 process, offline responder (no model); {versions}")


def load_generator_row() -> tuple[str, str]:
    return ("load generator", f"this process on uvloop, aiohttp {metadata.version('aiohttp')}")
