"""Stand-ins for sending WhatsApp messages: Meta's Graph API and 360dialog's Cloud API.

* Graph: ``POST /{version}/{phone_number_id}/messages`` with ``Authorization: Bearer``;
  errors as Graph errors, ``{"error": {message, type, code, fbtrace_id}}``.
* 360dialog: ``POST /messages`` with ``D360-API-KEY``; same body and answer (docs/providers.md §3).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.standins.control import StandInState

MAX_TEXT_BODY = 4096
_VERSION = re.compile(r"^v\d+\.\d+$")


def graph_error(
    status: int, message: str, code: int, error_type: str = "OAuthException"
) -> Response:
    body = {
        "error": {
            "message": message,
            "type": error_type,
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(16),
        }
    }
    return JSONResponse(body, status_code=status)


def _fault_body(status: int) -> dict[str, Any]:
    if status == 429:
        message, code = "(#130429) Rate limit hit", 130429
    elif status >= 500:
        message, code = "An unknown error has occurred.", 1
    else:
        message, code = "(#100) Invalid parameter", 100
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(16),
        }
    }


def _send(payload: Any) -> Response:
    """Validate a Cloud API message body and answer as Meta does on success."""
    if not isinstance(payload, dict):
        return graph_error(400, "(#100) Invalid parameter", 100)
    if payload.get("messaging_product") != "whatsapp":
        return graph_error(400, "(#100) The parameter messaging_product is required.", 100)
    to, recipient = payload.get("to"), payload.get("recipient")
    if not (isinstance(to, str) and to) and not (isinstance(recipient, str) and recipient):
        return graph_error(400, "(#100) The parameter to is required.", 100)
    if payload.get("type", "text") == "text":
        text = payload.get("text")
        body = text.get("body") if isinstance(text, dict) else None
        if not isinstance(body, str) or not body:
            return graph_error(400, "(#100) The parameter text['body'] is required.", 100)
        if len(body) > MAX_TEXT_BODY:
            return graph_error(
                400,
                f"(#100) Param text['body'] must be at most {MAX_TEXT_BODY} characters long.",
                100,
            )
    contact = {"input": to, "wa_id": to} if to else {"input": recipient, "user_id": recipient}
    return JSONResponse(
        {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": f"wamid.{secrets.token_urlsafe(24)}"}],
        }
    )


def graph_app(access_token: str) -> Starlette:
    state = StandInState(_fault_body)

    async def messages(request: Request, payload: Any) -> Response:
        if not _VERSION.match(request.path_params["version"]):
            return graph_error(400, "Unknown path components", 2500)
        authorization = request.headers.get("authorization")
        if authorization is None:
            return graph_error(
                400, "An active access token must be used to query information.", 2500
            )
        if authorization != f"Bearer {access_token}":
            return graph_error(401, "Invalid OAuth access token - Cannot parse access token", 190)
        return _send(payload)

    routes = [
        Route("/{version}/{phone_number_id}/messages", state.endpoint(messages), methods=["POST"]),
        *state.routes(),
    ]
    app = Starlette(routes=routes)
    app.state.standin = state
    return app


def dialog360_app(api_key: str) -> Starlette:
    state = StandInState(_fault_body)

    async def messages(request: Request, payload: Any) -> Response:
        if request.headers.get("d360-api-key") != api_key:
            # 401 is what matters; the exact body 360dialog sends is not documented.
            return JSONResponse(
                {
                    "meta": {
                        "success": False,
                        "http_code": 401,
                        "developer_message": "Invalid api key",
                    }
                },
                status_code=401,
            )
        return _send(payload)

    routes = [Route("/messages", state.endpoint(messages), methods=["POST"]), *state.routes()]
    app = Starlette(routes=routes)
    app.state.standin = state
    return app
