"""Local HTTP servers that speak the provider APIs Switchboard sends to: Chatwoot's Agent
Bot API, Meta's Graph API for WhatsApp, and 360dialog. Real paths, headers and status
codes; every request recorded; faults injectable. Used by the tests and by the demo.
"""

from switchboard.standins.chatwoot import chatwoot_app
from switchboard.standins.server import (
    GRAPH_VERSION,
    Ports,
    StandInURLs,
    Tokens,
    run_standins,
    serve,
)
from switchboard.standins.whatsapp import dialog360_app, graph_app

__all__ = [
    "GRAPH_VERSION",
    "Ports",
    "StandInURLs",
    "Tokens",
    "chatwoot_app",
    "dialog360_app",
    "graph_app",
    "run_standins",
    "serve",
]
