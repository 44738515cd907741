"""Signed export download links: only the untouched link, before its expiry, opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sinks.export import links

KEY = b"export-url-key-for-unit-tests-0123"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
EXPIRES = int((NOW + timedelta(days=7)).timestamp())
EXPORT = "exp_0123456789abcdef0123456789abcdef"

export_ids = st.text(min_size=1, max_size=60)
expiries = st.integers(min_value=0, max_value=10**11)


def test_a_signed_link_verifies_until_it_expires() -> None:
    """The link built for an export verifies, then is refused as expired at its expiry."""
    url = links.download_url("https://sb.example/", KEY, EXPORT, EXPIRES)
    parts = urlsplit(url)
    assert parts.path == f"/gdpr/export/{EXPORT}/download"
    assert url.startswith("https://sb.example/gdpr/")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert links.verify(KEY, EXPORT, query["expires"], query["signature"], NOW) == EXPIRES
    at_expiry = datetime.fromtimestamp(EXPIRES, UTC)
    with pytest.raises(links.LinkExpired):
        links.verify(KEY, EXPORT, query["expires"], query["signature"], at_expiry)


def test_link_expiry_never_outlives_the_export() -> None:
    """Rounded down to whole seconds."""
    expires_at = NOW + timedelta(days=7, microseconds=999_999)
    assert links.link_expiry(expires_at) <= expires_at.timestamp()


@pytest.mark.parametrize(
    ("expires", "signature"),
    [(None, None), (str(EXPIRES), None), (None, "a" * 64), ("soon", "a" * 64), ("1", "xyz")],
)
def test_incomplete_or_malformed_links_are_refused(
    expires: str | None, signature: str | None
) -> None:
    """Missing or malformed parameters are a refusal, not a crash."""
    with pytest.raises(links.LinkRefused):
        links.verify(KEY, EXPORT, expires, signature, NOW)


@given(
    export_ids,
    expiries,
    st.integers(min_value=0, max_value=63),
    st.sampled_from("0123456789abcdef"),
)
def test_any_tampered_signature_is_refused(
    export_id: str, expires: int, position: int, digit: str
) -> None:
    """Changing any hex digit of the signature breaks it."""
    good = links.signature(KEY, export_id, expires)
    tampered = good[:position] + digit + good[position + 1 :]
    if tampered != good:
        with pytest.raises(links.LinkRefused):
            links.verify(KEY, export_id, str(expires), tampered, datetime.fromtimestamp(0, UTC))


@given(export_ids, export_ids, expiries)
def test_a_signature_does_not_open_another_export(mine: str, other: str, expires: int) -> None:
    """A link's signature is bound to its export id."""
    signature = links.signature(KEY, mine, expires)
    if other != mine:
        with pytest.raises(links.LinkRefused):
            links.verify(KEY, other, str(expires), signature, datetime.fromtimestamp(0, UTC))


@given(export_ids, expiries, expiries)
def test_a_signature_does_not_stretch_to_another_expiry(
    export_id: str, expires: int, other: int
) -> None:
    """Moving the expiry breaks the signature, so a link cannot be extended."""
    signature = links.signature(KEY, export_id, expires)
    if other != expires:
        with pytest.raises(links.LinkRefused):
            links.verify(KEY, export_id, str(other), signature, datetime.fromtimestamp(0, UTC))


@given(export_ids, expiries)
def test_a_link_signed_with_another_key_is_refused(export_id: str, expires: int) -> None:
    """Only links signed with SWITCHBOARD_EXPORT_URL_KEY open."""
    signature = links.signature(b"some-other-key-entirely", export_id, expires)
    with pytest.raises(links.LinkRefused):
        links.verify(KEY, export_id, str(expires), signature, datetime.fromtimestamp(0, UTC))
