"""Sealing personal data with data keys, and wrapping data keys with master keys."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import (
    ChatwootRoute,
    ConversationStatusChanged,
    ConversationStatusChangedData,
    Event,
    MessageReceived,
    Personal,
    SealedPersonal,
    StillSealedError,
    decode,
    encode,
    event_adapter,
    plain,
)
from schemas.sealing import (
    DataKey,
    MasterKeys,
    SealError,
    WrappedKey,
    decode_wrapped,
    encode_wrapped,
    needs_key,
    new_data_key,
    open_event,
    open_personal,
    seal_event,
    seal_personal,
)
from tests.fakes.conversation_events import chatwoot_message

KEY = new_data_key()
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)

texts = st.one_of(st.none(), st.text(max_size=200))
personals = st.builds(
    Personal,
    text=texts,
    contact_name=texts,
    phone=texts,
    user_id=texts,
    email=texts,
    content=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3),
)
contact_ids = st.text(min_size=1, max_size=40)


def _message(personal: Personal, contact_id: str = "ct_1") -> MessageReceived:
    return chatwoot_message(personal, contact_id=contact_id, at=NOW, correlation_id="req-1")


def _personal(event: Event) -> Personal:
    assert isinstance(event, MessageReceived)
    return plain(event.data.personal)


def _flip(text: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(text))
    raw[index % len(raw)] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode()


@given(personal=personals, contact_id=contact_ids)
def test_sealed_personal_data_opens_to_the_same_value(personal: Personal, contact_id: str) -> None:
    """Whatever is sealed for a contact opens, with that contact's key, to what was sealed."""
    assert open_personal(KEY, contact_id, seal_personal(KEY, contact_id, personal)) == personal


@given(personal=personals, index=st.integers(min_value=0), field=st.sampled_from(["n", "c"]))
def test_any_altered_byte_refuses_to_open(personal: Personal, index: int, field: str) -> None:
    """One flipped bit in the nonce or the ciphertext makes opening fail with SealError."""
    sealed = seal_personal(KEY, "ct_1", personal).sealed
    altered = sealed.model_copy(
        update={"nonce": _flip(sealed.nonce, index)}
        if field == "n"
        else {"ciphertext": _flip(sealed.ciphertext, index)}
    )
    with pytest.raises(SealError):
        open_personal(KEY, "ct_1", SealedPersonal(sealed=altered))


@given(personal=personals, a=contact_ids, b=contact_ids)
def test_a_blob_moved_to_another_contact_does_not_open(personal: Personal, a: str, b: str) -> None:
    """The contact id is bound in: a sealed value copied into another contact's event fails."""
    sealed = seal_personal(KEY, a, personal)
    if a == b:
        assert open_personal(KEY, b, sealed) == personal
    else:
        with pytest.raises(SealError):
            open_personal(KEY, b, sealed)


def test_another_key_does_not_open() -> None:
    """A key with the same id but other bytes (or another id) is refused, not trusted."""
    sealed = seal_personal(KEY, "ct_1", Personal(text="hi"))
    with pytest.raises(SealError):
        open_personal(DataKey(KEY.key_id, new_data_key().secret), "ct_1", sealed)
    with pytest.raises(SealError, match="another data key"):
        open_personal(new_data_key(), "ct_1", sealed)


def test_the_wire_form_carries_no_plaintext_and_decodes_as_sealed() -> None:
    """An encoded sealed event holds neither text nor phone, and decodes to a SealedPersonal."""
    event = seal_event(_message(Personal(text="marker-xyz", phone="15550001111")), KEY)
    raw = encode(event)
    assert b"marker-xyz" not in raw
    assert b"15550001111" not in raw
    personal = json.loads(raw)["data"]["personal"]
    assert set(personal) == {"sealed"}
    assert set(personal["sealed"]) == {"key_id", "nonce", "ciphertext"}
    decoded = decode(raw)
    assert isinstance(decoded, MessageReceived)
    assert isinstance(decoded.data.personal, SealedPersonal)
    assert _personal(open_event(decoded, KEY)).text == "marker-xyz"


def test_plaintext_still_decodes_as_personal() -> None:
    """Unsealed personal data (older records, empty parts) decodes as a Personal."""
    decoded = decode(encode(_message(Personal(text="hi"))))
    assert isinstance(decoded, MessageReceived)
    assert plain(decoded.data.personal).text == "hi"


def test_a_reader_without_the_key_gets_redacted_personal_data() -> None:
    """No key, or a newer key of a returning contact: redacted and empty, never an error."""
    sealed = decode(encode(seal_event(_message(Personal(text="hi", phone="1")), KEY)))
    for key in (None, new_data_key()):
        opened = _personal(open_event(sealed, key))
        assert opened == Personal(redacted=True)


