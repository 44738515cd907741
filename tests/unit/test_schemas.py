"""The envelope, its discriminated union, and the exported JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from ingest.normalise.whatsapp import normalise
from schemas.events import EVENT_TYPES, decode, encode, event_type
from schemas.export import export
from schemas.keys import Pseudonymizer
from tests.conftest import Fixtures


def test_every_event_round_trips(whatsapp_fixtures: Fixtures) -> None:
    """Encoding and decoding gives back the same typed event."""
    keys = Pseudonymizer(b"pepper")
    for body in whatsapp_fixtures.values():
        for event in normalise(body, source="whatsapp-cloud", keys=keys, correlation_id="c").events:
            assert decode(encode(event)) == event


def test_unknown_type_is_refused() -> None:
    """The union is closed: an unknown type does not decode into something else."""
    with pytest.raises(ValidationError):
        decode(b'{"type": "made.up", "id": "x"}')


def test_personal_data_lives_only_in_personal(whatsapp_fixtures: Fixtures) -> None:
    """Outside data.personal, no event carries the fixtures' phone numbers, names or texts."""
    keys = Pseudonymizer(b"pepper")
    needles = ["972987654321", "16505551234", "Test Name", "Body Text", "US.1349120865530274191"]
    for body in whatsapp_fixtures.values():
        for event in normalise(body, source="whatsapp-cloud", keys=keys, correlation_id="c").events:
            data = event.data.model_dump(exclude={"personal"})
            outside = json.dumps(
                {**event.model_dump(mode="json", exclude={"data"}), **data}, default=str
            )
            assert not [n for n in needles if n in outside], event.type


def test_schema_export_writes_one_schema_per_type(tmp_path: Path) -> None:
    """`schemas export` writes a schema per event type, the union, and the topic catalogue."""
    written = {p.name for p in export(tmp_path)}
    for cls in EVENT_TYPES:
        assert f"{event_type(cls)}.v1.schema.json" in written
    assert {"event.v1.schema.json", "topics.json"} <= written
    union = json.loads((tmp_path / "event.v1.schema.json").read_text())
    assert union["discriminator"]["propertyName"] == "type"
