"""The ``exports`` agent, wired: export requests on ``contact-events.v1`` → an archive on disk
(`streams.exports.agent.Exports`), and for a request confirmed in the chat its download link
back to the conversation."""

from __future__ import annotations

from schemas.catalogue import CONTACT_EVENTS
from sinks.export.export_rows import ExportStore
from streams.bootstrap.shared import Shared
from streams.exports.agent import Exports, LinkSigner
from streams.metrics.instruments import timed_decoder
from streams.runtime.types import Stream
from switchboard.retrying import until_done


def wire_exports(shared: Shared) -> None:
    app, settings = shared.app, shared.settings
    topic = app.topic(
        CONTACT_EVENTS.full_name(settings.switchboard_topic_prefix),
        key_serializer="raw",
        value_serializer="raw",
    )
    decoded = timed_decoder(shared.metrics, "exports", shared.opened)

    @app.agent(topic, name="exports")
    async def exports(stream: Stream) -> None:
        handler = Exports(
            ExportStore(await shared.database.get()),
            settings.switchboard_export_dir,
            settings.switchboard_export_link_days,
            finished=shared.metrics.export_finished,
            actions=shared.action_log,
            signer=LinkSigner(
                settings.switchboard_public_url,
                settings.switchboard_export_url_key.get_secret_value().encode(),
            ),
        )
        async for _, event in decoded(stream, shared.dead_letters):
            await until_done("exports")(handler.handle, event)
