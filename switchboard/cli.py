"""`switchboard`: the one command for operators, developers and the local stack.

Each subcommand builds Settings, wires what it needs and hands over; no logic lives here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from switchboard import compliance_cli, logs, retrying
from switchboard.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI


class ConfigurationError(SystemExit):
    pass


def load_settings() -> Settings:
    """Settings from the environment; errors name the variable, never echo its value."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(part) for part in error["loc"]).upper()
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"configuration error: {where + ': ' if where else ''}{message}")
        raise ConfigurationError("\n".join(lines)) from None


def _stack(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard import stack

    return stack.run_cli(args.action, settings, dict(os.environ))


def _topics(args: argparse.Namespace, settings: Settings) -> int:
    from schemas.catalogue import sized
    from streams import topics

    servers, prefix = settings.kafka_bootstrap_servers, settings.switchboard_topic_prefix
    catalogue = sized(settings.switchboard_topic_partitions)
    if args.action == "apply":
        replication = settings.switchboard_kafka_replication_factor
        actions = asyncio.run(topics.apply(servers, prefix, replication, catalogue))
        for action in actions:
            print(topics.describe_action(action))
        print(f"{len(actions)} change(s); the catalogue is applied" if actions else "up to date")
        return 0
    rows = asyncio.run(
        topics.describe(servers, prefix, sized(settings.switchboard_topic_partitions))
    )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        state = "present" if row["present"] else "MISSING"
        print(f"{row['name']}  key={row['key']}  partitions={row['partitions']}  {state}")
        for key, wanted in row["wanted_config"].items():
            actual = row["config"][key]
            mark = "" if actual == wanted else f"   (broker: {actual})"
            print(f"    {key}={wanted}{mark}")
    return 0


def _schemas(args: argparse.Namespace, settings: Settings) -> int:
    from schemas.export import export

    for path in export(Path(args.directory)):
        print(path)
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from migrations.runner import migrate

    applied = asyncio.run(migrate(settings.database_url.get_secret_value()))
    for migration in applied:
        print(f"applied {migration.version:04d}_{migration.name}")
    print(f"{len(applied)} migration(s) applied" if applied else "database is up to date")
    return 0


def _kb(args: argparse.Namespace, settings: Settings) -> int:
    from sinks.postgres.knowledge import load_directory
    from sinks.postgres.pool import Database, PoolConfig

    async def load() -> str:
        database = await Database.connect(
            PoolConfig(settings.database_url.get_secret_value(), size=1, max_overflow=0)
        )
        try:
            result = await load_directory(database, Path(args.directory), prune=args.prune)
        finally:
            await database.close()
        return (
            f"{result.loaded} document(s) loaded ({result.passages} passages), "
            f"{result.unchanged} unchanged, {result.removed} removed"
        )

    try:
        print(asyncio.run(load()))
    except NotADirectoryError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def _retention(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from streams.retention import command

    if args.action == "policies":
        for category, days in sorted(asyncio.run(command.policies(settings)).items()):
            print(f"{category}  {days} days")
        return 0
    try:
        now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    except ValueError:
        now = None
    if now is None or now.tzinfo is None:
        print(
            "--now takes an ISO-8601 time with a zone, e.g. 2030-01-01T02:00:00Z", file=sys.stderr
        )
        return 2
    print(json.dumps(asyncio.run(command.run_once(settings, now)).as_dict()))
    return 0


# What each process of `switchboard ingest --workers N` imports and calls (uvicorn's factory).
INGEST_APP = f"{__name__}:ingest_app"


def ingest_app(settings: Settings | None = None) -> FastAPI:
    """The ingest app of one process: what `_ingest` serves, and what each process started by
    `switchboard ingest --workers N` builds for itself from the environment."""
    from ingest.app import build_ingest, create_app
    from ingest.health.routes import build_health
    from switchboard.sentry import init_sentry

    if settings is None:  # a worker process, where `main` did not run
        settings = load_settings()
        logs.configure(settings.switchboard_log_level, json_output=settings.is_production)
        retrying.configure(settings)
    init_sentry(settings, "ingest")
    ingest = build_ingest(settings)
    return create_app(
        ingest,
        build_health(settings, ingest.log, ingest.database, registry=ingest.metrics.registry),
    )


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    options: dict[str, Any] = {
        "host": args.host or settings.switchboard_ingest_host,
        "port": args.port or settings.switchboard_ingest_port,
        "access_log": False,
        # X-Forwarded-For is honoured by our rate limiter for trusted proxies only.
        "proxy_headers": False,
        "log_level": settings.switchboard_log_level.lower(),
    }
    if args.workers > 1:
        # One process runs one event loop on one core: several share the listening socket,
        # uvicorn restarts any that dies, and each builds its own app (ingest_app).
        uvicorn.run(INGEST_APP, factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(ingest_app(settings), **options)
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from streams.worker import run_worker
    from switchboard.sentry import init_sentry

    init_sentry(settings, "worker")
    run_worker(settings)
    return 0


def _lag(args: argparse.Namespace, settings: Settings) -> int:
    from lag.command import run

    return run(settings, groups=args.group, watch_seconds=args.watch, as_json=args.json)


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from streams.replay.command import run
    from streams.replay.plan import ReplayRefusedError, build_request

    try:
        request = build_request(
            topic=args.topic,
            prefix=settings.switchboard_topic_prefix,
            worker_group=settings.switchboard_worker_group,
            from_time=args.from_time,
            from_offset=args.from_offset,
            to_time=args.to_time,
            group=args.group,
            republish=args.republish,
            dry_run=args.dry_run,
            resend=args.resend,
        )
    except ReplayRefusedError as exc:
        print(f"replay refused: {exc}", file=sys.stderr)
        return 2
    return run(settings, request)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.run import run_pipeline

    return run_pipeline(settings, dict(os.environ), demo=not args.no_demo, stay=not args.exit)


def _standins(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.standins import Ports, Tokens, serve

    serve(args.host, Ports(*args.ports), Tokens.from_settings(settings))
    return 0


Handler = Callable[[argparse.Namespace, Settings], int]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("stack", _stack, "Start, stop or inspect the local Kafka and PostgreSQL.")
    sub.add_argument("action", choices=["up", "down", "status"])
    sub = command("topics", _topics, "Apply the topic catalogue to the broker, or describe it.")
    sub.add_argument("action", choices=["apply", "describe"])
    sub.add_argument("--json", action="store_true", help="machine-readable output")
    sub = command("schemas", _schemas, "Export JSON Schema for every event type.")
    sub.add_argument("action", choices=["export"])
    sub.add_argument("directory")
    command("migrate", _migrate, "Apply pending database migrations, once each, in order.")
    sub = command("kb", _kb, "Load Markdown files into the knowledge base the flow answers from.")
    sub.add_argument("action", choices=["load"])
    sub.add_argument("directory", nargs="?", default="kb", help="Markdown files (default: kb)")
    sub.add_argument("--prune", action="store_true", help="remove documents no longer there")
    sub = command("retention", _retention, "Run the retention policies now, or list them.")
    sub.add_argument("action", choices=["run", "policies"])
    sub.add_argument("--now", help="ISO-8601 time to run as (default: the current time)")
    sub = command("ingest", _ingest, "Serve the webhook endpoints.")
    sub.add_argument("--host")
    sub.add_argument("--port", type=int)
    sub.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="processes serving the port (default 1); each uses about one core at saturation",
    )
    command("worker", _worker, "Run the stream worker.")
    sub = command("lag", _lag, "Consumer lag per group and partition, in messages and seconds.")
    sub.add_argument("--group", action="append", default=[], help="only this group (repeatable)")
    sub.add_argument("--watch", type=float, nargs="?", const=5.0, metavar="SECONDS")
    sub.add_argument("--json", action="store_true", help="machine-readable output")
    sub = command(
        "replay", _replay, "Move a consumer group back in a topic, or re-publish a range of it."
    )
    sub.add_argument("--topic", required=True, help="a catalogue topic, e.g. inbound.v1")
    start = sub.add_mutually_exclusive_group(required=True)
    start.add_argument("--from-time", metavar="ISO", help="UTC, with its offset: ...T10:00Z")
    start.add_argument("--from-offset", type=int, metavar="N", help="on every partition")
    sub.add_argument("--to-time", metavar="ISO", help="end of the range, exclusive")
    sub.add_argument("--group", help="the group to move or seed (default: the worker's)")
    sub.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sub.add_argument(
        "--republish", action="store_true", help="copy the range into its topic, as a replay"
    )
    sub.add_argument("--resend", action="store_true", help="let replayed replies reach customers")
    sub = command("run", _run, "Run the whole pipeline locally, with a demo conversation.")
    sub.add_argument("--no-demo", action="store_true", help="skip the demo conversation")
    sub.add_argument("--exit", action="store_true", help="stop after the demo instead of serving")
    sub = command(
        "standins",
        _standins,
        "Serve local stand-ins of Chatwoot, the Graph API, 360dialog and a chat model.",
    )
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument(
        "--ports",
        type=int,
        nargs=4,
        default=(3000, 3001, 3002, 3003),
        metavar=("CW", "GRAPH", "D360", "MODEL"),
    )
    compliance_cli.register(command)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(exc.code, file=sys.stderr)
        return 2
    logs.configure(settings.switchboard_log_level, json_output=settings.is_production)
    retrying.configure(settings)
    code: int = args.handler(args, settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
