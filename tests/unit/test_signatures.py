from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ingest.signatures import SignatureError, StaleTimestampError, chatwoot, dialog360, whatsapp
from tests.json_strategies import altered

SECRET = b"whsec-rotation-current-2f9c1a"
OLD_SECRET = b"whsec-rotation-previous-77d0e4"
BODY = b'{"event":"message_created","id":4512,"content":"caf\\u00e9"}'
NOW = 1_772_543_157.0
TOLERANCE = 300.0
DIALOG360_HEADER = "X-Switchboard-Token"
DIALOG360_SECRET = b"d360-header-secret-0a1b2c3d4e5f"


def _hex(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _chatwoot_headers(
    secret: bytes = SECRET, body: bytes = BODY, timestamp: int = int(NOW)
) -> dict[str, str]:
    signature = _hex(secret, f"{timestamp}.".encode() + body)
    return {
        "x-chatwoot-signature": f"sha256={signature}",
        "x-chatwoot-timestamp": str(timestamp),
        "x-chatwoot-delivery": "6f1c3f0e-2b7a-4d0e-9a43-3a1e5b8d7c21",
    }


def _whatsapp_headers(secret: bytes = SECRET, body: bytes = BODY) -> dict[str, str]:
    return {"x-hub-signature-256": f"sha256={_hex(secret, body)}"}


def _verify_chatwoot(
    headers: dict[str, str], body: bytes = BODY, secrets: tuple[bytes, ...] = (SECRET,)
) -> None:
    chatwoot.verify(secrets, headers, body, NOW, TOLERANCE)


# --- Chatwoot ------------------------------------------------------------------------


def test_chatwoot_valid_signature_passes() -> None:
    """A request signed with the webhook secret over "{timestamp}.{body}" is accepted."""
    _verify_chatwoot(_chatwoot_headers())


def test_chatwoot_accepts_any_configured_secret() -> None:
    """During rotation both the old and the new secret are accepted."""
    _verify_chatwoot(_chatwoot_headers(secret=OLD_SECRET), secrets=(SECRET, OLD_SECRET))
    _verify_chatwoot(_chatwoot_headers(secret=SECRET), secrets=(OLD_SECRET, SECRET))


def test_chatwoot_accepts_upper_case_hex() -> None:
    """Hex digits are compared without regard to case."""
    headers = _chatwoot_headers()
    headers["x-chatwoot-signature"] = "sha256=" + headers["x-chatwoot-signature"][7:].upper()
    _verify_chatwoot(headers)


def test_chatwoot_wrong_secret_fails() -> None:
    """A signature made with a secret we do not hold is refused."""
    with pytest.raises(SignatureError):
        _verify_chatwoot(_chatwoot_headers(secret=b"someone-else"))


def test_chatwoot_no_configured_secret_fails() -> None:
    """With no secret configured nothing verifies."""
    with pytest.raises(SignatureError):
        _verify_chatwoot(_chatwoot_headers(), secrets=())


def test_chatwoot_signature_over_body_alone_fails() -> None:
    """Chatwoot signs "{timestamp}.{body}"; an HMAC of the body alone is not accepted."""
    headers = _chatwoot_headers()
    headers["x-chatwoot-signature"] = f"sha256={_hex(SECRET, BODY)}"
    with pytest.raises(SignatureError):
        _verify_chatwoot(headers)


@pytest.mark.parametrize("header", ["x-chatwoot-signature", "x-chatwoot-timestamp"])
def test_chatwoot_missing_header_fails(header: str) -> None:
    """Without the signature or the timestamp header the request is refused."""
    headers = _chatwoot_headers()
    del headers[header]
    with pytest.raises(SignatureError):
        _verify_chatwoot(headers)


@pytest.mark.parametrize("header", ["x-chatwoot-signature", "x-chatwoot-timestamp"])
def test_chatwoot_empty_header_fails(header: str) -> None:
    """An empty signature or timestamp header is refused like a missing one."""
    headers = _chatwoot_headers()
    headers[header] = ""
    with pytest.raises(SignatureError):
        _verify_chatwoot(headers)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda s: s[:-1], id="truncated"),
        pytest.param(lambda s: s[:-2], id="truncated-by-a-byte"),
        pytest.param(lambda s: s + "0", id="too-long"),
        pytest.param(lambda s: s[:-1] + "g", id="non-hex"),
        pytest.param(lambda s: s.replace("sha256=", "sha1="), id="sha1-prefix"),
        pytest.param(lambda s: s.replace("sha256=", ""), id="no-prefix"),
        pytest.param(lambda s: s.replace("sha256=", "SHA256="), id="upper-case-prefix"),
        pytest.param(lambda s: s.replace("sha256=", "v1,"), id="standard-webhooks-prefix"),
        pytest.param(lambda s: " " + s, id="leading-space"),
        pytest.param(lambda s: s[:-1] + ("1" if s[-1] == "0" else "0"), id="last-digit-flipped"),
    ],
)
def test_chatwoot_malformed_or_altered_signature_fails(mangle: object) -> None:
    """Any signature that is not exactly sha256=<the right 64 hex digits> is refused."""
    headers = _chatwoot_headers()
    headers["x-chatwoot-signature"] = mangle(headers["x-chatwoot-signature"])  # type: ignore[operator]
    with pytest.raises(SignatureError):
        _verify_chatwoot(headers)


