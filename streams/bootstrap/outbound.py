"""The worker's outbound sender, wired from Settings: the providers' URLs and credentials,
and the HTTP timeout.

The sender itself (sinks/outbound/sender.py) takes plain values; reading Settings is the
wiring's job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sinks.outbound.deliveries import DeliveryLog
from sinks.outbound.guard import Guard
from sinks.outbound.requests import Targets
from sinks.outbound.sender import OutboundSender, outbound_client
from switchboard.settings import Settings


def outbound_targets(settings: Settings) -> Targets:
    return Targets(
        chatwoot_base_url=settings.chatwoot_base_url,
        chatwoot_api_token=settings.chatwoot_api_token.get_secret_value(),
        whatsapp_api_base_url=settings.whatsapp_api_base_url,
        whatsapp_access_token=settings.whatsapp_access_token.get_secret_value(),
        dialog360_api_base_url=settings.dialog360_api_base_url,
        dialog360_api_key=settings.dialog360_api_key.get_secret_value(),
        chatwoot_admin_token=(
            settings.chatwoot_admin_token.get_secret_value()
            if settings.chatwoot_admin_token is not None
            else None
        ),
    )


@asynccontextmanager
async def outbound_sender(
    settings: Settings,
    deliveries: DeliveryLog,
    *,
    guard: Guard | None = None,
) -> AsyncIterator[OutboundSender]:
    """A sender over its own HTTP client, which is closed when the block ends."""
    async with outbound_client(settings.switchboard_delivery_timeout_seconds) as client:
        yield OutboundSender(
            client,
            outbound_targets(settings),
            deliveries,
            guard=guard,
        )
