"""The compliance commands through the `switchboard` entry point, against the real database
and broker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ingest.app import build_ingest, create_app
from schemas.keys import Pseudonymizer
from sinks.postgres.pool import Database, PoolConfig
from switchboard.settings import Settings
from tests.integration.conftest import ROOT, settings_env
from tests.integration.stored_customers import whatsapp_customer

pytestmark = pytest.mark.integration


def switchboard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return settings_env(settings, tmp_path)


async def test_apikey_create_list_and_revoke(settings: Settings, tmp_path: Path) -> None:
    """The created key works at once, is never listed with its secret, and stops working
    once revoked."""
    env = _env(settings, tmp_path)
    created = switchboard(env, "apikey", "create", "--name", "crm", "--scope", "gdpr:read")
    assert created.returncode == 0, created.stderr
    token = next(line.split()[1] for line in created.stdout.splitlines() if line.startswith("key:"))
    key_id = created.stdout.split()[1]
    assert key_id.startswith("key_")
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(build_ingest(settings))) as client:
        assert client.get("/gdpr/deletions/del_none", headers=headers).status_code == 404
        listed = switchboard(env, "apikey", "list")
        assert listed.returncode == 0
        assert key_id in listed.stdout
        assert token.split("_", 2)[2] not in listed.stdout
        revoked = switchboard(env, "apikey", "revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr
        assert client.get("/gdpr/deletions/del_none", headers=headers).status_code == 401
    again = switchboard(env, "apikey", "revoke", key_id)
    assert again.returncode == 1
    unknown_scope = switchboard(env, "apikey", "create", "--name", "x", "--scope", "gdpr:all")
    assert unknown_scope.returncode == 2
    assert "unknown scope" in unknown_scope.stderr


async def test_consent_forget_and_deletion_from_the_command_line(
    settings: Settings, tmp_path: Path
) -> None:
    """Operators use the same service: consent and erasure by phone, audited as cli:<user>;
    forget refuses without --yes."""
    env = _env(settings, tmp_path)
    keys = Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())
    database = await Database.connect(
        PoolConfig(settings.database_url.get_secret_value(), size=1, max_overflow=0)
    )
    try:
        customer = await whatsapp_customer(database, keys)
        contact = f"phone:+{customer.phone}"
        consent = switchboard(
            env, "consent", contact, "--type", "marketing", "--withdrawn", "--source", "phone_call"
        )
        assert consent.returncode == 0, consent.stderr
        assert customer.contact_id in consent.stdout
        export = switchboard(env, "export", contact, "--wait", "--timeout", "1")
        assert export.returncode == 0, export.stderr
        # A worker in the same session may already have written the archive.
        assert json.loads(export.stdout)["status"] in {"processing", "completed"}
        refused = switchboard(env, "forget", contact, "--reason", "customer_request")
        assert refused.returncode == 2
        assert "--yes" in refused.stderr
        forgotten = switchboard(env, "forget", contact, "--reason", "customer_request", "--yes")
        assert forgotten.returncode == 0, forgotten.stderr
        assert '"status": "pending"' in forgotten.stdout
        deletion_id = forgotten.stdout.split('"deletion_id": "')[1].split('"')[0]
        status = switchboard(env, "deletion", deletion_id)
        assert status.returncode == 0, status.stderr
        assert customer.contact_id in status.stdout
        missing = switchboard(env, "deletion", "del_nothing")
        assert missing.returncode == 1
        assert "no deletion" in missing.stderr
        async with database.connection() as conn:
            rows = await conn.fetch(
                "SELECT actor, action, outcome FROM audit_log WHERE subject = $1 ORDER BY id",
                customer.contact_id,
            )
    finally:
        await database.close()
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("consent.record", "accepted"),
        ("export.request", "accepted"),
        *[("export.status", "ok")] * (len(rows) - 4),
        ("erasure.request", "accepted"),
        ("deletion.status", "ok"),
    ]
    assert all(r["actor"].startswith("cli:") for r in rows)
