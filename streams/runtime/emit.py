"""Writing events from inside the worker: the catalogue's topics through Faust's producer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from datakeys.keyring import KeyRing
from schemas.catalogue import CATALOGUE, topic_for
from schemas.events import Event, encode, kafka_headers
from streams.runtime.types import App


class TopicLog:
    """`ActionLog` over Faust: seals each event's personal data with its contact's key, and
    returns once Kafka acknowledged every event (acks=all)."""

    def __init__(self, app: App, prefix: str, keyring: KeyRing) -> None:
        self.keyring = keyring
        self.topics = {
            topic.name: app.topic(
                topic.full_name(prefix), key_serializer="raw", value_serializer="raw"
            )
            for topic in CATALOGUE
        }

    async def emit(
        self, events: Sequence[Event], headers: Sequence[tuple[str, bytes]] = ()
    ) -> None:
        """``headers`` go on every record, after each event's own (replay marks)."""
        sealed = [await self.keyring.seal(event) for event in events]
        pending = [
            await self.topics[topic_for(event).name].send(
                key=event.subject.encode(),
                value=encode(event),
                headers=[*kafka_headers(event), *headers],
            )
            for event in sealed
        ]
        await asyncio.gather(*pending)