@pytest.mark.parametrize("offset", [TOLERANCE + 1, 3600, 10**6])
def test_chatwoot_stale_timestamp_fails(offset: float) -> None:
    """A correctly signed request older than the tolerance is a replay and is refused."""
    with pytest.raises(SignatureError):
        _verify_chatwoot(_chatwoot_headers(timestamp=int(NOW - offset)))


@pytest.mark.parametrize("offset", [-TOLERANCE - 1, TOLERANCE + 1, 10**6])
def test_chatwoot_replay_outside_the_window_is_a_stale_timestamp(offset: float) -> None:
    """An authentic request outside the window raises the replay error, naming the window."""
    with pytest.raises(StaleTimestampError, match="outside the accepted window of 300 seconds"):
        _verify_chatwoot(_chatwoot_headers(timestamp=int(NOW - offset)))


def test_chatwoot_forgery_with_an_old_timestamp_is_not_counted_as_a_replay() -> None:
    """The signature is checked before the window: a forged old request is a bad signature."""
    headers = _chatwoot_headers(secret=b"someone-else", timestamp=int(NOW - 3600))
    with pytest.raises(SignatureError) as refused:
        _verify_chatwoot(headers)
    assert not isinstance(refused.value, StaleTimestampError)
    assert str(refused.value) == "X-Chatwoot-Signature does not match"


@pytest.mark.parametrize("offset", [TOLERANCE + 1, 3600])
def test_chatwoot_future_timestamp_fails(offset: float) -> None:
    """A correctly signed request from too far in the future is refused as well."""
    with pytest.raises(SignatureError):
        _verify_chatwoot(_chatwoot_headers(timestamp=int(NOW + offset)))


@pytest.mark.parametrize("offset", [-TOLERANCE, -1, 0, 1, TOLERANCE])
def test_chatwoot_timestamp_within_tolerance_passes(offset: float) -> None:
    """Clock skew up to the tolerance, either way, is accepted."""
    _verify_chatwoot(_chatwoot_headers(timestamp=int(NOW + offset)))


@pytest.mark.parametrize(
    "timestamp", ["-1772543157", "1772543157.5", "1.7e9", "0x69A6", " 1772543157", "١٧٧٢٥٤٣١٥٧"]
)
def test_chatwoot_malformed_timestamp_fails(timestamp: str) -> None:
    """A timestamp that is not plain ASCII digits is refused, even if signed as sent."""
    headers = _chatwoot_headers()
    headers["x-chatwoot-timestamp"] = timestamp
    headers["x-chatwoot-signature"] = f"sha256={_hex(SECRET, timestamp.encode() + b'.' + BODY)}"
    with pytest.raises(SignatureError):
        _verify_chatwoot(headers)


def test_chatwoot_timestamp_must_match_the_signed_one() -> None:
    """Moving the timestamp header to a fresh value breaks the signature."""
    headers = _chatwoot_headers(timestamp=int(NOW - 10))
    headers["x-chatwoot-timestamp"] = str(int(NOW))
    with pytest.raises(SignatureError):
        _verify_chatwoot(headers)


def test_chatwoot_altered_body_fails() -> None:
    """Changing the body after signing is detected."""
    with pytest.raises(SignatureError):
        _verify_chatwoot(_chatwoot_headers(), body=BODY.replace(b"4512", b"4513"))


# --- WhatsApp Cloud API ------------------------------------------------------------


def test_whatsapp_valid_signature_passes() -> None:
    """A body signed with the app secret is accepted."""
    whatsapp.verify((SECRET,), _whatsapp_headers(), BODY)


def test_whatsapp_accepts_any_configured_secret() -> None:
    """During rotation both the old and the new app secret are accepted."""
    whatsapp.verify((SECRET, OLD_SECRET), _whatsapp_headers(secret=OLD_SECRET), BODY)


def test_whatsapp_wrong_secret_fails() -> None:
    """A signature made with another app's secret is refused."""
    with pytest.raises(SignatureError):
        whatsapp.verify((SECRET,), _whatsapp_headers(secret=OLD_SECRET), BODY)


