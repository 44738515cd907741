"""Compliance API keys: generation, hashing and verification. Pure.

A key reads ``sb_<prefix>_<secret>``. The prefix is not secret: it finds the row. Only a
SHA-256 of the secret is stored, and compared in constant time, so a leaked table does
not leak usable keys. The secret is 256 random bits, so a plain (unsalted, fast) hash is
enough: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal, get_args

# gdpr:read reads the status of the exports and erasures its own key asked for;
# gdpr:read-all reads everyone's (compliance officers), the CLI's and the chat's included.
Scope = Literal["consent:write", "gdpr:export", "gdpr:erase", "gdpr:read", "gdpr:read-all"]
SCOPES: tuple[Scope, ...] = get_args(Scope)

_TOKEN = re.compile(r"^sb_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    """A freshly made key: ``token`` is shown once, only the rest is stored."""

    key_id: str
    prefix: str
    secret_hash: str
    name: str
    scopes: tuple[Scope, ...]
    token: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(values: Iterable[str]) -> tuple[Scope, ...]:
    """Known scopes, deduplicated in the order given; an unknown one is an error."""
    chosen: list[Scope] = []
    for value in values:
        scope = next((s for s in SCOPES if s == value), None)
        if scope is None:
            raise ValueError(f"unknown scope {value!r}; scopes are {', '.join(SCOPES)}")
        if scope not in chosen:
            chosen.append(scope)
    if not chosen:
        raise ValueError("a key needs at least one scope")
    return tuple(chosen)


def generate(name: str, scopes: Iterable[str]) -> NewKey:
    chosen = parse_scopes(scopes)
    if not name.strip():
        raise ValueError("a key needs a name")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(
        key_id="key_" + secrets.token_hex(8),
        prefix=prefix,
        secret_hash=hash_secret(secret),
        name=name.strip(),
        scopes=chosen,
        token=f"sb_{prefix}_{secret}",
    )


def parse_token(token: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else None."""
    match = _TOKEN.match(token)
    return (match[1], match[2]) if match else None


def verify_secret(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret).encode(), secret_hash.encode())


def allows(granted: Collection[str], any_of: Collection[str]) -> bool:
    """Whether a key with ``granted`` scopes may do what needs one of ``any_of``."""
    return any(scope in granted for scope in any_of)
