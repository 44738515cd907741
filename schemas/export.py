"""JSON Schema for every event type, and the topic catalogue, for data engineers."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from schemas.catalogue import CATALOGUE
from schemas.events import EVENT_TYPES, event_adapter, event_type


def schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema: one per event type, one for the whole union."""
    documents: dict[str, dict[str, Any]] = {}
    for cls in EVENT_TYPES:
        name = event_type(cls)
        schema = cls.model_json_schema()
        schema["$id"] = f"https://switchboard.invalid/schemas/{name}.v1.json"
        documents[f"{name}.v1.schema.json"] = schema
    union = event_adapter.json_schema()
    union["$id"] = "https://switchboard.invalid/schemas/event.v1.json"
    union["title"] = "Event"
    documents["event.v1.schema.json"] = union
    return documents


def export(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, document in schemas().items():
        path = directory / filename
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        written.append(path)
    catalogue = directory / "topics.json"
    catalogue.write_text(json.dumps([asdict(t) for t in CATALOGUE], indent=2) + "\n")
    written.append(catalogue)
    return written
