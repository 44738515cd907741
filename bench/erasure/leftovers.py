"""Whether every copy is gone, and only that: what is left of the erased contacts (rows, data
keys, Chatwoot contacts not anonymised: each should be 0), whether each has its proof on
erasures.v1, and what the contacts not erased keep."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from bench.erasure.erasing import Erased
from bench.erasure.rig import Rig

TABLES = ("messages", "conversations", "actions", "contact_identities")


async def rows(rig: Rig, contacts: Sequence[int]) -> dict[str, int]:
    """The contacts' rows, per table."""
    ids = [rig.contact_id(c) for c in contacts]
    counts: dict[str, int] = {}
    async with rig.database.connection() as conn:
        for table in TABLES:
            counts[table] = int(
                await conn.fetchval(
                    f"SELECT count(*) FROM {table} WHERE contact_id = ANY($1::text[])",  # noqa: S608
                    ids,
                )
            )
    return counts


async def data_keys(rig: Rig, contacts: Sequence[int]) -> int:
    """How many of the contacts have a data key on data-keys.v1, read to its end now."""
    await rig.keyring.log.catch_up()
    return sum(rig.keyring.log.wrapped(rig.contact_id(c)) is not None for c in contacts)


async def not_anonymised(rig: Rig, contacts: Sequence[int]) -> int:
    """How many of the contacts the Chatwoot stand-in still holds by their details."""
    async with httpx.AsyncClient(base_url=rig.chatwoot, timeout=10) as client:
        listed = (await client.get("/_standin/chatwoot/contacts")).json()["contacts"]
    wanted = set(contacts)
    return sum(
        1 for c in listed if c["id"] in wanted and not str(c["name"]).startswith("Deleted User")
    )


async def leftovers(rig: Rig, contacts: Sequence[int]) -> dict[str, int]:
    """What is left of the erased contacts, by kind (each should be 0)."""
    return {
        **await rows(rig, contacts),
        "data keys": await data_keys(rig, contacts),
        "chatwoot contacts not anonymised": await not_anonymised(rig, contacts),
    }


async def proofs(rig: Rig, erased: Sequence[Erased]) -> int:
    """How many erased contacts have their proof on erasures.v1, naming their deletion."""
    await rig.keyring.log.catch_up()
    found = (rig.keyring.log.erasure(e.contact_id) for e in erased)
    return sum(
        proof is not None and proof.deletion_id == e.deletion_id
        for proof, e in zip(found, erased, strict=True)
    )
