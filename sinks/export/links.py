"""Signed export download links. Pure.

The link itself is the credential (a data subject may receive it), so it names nothing
personal: the export id, an expiry (unix seconds) and an HMAC-SHA256 over both with
``SWITCHBOARD_EXPORT_URL_KEY``. Changing any of the three breaks the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from urllib.parse import quote, urlencode

_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_EXPIRES = re.compile(r"^[0-9]{1,12}$")


class LinkRefused(Exception):  # noqa: N818 - a refusal, not a bug
    """The signature is missing, malformed or wrong."""


class LinkExpired(Exception):  # noqa: N818
    """The signature is right but the link is past its expiry."""


def signature(key: bytes, export_id: str, expires: int) -> str:
    message = f"export-download\x1f{export_id}\x1f{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def link_expiry(expires_at: datetime) -> int:
    """Whole seconds, rounded down, so a link never outlives its export."""
    return int(expires_at.timestamp())


def download_url(public_url: str, key: bytes, export_id: str, expires: int) -> str:
    query = urlencode({"expires": expires, "signature": signature(key, export_id, expires)})
    return f"{public_url.rstrip('/')}/gdpr/export/{quote(export_id, safe='')}/download?{query}"


def verify(
    key: bytes, export_id: str, expires: str | None, given: str | None, now: datetime
) -> int:
    """The link's expiry if the link is genuine and current; raise otherwise.

    The signature is checked first, so an expired link cannot be probed for validity.
    """
    if not expires or not given or not _EXPIRES.match(expires) or not _SIGNATURE.match(given):
        raise LinkRefused("the download link is incomplete or malformed")
    when = int(expires)
    if not hmac.compare_digest(signature(key, export_id, when), given):
        raise LinkRefused("the download link's signature is not valid")
    if now.timestamp() >= when:
        raise LinkExpired("the download link has expired; ask for a new export")
    return when
