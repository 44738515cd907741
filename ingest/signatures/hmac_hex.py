"""The shared primitive: does a hex HMAC-SHA256 match under any of several secrets."""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Iterable

_HEX = frozenset(string.hexdigits)
SHA256_HEX_LENGTH = 64


def is_sha256_hex(value: str) -> bool:
    return len(value) == SHA256_HEX_LENGTH and all(c in _HEX for c in value)


def matches_any(secrets: Iterable[bytes], message: bytes, signature_hex: str) -> bool:
    """Constant-time comparison against every secret; rotation means several are live."""
    given = signature_hex.lower().encode()
    matched = False
    for secret in secrets:
        expected = hmac.new(secret, message, hashlib.sha256).hexdigest().encode()
        # No early exit, so timing does not tell which secret (if any) matched.
        matched |= hmac.compare_digest(expected, given)
    return matched
