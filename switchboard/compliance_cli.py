"""Compliance subcommands of `switchboard`: API keys, consent, export, forget, deletion.

They call the same service as the HTTP API, as the actor ``cli:<user>``, so operators'
actions are audited like API calls. Nothing here decides anything.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from switchboard.settings import Settings

if TYPE_CHECKING:
    from ingest.compliance.wiring import Compliance
    from schemas.events import Event

Handler = Callable[[argparse.Namespace, Settings], int]
Command = Callable[[str, Handler, str], argparse.ArgumentParser]


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli:unknown"


class _NoEventLog:
    """For commands that only read or manage keys: nothing is appended, Kafka is not needed."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def connected(self) -> bool:
        return False

    async def append(self, events: Sequence[Event]) -> None:
        raise RuntimeError("this command does not write to the event log")


@asynccontextmanager
async def _compliance(settings: Settings, with_log: bool = True) -> AsyncIterator[Compliance]:
    from ingest.compliance.wiring import build_compliance
    from ingest.producer import EventLog, KafkaEventLog
    from sinks.postgres.pool import Database, PoolConfig

    database = await Database.connect(
        PoolConfig(settings.database_url.get_secret_value(), size=1, max_overflow=0)
    )
    log: EventLog = (
        KafkaEventLog(
            settings.kafka_bootstrap_servers,
            settings.switchboard_topic_prefix,
            settings.switchboard_produce_timeout_seconds,
        )
        if with_log
        else _NoEventLog()
    )
    await log.start()
    try:
        yield build_compliance(settings, database, log)
    finally:
        await log.stop()
        await database.close()


