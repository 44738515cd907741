"""360dialog: messaging webhooks are not signed.

The documented protection is a custom header that the operator registers together with
the webhook URL; we compare its value with every configured secret in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

from ingest.signatures.errors import SignatureError


def verify(secrets: Sequence[bytes], header_name: str, headers: Mapping[str, str]) -> None:
    given = headers.get(header_name.lower())
    if not given:
        raise SignatureError(f"missing {header_name} header")
    if not secrets:
        raise SignatureError("no 360dialog webhook secret is configured")
    try:
        given_bytes = given.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate: no secret can match it
        raise SignatureError(f"malformed {header_name} header") from exc
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(given_bytes, secret)
    if not matched:
        raise SignatureError(f"{header_name} does not match")
