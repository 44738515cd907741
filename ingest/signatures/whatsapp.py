"""Meta's WhatsApp Cloud API: ``X-Hub-Signature-256: sha256=<hex>``.

The hex is HMAC-SHA256 keyed with the app secret over the raw request bytes, exactly as
received: re-serialised JSON would not match (Meta escapes non-ASCII as ``\\uXXXX``).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

from ingest.signatures.errors import SignatureError
from ingest.signatures.hmac_hex import is_sha256_hex, matches_any

SIGNATURE_HEADER = "x-hub-signature-256"
_PREFIX = "sha256="


def verify(secrets: Sequence[bytes], headers: Mapping[str, str], body: bytes) -> None:
    signature = headers.get(SIGNATURE_HEADER)
    if not signature:
        raise SignatureError("missing X-Hub-Signature-256 header")
    if not signature.startswith(_PREFIX) or not is_sha256_hex(signature[len(_PREFIX) :]):
        raise SignatureError("malformed X-Hub-Signature-256 header")
    if not secrets:
        raise SignatureError("no WhatsApp app secret is configured")
    if not matches_any(secrets, body, signature[len(_PREFIX) :]):
        raise SignatureError("X-Hub-Signature-256 does not match")


def verify_subscription(token: bytes, mode: str | None, given_token: str | None) -> None:
    """The GET handshake Meta makes when a webhook URL is registered."""
    if mode != "subscribe":
        raise SignatureError("hub.mode must be 'subscribe'")
    if given_token is None:
        raise SignatureError("hub.verify_token does not match")
    try:
        given_bytes = given_token.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate: no token can match it
        raise SignatureError("hub.verify_token does not match") from exc
    if not hmac.compare_digest(given_bytes, token):
        raise SignatureError("hub.verify_token does not match")