def _run(work: Coroutine[Any, Any, str]) -> int:
    """Print what the command produced. A refusal is one line on stderr and exit code 1;
    invalid input, exit code 2."""
    from pydantic import ValidationError

    from ingest.errors import RequestRefused

    try:
        print(asyncio.run(work))
    except RequestRefused as refused:
        print(f"error: {refused.detail}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            where = ".".join(map(str, error["loc"]))
            print(f"error: {where}: {error['msg']}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


# --- API keys ---------------------------------------------------------------------------


async def _apikey(args: argparse.Namespace, settings: Settings) -> str:
    from ingest.compliance import apikeys
    from ingest.compliance.audit import AuditEntry, our_id
    from ingest.compliance.errors import NotFound

    async with _compliance(settings, with_log=False) as compliance:
        if args.action == "create":
            key = apikeys.generate(args.name, args.scope)
            await compliance.keys.add(key)
            detail = {"key_id": key.key_id, "scopes": " ".join(key.scopes)}
            await compliance.audit.record(AuditEntry(actor(), "apikey.create", "ok", None, detail))
            return (
                f"created {key.key_id} ({key.name}) with scopes {', '.join(key.scopes)}\n"
                f"key: {key.token}\n"
                "This is the only time the key is shown: store it now."
            )
        if args.action == "revoke":
            revoked = await compliance.keys.revoke(args.key_id)
            outcome = "ok" if revoked else "not_found"
            detail = {"key_id": our_id(args.key_id)}
            await compliance.audit.record(
                AuditEntry(actor(), "apikey.revoke", outcome, None, detail)
            )
            if not revoked:
                raise NotFound(f"no active key {args.key_id!r}")
            return f"revoked {args.key_id}"
        lines = []
        for stored in await compliance.keys.all():
            state = "revoked" if stored.revoked_at else "active"
            used = stored.last_used_at.isoformat() if stored.last_used_at else "never"
            lines.append(
                f"{stored.key_id}  {state:7}  {stored.name}  scopes={','.join(stored.scopes)}"
                f"  created={stored.created_at.isoformat()}  last_used={used}"
            )
        return "\n".join(lines) if lines else "no API keys"


def apikey_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "create" and (not args.name or not args.scope):
        print("apikey create needs --name and at least one --scope", file=sys.stderr)
        return 2
    if args.action == "revoke" and not args.key_id:
        print("apikey revoke needs the KEY_ID", file=sys.stderr)
        return 2
    return _run(_apikey(args, settings))


# --- consent, export, forget, deletion --------------------------------------------------


async def _consent(args: argparse.Namespace, settings: Settings) -> str:
    from ingest.compliance.models import ConsentRequest

    request = ConsentRequest(
        contact=args.contact,
        consent_type=args.type,
        granted=args.granted,
        source=args.source,
        ip_address=args.ip_address,
    )
    async with _compliance(settings) as compliance:
        accepted = await compliance.service.record_consent(
            actor(), request, origin="cli", correlation_id=uuid.uuid4().hex
        )
    return accepted.model_dump_json(indent=2)


def consent_command(args: argparse.Namespace, settings: Settings) -> int:
    return _run(_consent(args, settings))


async def _export(args: argparse.Namespace, settings: Settings) -> str:
    async with _compliance(settings) as compliance:
        service = compliance.service
        accepted = await service.request_export(
            actor(), args.contact, correlation_id=uuid.uuid4().hex
        )
        if not args.wait:
            return accepted.model_dump_json(indent=2)
        deadline = time.monotonic() + args.timeout
        while True:
            status = await service.export_status(actor(), accepted.export_id, owner=None)
            if status.status != "processing" or time.monotonic() > deadline:
                return status.model_dump_json(indent=2)
            await asyncio.sleep(1.0)


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    return _run(_export(args, settings))


async def _forget(args: argparse.Namespace, settings: Settings) -> str:
    from ingest.compliance.models import ErasureRequest

    request = ErasureRequest(confirmation=args.yes, reason=args.reason)
    async with _compliance(settings) as compliance:
        accepted = await compliance.service.request_erasure(
            actor(), args.contact, request, correlation_id=uuid.uuid4().hex
        )
    return accepted.model_dump_json(indent=2)


def forget_command(args: argparse.Namespace, settings: Settings) -> int:
    if not args.yes:
        print(
            "forget erases the contact's data everywhere and cannot be undone; "
            "add --yes to confirm",
            file=sys.stderr,
        )
        return 2
    return _run(_forget(args, settings))


async def _deletion(args: argparse.Namespace, settings: Settings) -> str:
    async with _compliance(settings, with_log=False) as compliance:
        # Operators read every erasure, whoever asked for it (as gdpr:read-all keys do).
        status = await compliance.service.deletion_status(actor(), args.deletion_id, owner=None)
    return status.model_dump_json(indent=2)


def deletion_command(args: argparse.Namespace, settings: Settings) -> int:
    return _run(_deletion(args, settings))


def register(command: Command) -> None:
    """Add the compliance subcommands to the `switchboard` parser."""
    contact_help = "ct_<id>, phone:+<digits>, bsuid:<id> or chatwoot:<account_id>/<contact_id>"
    sub = command("apikey", apikey_command, "Create, revoke or list compliance API keys.")
    sub.add_argument("action", choices=["create", "revoke", "list"])
    sub.add_argument("key_id", nargs="?", help="the key to revoke")
    sub.add_argument("--name", help="who or what the key is for")
    sub.add_argument(
        "--scope",
        action="append",
        default=[],
        help="consent:write, gdpr:export, gdpr:erase or gdpr:read (repeatable)",
    )
    sub = command("consent", consent_command, "Record a contact's consent or its withdrawal.")
    sub.add_argument("contact", help=contact_help)
    sub.add_argument("--type", required=True, choices=["marketing", "analytics", "communication"])
    given = sub.add_mutually_exclusive_group(required=True)
    given.add_argument("--granted", dest="granted", action="store_true")
    given.add_argument("--withdrawn", dest="granted", action="store_false")
    sub.add_argument("--source", required=True, help="where it was given, e.g. phone_call")
    sub.add_argument("--ip-address", help="where it was given from, if known")
    sub = command("export", export_command, "Export everything held about a contact.")
    sub.add_argument("contact", help=contact_help)
    sub.add_argument("--wait", action="store_true", help="wait until the archive is ready")
    sub.add_argument("--timeout", type=float, default=300.0, help="seconds to wait (300)")
    sub = command("forget", forget_command, "Erase a contact everywhere (GDPR art. 17).")
    sub.add_argument("contact", help=contact_help)
    sub.add_argument("--reason", required=True, help="a reason code, e.g. customer_request")
    sub.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    sub = command("deletion", deletion_command, "Show an erasure's progress, target by target.")
    sub.add_argument("deletion_id")
