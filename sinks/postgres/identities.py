"""Which provider identities belong to which contact: ``contact_identities``.

Written by the conversation sink in the same transaction as the messages, so the compliance
API can find a contact by phone, BSUID or Chatwoot contact id. Only keyed hashes are
stored; the newest sighting wins when an identity moves to another contact (a recycled
phone number), and an older one replayed later changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.identities import IdentityRow

_UPSERT = """
INSERT INTO contact_identities (
    identity_hash, kind, contact_id, external_ref, first_seen_at, last_seen_at
)
SELECT h, k, ct, ref, t, t
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
    AS u(h, k, ct, ref, t)
ON CONFLICT (identity_hash) DO UPDATE SET
    contact_id = CASE WHEN EXCLUDED.last_seen_at >= contact_identities.last_seen_at
                      THEN EXCLUDED.contact_id ELSE contact_identities.contact_id END,
    external_ref = COALESCE(EXCLUDED.external_ref, contact_identities.external_ref),
    first_seen_at = LEAST(contact_identities.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at = GREATEST(contact_identities.last_seen_at, EXCLUDED.last_seen_at)
"""


def latest(rows: Sequence[IdentityRow]) -> list[IdentityRow]:
    """One row per identity, the newest: one statement may not update a row twice."""
    newest: dict[str, IdentityRow] = {}
    for row in rows:
        seen = newest.get(row.identity_hash)
        if seen is None or row.seen_at >= seen.seen_at:
            newest[row.identity_hash] = row
    return list(newest.values())


async def record_identities(conn: Any, rows: Sequence[IdentityRow]) -> None:
    """Upsert identities on the caller's connection, inside the caller's transaction."""
    unique = latest(rows)
    if not unique:
        return
    await conn.execute(
        _UPSERT,
        [r.identity_hash for r in unique],
        [r.kind for r in unique],
        [r.contact_id for r in unique],
        [r.external_ref for r in unique],
        [r.seen_at for r in unique],
    )