def test_reading_a_sealed_event_without_opening_it_is_a_clear_error() -> None:
    """plain() refuses a sealed value instead of handing out empty fields."""
    sealed = seal_event(_message(Personal(text="hi")), KEY)
    assert isinstance(sealed, MessageReceived)
    with pytest.raises(StillSealedError):
        plain(sealed.data.personal)


def test_events_without_personal_data_need_no_key() -> None:
    """Empty or absent personal parts are left as they are, so no key is made for nothing."""
    status = ConversationStatusChanged(
        id="cw:s",
        source="chatwoot",
        time=NOW,
        subject="cv_1",
        correlation_id="r",
        data=ConversationStatusChangedData(
            channel="chatwoot", route=ChatwootRoute(account_id=1, conversation_id=2), status="open"
        ),
    )
    empty = _message(Personal())
    assert not needs_key(status)
    assert not needs_key(empty)
    assert seal_event(status, KEY) is status
    assert seal_event(empty, KEY) is empty
    assert needs_key(_message(Personal(text="x")))


def test_the_event_schema_describes_both_forms() -> None:
    """The JSON Schema of an event allows a plain and a sealed personal part."""
    schema = json.dumps(event_adapter.json_schema())
    assert "SealedPersonal" in schema
    assert "Personal" in schema


# --- master keys -------------------------------------------------------------------


@given(contact_id=contact_ids)
@settings(max_examples=25)
def test_a_wrapped_key_unwraps_through_its_json_form(contact_id: str) -> None:
    """wrap → JSON (the data-keys.v1 value) → unwrap gives back the same data key."""
    master = MasterKeys([b"first master secret"])
    wrapped = master.wrap(contact_id, KEY)
    again = decode_wrapped(encode_wrapped(wrapped))
    assert again == wrapped
    assert master.unwrap(contact_id, again).secret == KEY.secret
    assert KEY.secret.hex() not in encode_wrapped(wrapped).decode()


@given(index=st.integers(min_value=0))
@settings(max_examples=50)
def test_an_altered_wrapped_key_or_another_contact_refuses(index: int) -> None:
    """A flipped bit, or a wrapped key copied to another contact, does not unwrap."""
    master = MasterKeys([b"first master secret"])
    wrapped = master.wrap("ct_1", KEY)
    altered = wrapped.model_copy(update={"ciphertext": _flip(wrapped.ciphertext, index)})
    with pytest.raises(SealError):
        master.unwrap("ct_1", altered)
    with pytest.raises(SealError):
        master.unwrap("ct_2", wrapped)


def test_rotation_keeps_old_keys_readable_and_rewraps_them() -> None:
    """After a rotation the old master still unwraps; rewrap moves a key to the new master."""
    old = MasterKeys([b"old master secret"])
    wrapped = old.wrap("ct_1", KEY)
    rotated = MasterKeys([b"new master secret", b"old master secret"])
    assert rotated.current.key_id != old.current.key_id
    assert rotated.needs_rewrap(wrapped)
    assert rotated.unwrap("ct_1", wrapped).secret == KEY.secret
    moved = rotated.rewrap("ct_1", wrapped)
    assert moved.key_id == KEY.key_id
    assert moved.master_key_id == rotated.current.key_id
    assert not rotated.needs_rewrap(moved)
    assert MasterKeys([b"new master secret"]).unwrap("ct_1", moved).secret == KEY.secret
    with pytest.raises(SealError, match="unknown master key"):
        MasterKeys([b"new master secret"]).unwrap("ct_1", wrapped)


def test_master_key_ids_are_stable_and_reveal_nothing() -> None:
    """The same configured secret always gets the same short id, which is not the secret."""
    a, b = MasterKeys([b"some secret"]), MasterKeys([b"some secret"])
    assert a.current.key_id == b.current.key_id
    assert a.current.key_id.startswith("mk_")
    assert "some secret" not in a.current.key_id
    assert MasterKeys([b"other"]).current.key_id != a.current.key_id


def test_secrets_stay_out_of_reprs_and_malformed_records_are_refused() -> None:
    """A logged key shows its id only; a data-keys value that is not a key is a SealError."""
    assert KEY.secret.hex() not in repr(KEY)
    assert repr(KEY) == f"DataKey(key_id={KEY.key_id!r})"
    with pytest.raises(SealError):
        decode_wrapped(b'{"nope": 1}')
    with pytest.raises(ValueError, match="at least one"):
        MasterKeys([])
    assert isinstance(MasterKeys([b"x"]).wrap("ct", KEY), WrappedKey)
