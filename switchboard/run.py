"""`switchboard run`: the whole pipeline on one machine, for a first look and for demos.

Brings up the local stack (or uses the Kafka and PostgreSQL given in the environment),
applies the topic catalogue and the migrations, starts ingest and a worker as child
processes, plays the demo conversation, and serves until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
from pydantic import SecretStr

from migrations.runner import migrate
from schemas.catalogue import sized
from sinks.postgres.knowledge import load_directory
from sinks.postgres.pool import Database, PoolConfig
from streams import topics
from switchboard import stack
from switchboard.demo import run_demo
from switchboard.settings import Settings
from switchboard.standins import StandInURLs, Tokens, run_standins

KNOWLEDGE_BASE = Path(__file__).resolve().parents[1] / "kb"


LOCAL_CHATWOOT_ADMIN_TOKEN = "dev-chatwoot-admin-token"  # noqa: S105 - the local stand-in's


def _spawn(name: str, env: Mapping[str, str], logs: Path) -> subprocess.Popen[bytes]:
    with (logs / f"{name}.log").open("ab") as log_file:
        return subprocess.Popen(  # noqa: S603 - our own executable and fixed arguments
            [sys.executable, "-m", "switchboard.cli", name],
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("ingest exited during start-up; see its log")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"ingest did not answer {url}/health within {timeout:.0f} s")


async def _load_knowledge_base(settings: Settings) -> str:
    database = await Database.connect(
        PoolConfig(settings.database_url.get_secret_value(), size=1, max_overflow=0)
    )
    try:
        result = await load_directory(database, KNOWLEDGE_BASE)
    finally:
        await database.close()
    return f"knowledge base: {result.loaded} loaded, {result.unchanged} unchanged"


def run_pipeline(settings: Settings, env: Mapping[str, str], *, demo: bool, stay: bool) -> int:
    endpoints = stack.up(settings, env)
    child_env = {
        **env,
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap_servers,
        "DATABASE_URL": endpoints.database_url,
    }
    # Erasure anonymises the contact in Chatwoot with a user token; the stand-in gets one.
    admin = settings.chatwoot_admin_token or SecretStr(LOCAL_CHATWOOT_ADMIN_TOKEN)
    child_env["CHATWOOT_ADMIN_TOKEN"] = admin.get_secret_value()
    settings = settings.model_copy(
        update={
            "kafka_bootstrap_servers": endpoints.kafka_bootstrap_servers,
            "database_url": type(settings.database_url)(endpoints.database_url),
            "chatwoot_admin_token": admin,
        }
    )
    for action in asyncio.run(
        topics.apply(
            settings.kafka_bootstrap_servers,
            settings.switchboard_topic_prefix,
            settings.switchboard_kafka_replication_factor,
            sized(settings.switchboard_topic_partitions),
        )
    ):
        print(topics.describe_action(action))
    for migration in asyncio.run(migrate(settings.database_url.get_secret_value())):
        print(f"applied migration {migration.version:04d}_{migration.name}")
    print(asyncio.run(_load_knowledge_base(settings)))

    logs = settings.switchboard_stack_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{settings.switchboard_ingest_port}"
    with run_standins(tokens=Tokens.from_settings(settings)) as standins:
        # Replies go to local stand-ins of Chatwoot, the Graph API and 360dialog.
        child_env.update({key.upper(): value for key, value in standins.settings().items()})
        return _serve(settings, child_env, logs, url, standins, demo=demo, stay=stay)


def _serve(
    settings: Settings,
    child_env: dict[str, str],
    logs: Path,
    url: str,
    standins: StandInURLs,
    *,
    demo: bool,
    stay: bool,
) -> int:
    children = [_spawn("ingest", child_env, logs), _spawn("worker", child_env, logs)]
    try:
        _wait_healthy(url, children[0])
        print(f"ingest on {url}, worker running; logs in {logs}/")
        print(f"Chatwoot stand-in {standins.chatwoot}, Graph API stand-in {standins.graph}")
        code = asyncio.run(run_demo(settings, url, standins)) if demo else 0
        if stay:
            print("\nServing. Send your own webhook (see the README), Ctrl-C to stop.")
            # Explicitly: a shell starting us in the background leaves SIGINT ignored.
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.default_int_handler)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
        return code
    finally:
        # The stop below is bounded (15 s a child, then SIGKILL): a second Ctrl-C while it
        # runs would only cut it short with a traceback.
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        signal.signal(signal.SIGINT, interrupt)
        print("ingest and worker stopped; `switchboard stack down` stops Kafka and PostgreSQL")
