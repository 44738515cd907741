"""Chatwoot (v4.11.2+ account webhooks, v4.13.0+ agent-bot and API-inbox webhooks).

``X-Chatwoot-Signature: sha256=<hex>`` where the hex is HMAC-SHA256 keyed with the
webhook's secret over ``"{X-Chatwoot-Timestamp}.{raw body}"``. Chatwoot enforces no replay
window; we refuse timestamps further than ``tolerance`` seconds from now, either way. The
window is checked after the signature, so `StaleTimestampError` means an authentic delivery
replayed (or delayed) past the tolerance, never a forgery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ingest.signatures.errors import SignatureError, StaleTimestampError
from ingest.signatures.hmac_hex import is_sha256_hex, matches_any

SIGNATURE_HEADER = "x-chatwoot-signature"
TIMESTAMP_HEADER = "x-chatwoot-timestamp"
DELIVERY_HEADER = "x-chatwoot-delivery"
_PREFIX = "sha256="
_MAX_TIMESTAMP_DIGITS = 12


def verify(
    secrets: Sequence[bytes],
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance: float,
) -> None:
    signature = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not signature:
        raise SignatureError("missing X-Chatwoot-Signature header")
    if not timestamp:
        raise SignatureError("missing X-Chatwoot-Timestamp header")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        raise SignatureError("malformed X-Chatwoot-Timestamp header")
    if not signature.startswith(_PREFIX) or not is_sha256_hex(signature[len(_PREFIX) :]):
        raise SignatureError("malformed X-Chatwoot-Signature header")
    if not secrets:
        raise SignatureError("no Chatwoot webhook secret is configured")
    message = timestamp.encode() + b"." + body
    if not matches_any(secrets, message, signature[len(_PREFIX) :]):
        raise SignatureError("X-Chatwoot-Signature does not match")
    if abs(now - int(timestamp)) > tolerance:
        raise StaleTimestampError(
            f"X-Chatwoot-Timestamp is outside the accepted window of {tolerance:g} seconds:"
            " a replayed or delayed delivery"
        )
