"""Sealing personal data with per-contact data keys, and wrapping those keys. Pure: no I/O.

Every event's ``data.personal`` is sealed with its contact's data key (AES-256-GCM) before
it reaches the log. The associated data binds each ciphertext to the contact id and the
key id, so a blob copied into another contact's event does not open. Data keys travel on
the compacted ``data-keys.v1`` topic wrapped (AES-256-GCM again) by a master key derived
from ``SWITCHBOARD_MASTER_KEY``; tombstoning a contact's record there makes every sealed
copy of its personal data unreadable at once (crypto-shredding).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.events import Event, Personal, Sealed, SealedPersonal

KEY_BYTES = 32
NONCE_BYTES = 12
_AAD = b"switchboard/sealed/v1"
_WRAP_AAD = b"switchboard/data-key/v1"
_MASTER_INFO = b"switchboard master key v1"
_MASTER_ID_INFO = b"switchboard master key id v1"


class SealError(ValueError):
    """A sealed value or wrapped key that does not open: altered, moved, or the wrong key.

    The message never quotes the value: it may be personal data.
    """


@dataclass(frozen=True, repr=False)
class DataKey:
    """One contact's data key. ``repr`` hides the secret so it never reaches a log."""

    key_id: str
    secret: bytes

    def __repr__(self) -> str:
        return f"DataKey(key_id={self.key_id!r})"


def new_data_key() -> DataKey:
    return DataKey(key_id=f"dk_{secrets.token_hex(8)}", secret=AESGCM.generate_key(256))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode())
    except (ValueError, TypeError) as exc:
        raise SealError(f"{what} is not base64") from exc


def _aad(prefix: bytes, *parts: str) -> bytes:
    # Length-prefixed, so ("a|b", "c") and ("a", "b|c") never produce the same bytes.
    out = bytearray(prefix)
    for part in parts:
        raw = part.encode()
        out += len(raw).to_bytes(4, "big") + raw
    return bytes(out)


# --- personal data ------------------------------------------------------------------


def seal_bytes(key: DataKey, contact_id: str, purpose: str, plaintext: bytes) -> Sealed:
    """Seal any bytes of a contact; ``purpose`` (e.g. "personal", "turns") is bound in too, so
    a value sealed for one use never opens as another."""
    nonce = os.urandom(NONCE_BYTES)
    aad = _aad(_AAD, purpose, contact_id, key.key_id)
    ciphertext = AESGCM(key.secret).encrypt(nonce, plaintext, aad)
    return Sealed(key_id=key.key_id, nonce=_b64(nonce), ciphertext=_b64(ciphertext))


def open_bytes(key: DataKey, contact_id: str, purpose: str, box: Sealed) -> bytes:
    """The plaintext, or SealError if the box was altered, moved or sealed with another key."""
    if box.key_id != key.key_id:
        raise SealError("sealed with another data key")
    nonce = _unb64(box.nonce, "nonce")
    if len(nonce) != NONCE_BYTES:
        raise SealError("nonce has the wrong length")
    aad = _aad(_AAD, purpose, contact_id, box.key_id)
    try:
        return AESGCM(key.secret).decrypt(nonce, _unb64(box.ciphertext, "ciphertext"), aad)
    except InvalidTag as exc:
        raise SealError(f"{purpose} does not open: altered, or not this contact's") from exc


def seal_personal(key: DataKey, contact_id: str, personal: Personal) -> SealedPersonal:
    plaintext = personal.model_dump_json(exclude_defaults=True).encode()
    return SealedPersonal(sealed=seal_bytes(key, contact_id, "personal", plaintext))


def open_personal(key: DataKey, contact_id: str, sealed: SealedPersonal) -> Personal:
    """The plaintext, or SealError if the blob was altered, moved or sealed with another key."""
    plaintext = open_bytes(key, contact_id, "personal", sealed.sealed)
    try:
        return Personal.model_validate_json(plaintext)
    except ValidationError as exc:  # authentic but not a Personal: a bug, not an attack
        raise SealError("sealed personal data is not a valid Personal") from exc


# --- events --------------------------------------------------------------------------


def needs_key(event: Event) -> bool:
    """Whether sealing this event needs its contact's key: it carries plaintext personal data.

    Events with an empty (or no) personal part need none, so no key is made for nothing.
    """
    personal = getattr(event.data, "personal", None)
    return isinstance(personal, Personal) and personal != Personal()


def contact_of(event: Event) -> str | None:
    """The contact an event is about, if it names one (conversation status changes do not)."""
    contact_id = getattr(event.data, "contact_id", None)
    return contact_id if isinstance(contact_id, str) else None


