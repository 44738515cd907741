"""One run: its own database and topics, the Chatwoot stand-in (with an admin token) in this
process and `switchboard worker` as a child, around the phases; all removed on the way out."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import uvloop
from pydantic import SecretStr

from bench.erasure.phases import Results, phases
from bench.erasure.rig import Names, Plan, open_rig
from bench.harness.children import Child, spawn
from bench.harness.kafka import apply_topics, remove_topics
from bench.harness.worker import child_env, switchboard_command
from switchboard.settings import Settings
from switchboard.stack.scratch import create_database, drop_database
from switchboard.standins import StandInURLs, Tokens, run_standins

ADMIN_TOKEN = "bench-chatwoot-admin-token"


def worker_env(settings: Settings, names: Names, urls: StandInURLs, tmp: Path) -> dict[str, str]:
    """The worker benchmarks' environment, plus where exports go and the Chatwoot admin
    token the `chatwoot` erasure target uses."""
    return child_env(settings, names, urls, tmp / "worker-data") | {
        "SWITCHBOARD_EXPORT_DIR": str(tmp / "exports"),
        "CHATWOOT_ADMIN_TOKEN": ADMIN_TOKEN,
    }


def surroundings(
    runner: asyncio.Runner, stack: ExitStack, settings: Settings, names: Names
) -> tuple[Settings, StandInURLs]:
    """The run's database (migrated, with the sample knowledge base the offline responder
    answers from) and topics, removed when `stack` closes, and the Chatwoot stand-in; the
    settings pointing at them."""
    server = settings.database_url.get_secret_value()
    url = server.rsplit("/", 1)[0] + f"/{names.database}"
    stack.callback(lambda: runner.run(drop_database(server, url)))
    stack.callback(lambda: runner.run(remove_topics(settings, names)))
    runner.run(create_database(server, names.database))
    own = settings.model_copy(
        update={
            "database_url": SecretStr(url),
            "switchboard_topic_prefix": names.prefix,
            "switchboard_worker_group": names.worker_group,
        }
    )
    runner.run(apply_topics(own, names))
    tokens = replace(Tokens.from_settings(settings), chatwoot_admin=ADMIN_TOKEN)
    urls = stack.enter_context(run_standins(tokens=tokens))
    return own.model_copy(update={"chatwoot_base_url": urls.chatwoot}), urls


def run_bench(
    plan: Plan, settings: Settings, names: Names, out: Results, data_dir: Path | None
) -> None:
    """Database, topics, stand-in, then the worker as a child; all removed on the way out."""
    with (
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
        tempfile.TemporaryDirectory(prefix="bench-erasure-") as tmp,
        ExitStack() as stack,  # exits first: the worker, the stand-in, then topics and database
    ):
        own, urls = surroundings(runner, stack, settings, names)
        env = worker_env(own, names, urls, Path(tmp))
        workers: list[Child] = []

        def start_worker() -> Child:
            workers.append(spawn("worker", switchboard_command("worker"), env, Path(tmp), stack))
            return workers[-1]

        async def measure() -> None:
            async with open_rig(own, names, plan) as rig:
                await phases(rig, out, start_worker, data_dir)

        try:
            runner.run(measure())
        except BaseException:
            for child in workers:
                print(f"--- worker log (tail) ---\n{child.tail(40)}", file=sys.stderr)
            raise