def test_whatsapp_no_configured_secret_fails() -> None:
    """With no app secret configured nothing verifies."""
    with pytest.raises(SignatureError):
        whatsapp.verify((), _whatsapp_headers(), BODY)


def test_whatsapp_missing_header_fails() -> None:
    """A request without X-Hub-Signature-256 is refused."""
    with pytest.raises(SignatureError):
        whatsapp.verify((SECRET,), {}, BODY)


def test_whatsapp_legacy_sha1_header_alone_fails() -> None:
    """The legacy X-Hub-Signature (SHA-1) header is not enough."""
    sha1 = hmac.new(SECRET, BODY, hashlib.sha1).hexdigest()
    with pytest.raises(SignatureError):
        whatsapp.verify((SECRET,), {"x-hub-signature": f"sha1={sha1}"}, BODY)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda s: s[:-1], id="truncated"),
        pytest.param(lambda s: s[:-1] + "z", id="non-hex"),
        pytest.param(lambda s: s.replace("sha256=", "sha1="), id="sha1-prefix"),
        pytest.param(lambda s: s.replace("sha256=", ""), id="no-prefix"),
        pytest.param(lambda s: s[:-1] + ("1" if s[-1] == "0" else "0"), id="last-digit-flipped"),
    ],
)
def test_whatsapp_malformed_or_altered_signature_fails(mangle: object) -> None:
    """Any signature that is not exactly sha256=<the right 64 hex digits> is refused."""
    headers = _whatsapp_headers()
    headers["x-hub-signature-256"] = mangle(headers["x-hub-signature-256"])  # type: ignore[operator]
    with pytest.raises(SignatureError):
        whatsapp.verify((SECRET,), headers, BODY)


def test_whatsapp_altered_body_fails() -> None:
    """Re-serialised JSON (here: with the escaped é written out) no longer verifies."""
    with pytest.raises(SignatureError):
        whatsapp.verify((SECRET,), _whatsapp_headers(), BODY.replace(b"\\u00e9", "é".encode()))


def test_whatsapp_subscription_handshake_passes() -> None:
    """hub.mode=subscribe with the configured verify token is accepted."""
    whatsapp.verify_subscription(b"verify-token-9f8e7d", "subscribe", "verify-token-9f8e7d")


@pytest.mark.parametrize(
    ("mode", "token"),
    [
        ("subscribe", "verify-token-wrong"),
        ("subscribe", "verify-token-9f8e7"),
        ("subscribe", ""),
        ("subscribe", None),
        ("unsubscribe", "verify-token-9f8e7d"),
        (None, "verify-token-9f8e7d"),
        ("", "verify-token-9f8e7d"),
    ],
)
def test_whatsapp_subscription_handshake_fails(mode: str | None, token: str | None) -> None:
    """A wrong mode, or a verify token that is missing or different, is refused."""
    with pytest.raises(SignatureError):
        whatsapp.verify_subscription(b"verify-token-9f8e7d", mode, token)


# --- 360dialog ---------------------------------------------------------------------


def test_dialog360_configured_header_passes() -> None:
    """The custom header registered with the webhook, carrying the secret, is accepted."""
    dialog360.verify(
        (DIALOG360_SECRET,), DIALOG360_HEADER, {"x-switchboard-token": DIALOG360_SECRET.decode()}
    )


def test_dialog360_accepts_any_configured_secret() -> None:
    """During rotation both header values are accepted."""
    headers = {"x-switchboard-token": OLD_SECRET.decode()}
    dialog360.verify((DIALOG360_SECRET, OLD_SECRET), DIALOG360_HEADER, headers)


@pytest.mark.parametrize(
    "value",
    [
        "d360-header-secret-0a1b2c3d4e5",  # a prefix
        "d360-header-secret-0a1b2c3d4e5f0",  # longer
        "D360-HEADER-SECRET-0A1B2C3D4E5F",  # other case
        "",
        "whsec-rotation-current-2f9c1a",
    ],
)
def test_dialog360_wrong_value_fails(value: str) -> None:
    """Any other header value is refused."""
    with pytest.raises(SignatureError):
        dialog360.verify((DIALOG360_SECRET,), DIALOG360_HEADER, {"x-switchboard-token": value})


def test_dialog360_missing_header_fails() -> None:
    """Without the custom header the request is refused, whatever else it carries."""
    headers = _whatsapp_headers()
    with pytest.raises(SignatureError):
        dialog360.verify((DIALOG360_SECRET,), DIALOG360_HEADER, headers)


