"""Webhook authentication, one module per provider.

Each check is a plain function over the secrets, the request headers (looked up
case-insensitively by lower-case name), the raw body bytes and the current time. Every
way a request can fail raises `SignatureError`, a malformed header included; the
caller answers 403. A replay of an authentic request raises its subclass `StaleTimestampError`.
"""

from ingest.signatures.errors import SignatureError, StaleTimestampError

__all__ = ["SignatureError", "StaleTimestampError"]