def seal_event(event: Event, key: DataKey) -> Event:
    """The event with its personal part sealed; events that need no key come back as they are."""
    if not needs_key(event):
        return event
    contact_id = contact_of(event)
    if contact_id is None:  # every event type with personal data names its contact
        raise TypeError(f"{event.type} carries personal data but no contact id")
    personal = event.data.personal  # type: ignore[union-attr]
    assert isinstance(personal, Personal)  # noqa: S101 - needs_key checked it
    sealed = seal_personal(key, contact_id, personal)
    data = event.data.model_copy(update={"personal": sealed})
    return event.model_copy(update={"data": data})


def open_event(event: Event, key: DataKey | None) -> Event:
    """The event with its personal part in plaintext.

    No key, or a key other than the one it was sealed with (the contact was forgotten, and
    perhaps came back with a new key), gives a redacted Personal. Tampering raises SealError.
    """
    personal = getattr(event.data, "personal", None)
    if not isinstance(personal, SealedPersonal):
        return event
    contact_id = contact_of(event) or ""
    if key is None or key.key_id != personal.sealed.key_id:
        opened = Personal(redacted=True)
    else:
        opened = open_personal(key, contact_id, personal)
    data = event.data.model_copy(update={"personal": opened})
    return event.model_copy(update={"data": data})


# --- master keys and wrapped data keys -------------------------------------------------


class WrappedKey(BaseModel):
    """A data key wrapped by a master key: the value of a ``data-keys.v1`` record (JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    key_id: str = Field(description="the data key's id, as sealed values name it")
    master_key_id: str = Field(description="which master key wrapped it")
    nonce: str = Field(description="urlsafe base64")
    ciphertext: str = Field(description="urlsafe base64 of the wrapped key and its GCM tag")


def encode_wrapped(wrapped: WrappedKey) -> bytes:
    return wrapped.model_dump_json().encode()


def decode_wrapped(value: bytes) -> WrappedKey:
    try:
        return WrappedKey.model_validate_json(value)
    except ValidationError as exc:
        raise SealError("not a wrapped data key") from exc


@dataclass(frozen=True, repr=False)
class MasterKey:
    key_id: str
    secret: bytes

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"


def _hkdf(material: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(material)


def derive_master_key(configured: bytes) -> MasterKey:
    """A 32-byte key from a configured secret, with a short id that reveals nothing of it."""
    return MasterKey(
        key_id=f"mk_{_hkdf(configured, _MASTER_ID_INFO, 6).hex()}",
        secret=_hkdf(configured, _MASTER_INFO, KEY_BYTES),
    )


class MasterKeys:
    """The configured master keys: the first wraps new data keys, every one still unwraps."""

    def __init__(self, configured: Sequence[bytes]) -> None:
        if not configured:
            raise ValueError("at least one master key is needed")
        self.keys = tuple(derive_master_key(secret) for secret in configured)
        self._by_id = {key.key_id: key for key in self.keys}

    @property
    def current(self) -> MasterKey:
        return self.keys[0]

    def wrap(self, contact_id: str, key: DataKey) -> WrappedKey:
        """Wrap with the current master key; bound to the contact, like the values it seals."""
        master = self.current
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(master.secret).encrypt(
            nonce, key.secret, _aad(_WRAP_AAD, contact_id, key.key_id, master.key_id)
        )
        return WrappedKey(
            key_id=key.key_id,
            master_key_id=master.key_id,
            nonce=_b64(nonce),
            ciphertext=_b64(ciphertext),
        )

    def unwrap(self, contact_id: str, wrapped: WrappedKey) -> DataKey:
        master = self._by_id.get(wrapped.master_key_id)
        if master is None:
            raise SealError(f"wrapped by an unknown master key {wrapped.master_key_id}")
        nonce = _unb64(wrapped.nonce, "nonce")
        if len(nonce) != NONCE_BYTES:
            raise SealError("nonce has the wrong length")
        aad = _aad(_WRAP_AAD, contact_id, wrapped.key_id, master.key_id)
        try:
            secret = AESGCM(master.secret).decrypt(
                nonce, _unb64(wrapped.ciphertext, "ciphertext"), aad
            )
        except InvalidTag as exc:
            raise SealError("data key does not unwrap: altered, or not this contact's") from exc
        if len(secret) != KEY_BYTES:
            raise SealError("unwrapped data key has the wrong length")
        return DataKey(key_id=wrapped.key_id, secret=secret)

    def needs_rewrap(self, wrapped: WrappedKey) -> bool:
        return wrapped.master_key_id != self.current.key_id

    def rewrap(self, contact_id: str, wrapped: WrappedKey) -> WrappedKey:
        """The same data key (same id) wrapped by the current master key, after a rotation."""
        return self.wrap(contact_id, self.unwrap(contact_id, wrapped))