def test_dialog360_no_configured_secret_fails() -> None:
    """With no secret configured nothing verifies, not even an empty header value."""
    with pytest.raises(SignatureError):
        dialog360.verify((), DIALOG360_HEADER, {"x-switchboard-token": "anything"})


# --- properties ----------------------------------------------------------------------

secrets = st.binary(min_size=1, max_size=64)
bodies = st.binary(max_size=2048)
timestamps = st.integers(min_value=0, max_value=10**11)
header_values = st.text(max_size=200) | st.text(alphabet="0123456789abcdefABCDEF=sha", max_size=80)


@given(secret=secrets, body=bodies, timestamp=timestamps, data=st.data())
def test_chatwoot_correct_signature_verifies_and_any_alteration_fails(
    secret: bytes, body: bytes, timestamp: int, data: st.DataObject
) -> None:
    """For any secret and body the right signature verifies and a one-byte change does not."""
    headers = _chatwoot_headers(secret=secret, body=body, timestamp=timestamp)
    chatwoot.verify((secret,), headers, body, float(timestamp), TOLERANCE)
    changed = data.draw(altered(body))
    with pytest.raises(SignatureError):
        chatwoot.verify((secret,), headers, changed, float(timestamp), TOLERANCE)


@given(secret=secrets, body=bodies, other=header_values)
def test_chatwoot_any_other_signature_fails(secret: bytes, body: bytes, other: str) -> None:
    """Any signature header other than the right one (in either case) is refused."""
    headers = _chatwoot_headers(secret=secret, body=body)
    assume(other.lower() != headers["x-chatwoot-signature"].lower())
    headers["x-chatwoot-signature"] = other
    with pytest.raises(SignatureError):
        chatwoot.verify((secret,), headers, body, NOW, TOLERANCE)


@given(secret=secrets, body=bodies, data=st.data())
def test_whatsapp_correct_signature_verifies_and_any_alteration_fails(
    secret: bytes, body: bytes, data: st.DataObject
) -> None:
    """For any app secret and body the right signature verifies and a one-byte change does not."""
    headers = _whatsapp_headers(secret=secret, body=body)
    whatsapp.verify((secret,), headers, body)
    with pytest.raises(SignatureError):
        whatsapp.verify((secret,), headers, data.draw(altered(body)))


@given(secret=secrets, body=bodies, other=header_values)
def test_whatsapp_any_other_signature_fails(secret: bytes, body: bytes, other: str) -> None:
    """Any signature header other than the right one (in either case) is refused."""
    right = _whatsapp_headers(secret=secret, body=body)["x-hub-signature-256"]
    assume(other.lower() != right.lower())
    with pytest.raises(SignatureError):
        whatsapp.verify((secret,), {"x-hub-signature-256": other}, body)


@given(secret=st.text(min_size=1, max_size=64), other=header_values)
def test_dialog360_any_other_value_fails(secret: str, other: str) -> None:
    """Only the exact configured value passes."""
    assume(other != secret)
    dialog360.verify((secret.encode(),), DIALOG360_HEADER, {"x-switchboard-token": secret})
    with pytest.raises(SignatureError):
        dialog360.verify((secret.encode(),), DIALOG360_HEADER, {"x-switchboard-token": other})


# Lone surrogates cannot arrive over HTTP, but the contract is "only SignatureError".
any_text = st.lists(
    st.characters() | st.integers(min_value=0xD800, max_value=0xDFFF).map(chr), max_size=120
).map("".join)
arbitrary_headers = st.dictionaries(
    st.sampled_from(
        [
            "x-chatwoot-signature",
            "x-chatwoot-timestamp",
            "x-chatwoot-delivery",
            "x-hub-signature-256",
            "x-switchboard-token",
        ]
    ),
    any_text | header_values,
)


@given(headers=arbitrary_headers, body=bodies, now=st.floats(allow_nan=False))
def test_arbitrary_headers_raise_nothing_but_signature_error(
    headers: dict[str, str], body: bytes, now: float
) -> None:
    """Whatever the headers hold (lone surrogates included), a check fails only one way."""
    checks: list[Callable[[], None]] = [
        lambda: chatwoot.verify((SECRET,), headers, body, now, TOLERANCE),
        lambda: whatsapp.verify((SECRET,), headers, body),
        lambda: dialog360.verify((DIALOG360_SECRET,), DIALOG360_HEADER, headers),
        lambda: whatsapp.verify_subscription(
            b"token", "subscribe", headers.get("x-switchboard-token")
        ),
        lambda: whatsapp.verify_subscription(
            b"token", headers.get("x-chatwoot-delivery"), headers.get("x-switchboard-token")
        ),
    ]
    for check in checks:
        with contextlib.suppress(SignatureError):
            check()
