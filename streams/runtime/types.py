"""The names of Faust's types the rest of the worker uses, so that only this folder imports
Faust: an agent's code speaks of a ``Record`` and a ``Stream``, and the wiring of an
``App``, without knowing where they come from."""

from __future__ import annotations

from typing import TypeAlias

import faust
from faust.types import EventT, StreamT

App: TypeAlias = faust.App
KafkaTopic: TypeAlias = faust.TopicT
Record: TypeAlias = EventT[bytes]  # one Kafka record, with its place (record.message)
Stream: TypeAlias = StreamT[bytes]
