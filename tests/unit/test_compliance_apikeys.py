"""Compliance API keys and the authentication decisions made on them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.compliance import apikeys
from ingest.compliance.audit import AuditEntry
from ingest.compliance.auth import (
    Authenticator,
    Principal,
    bearer_token,
    check_key,
    may_read,
    reads_of,
    require,
)
from ingest.compliance.errors import Forbidden, RateLimited, Unauthenticated
from ingest.compliance.keystore import StoredKey
from ingest.ratelimit import RateLimiter

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def _stored(key: apikeys.NewKey, revoked: bool = False) -> StoredKey:
    return StoredKey(
        key_id=key.key_id,
        name=key.name,
        secret_hash=key.secret_hash,
        scopes=key.scopes,
        created_at=NOW,
        revoked_at=NOW if revoked else None,
        last_used_at=None,
    )


def test_a_key_is_shown_as_prefix_and_secret_and_stored_only_as_a_hash() -> None:
    """The token is sb_<prefix>_<secret>; what is stored is the SHA-256 of the secret."""
    key = apikeys.generate("crm", ["gdpr:read"])
    parsed = apikeys.parse_token(key.token)
    assert parsed is not None
    prefix, secret = parsed
    assert prefix == key.prefix
    assert key.secret_hash == apikeys.hash_secret(secret)
    assert secret not in key.secret_hash
    assert apikeys.verify_secret(secret, key.secret_hash)


def test_two_keys_never_share_prefix_or_secret() -> None:
    """Keys are random: prefixes, secrets and ids differ."""
    keys = [apikeys.generate("k", ["gdpr:read"]) for _ in range(50)]
    assert len({k.prefix for k in keys}) == 50
    assert len({k.token for k in keys}) == 50
    assert len({k.key_id for k in keys}) == 50


@given(st.text(min_size=1, max_size=60))
def test_any_other_secret_is_refused(other: str) -> None:
    """Only the exact secret verifies against the stored hash."""
    key = apikeys.generate("k", ["gdpr:read"])
    _, secret = apikeys.parse_token(key.token) or ("", "")
    if other != secret:
        assert not apikeys.verify_secret(other, key.secret_hash)


@given(st.text(max_size=80))
def test_malformed_tokens_do_not_parse(token: str) -> None:
    """Anything not shaped like sb_<12 hex>_<43 url-safe> is rejected before any lookup."""
    parsed = apikeys.parse_token(token)
    if parsed is not None:
        assert token == f"sb_{parsed[0]}_{parsed[1]}"


def test_scopes_are_checked_and_deduplicated() -> None:
    """Unknown scopes and empty scope lists are refused; repeats collapse."""
    assert apikeys.parse_scopes(["gdpr:read", "gdpr:read", "gdpr:erase"]) == (
        "gdpr:read",
        "gdpr:erase",
    )
    with pytest.raises(ValueError, match="unknown scope"):
        apikeys.parse_scopes(["gdpr:everything"])
    with pytest.raises(ValueError, match="at least one scope"):
        apikeys.parse_scopes([])
    with pytest.raises(ValueError, match="needs a name"):
        apikeys.generate("  ", ["gdpr:read"])


def test_a_key_may_do_what_any_of_its_scopes_allows() -> None:
    """One matching scope is enough; none is a refusal."""
    assert apikeys.allows({"gdpr:read"}, ["gdpr:export", "gdpr:read"])
    assert not apikeys.allows({"consent:write"}, ["gdpr:erase"])


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer   ", "Token sb_x"])
def test_missing_or_non_bearer_authorization_is_unauthenticated(header: str | None) -> None:
    """No usable Authorization header is a 401 asking for a Bearer key."""
    with pytest.raises(Unauthenticated) as refused:
        bearer_token(header)
    assert refused.value.status_code == 401
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer")


def test_bearer_scheme_is_case_insensitive() -> None:
    """'bearer' and 'Bearer' both work, surrounding spaces ignored."""
    assert bearer_token("bearer  sb_abc ") == "sb_abc"


def test_unknown_wrong_and_revoked_keys_are_unauthenticated() -> None:
    """Unknown keys name no key; a wrong secret or a revoked key names it, for the audit."""
    key = apikeys.generate("k", ["gdpr:read"])
    _, secret = apikeys.parse_token(key.token) or ("", "")
    with pytest.raises(Unauthenticated) as unknown:
        check_key(secret, None)
    assert unknown.value.key_id is None
    with pytest.raises(Unauthenticated) as wrong:
        check_key(secret[:-1] + ("A" if secret[-1] != "A" else "B"), _stored(key))
    assert wrong.value.key_id == key.key_id
    with pytest.raises(Unauthenticated, match="revoked") as revoked:
        check_key(secret, _stored(key, revoked=True))
    assert revoked.value.key_id == key.key_id
    assert check_key(secret, _stored(key)) == Principal(key.key_id, frozenset({"gdpr:read"}))


def test_a_key_without_the_scope_is_forbidden_and_told_which() -> None:
    """403 names the scope(s) that would have allowed the call."""
    principal = Principal("key_1", frozenset({"consent:write"}))
    with pytest.raises(Forbidden, match="'gdpr:erase'") as refused:
        require(principal, ["gdpr:erase"])
    assert refused.value.status_code == 403
    require(replace(principal, scopes=frozenset({"gdpr:erase"})), ["gdpr:erase"])


def test_only_a_revoked_key_is_audited_every_other_refusal_is_counted() -> None:
    """A refusal anyone can cause (no key, a malformed or unknown one, a real prefix with a
    wrong secret) is counted; a revoked key proved its secret and is audited by its id."""
    key = apikeys.generate("k", ["gdpr:read"])
    _, secret = apikeys.parse_token(key.token) or ("", "")
    refusals: list[Unauthenticated] = []
    for attempt in (
        lambda: bearer_token(None),
        lambda: bearer_token("Basic abc"),
        lambda: check_key(secret, None),
        lambda: check_key("x" + secret[1:], _stored(key)),
        lambda: check_key(secret, _stored(key, revoked=True)),
    ):
        with pytest.raises(Unauthenticated) as refused:
            attempt()
        refusals.append(refused.value)
    assert [(r.counted_as, r.counted_key) for r in refusals] == [
        ("missing_key", ""),
        ("malformed_key", ""),
        ("unknown_key", ""),
        ("wrong_secret", key.key_id),
        (None, key.key_id),
    ]


class MemoryKeys:
    def __init__(self, *stored: StoredKey, prefixes: dict[str, str]) -> None:
        self.stored = {prefixes[s.key_id]: s for s in stored}
        self.touched: list[str] = []

    async def by_prefix(self, prefix: str) -> StoredKey | None:
        return self.stored.get(prefix)

    async def touch(self, key_id: str) -> None:
        self.touched.append(key_id)


class MemoryAudit:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


async def test_a_key_over_its_rate_is_refused_and_strangers_cannot_spend_its_budget() -> None:
    """Wrong secrets under a key's prefix cost its holder nothing; the holder's own calls
    past the rate are 429 with Retry-After, counted under the key, not audited."""
    key = apikeys.generate("k", ["gdpr:read"])
    keys = MemoryKeys(_stored(key), prefixes={key.key_id: key.prefix})
    audit = MemoryAudit()
    authenticator = Authenticator(keys, audit, RateLimiter(per_minute=2), clock=lambda: 0.0)
    forged = f"Bearer sb_{key.prefix}_{'A' * 43}"
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await authenticator.authenticate(forged, "deletion.status", ["gdpr:read"])
    real = f"Bearer {key.token}"
    for _ in range(2):
        await authenticator.authenticate(real, "deletion.status", ["gdpr:read"])
    with pytest.raises(RateLimited) as limited:
        await authenticator.authenticate(real, "deletion.status", ["gdpr:read"])
    assert limited.value.status_code == 429
    assert limited.value.headers["Retry-After"] == "30"
    assert (limited.value.counted_as, limited.value.counted_key) == ("rate_limited", key.key_id)
    assert audit.entries == []
    assert keys.touched == [key.key_id, key.key_id]


def test_read_all_is_a_scope_and_the_only_way_to_read_others_requests() -> None:
    """A key reads what it asked for; gdpr:read-all reads everything, the CLI's too."""
    assert apikeys.parse_scopes(["gdpr:read-all"]) == ("gdpr:read-all",)
    reader = Principal("key_reader", frozenset({"gdpr:read"}))
    officer = Principal("key_officer", frozenset({"gdpr:read-all"}))
    assert reads_of(reader) == "key_reader"
    assert reads_of(officer) is None
    assert may_read("key_reader", {"key_reader", "key_other"})
    assert not may_read("key_reader", {"key_other", "cli:ops"})
    assert may_read(None, {"customer-chat"})
