"""A Chatwoot stand-in: the Agent Bot endpoints Switchboard calls, with Chatwoot's answers.

``POST /api/v1/accounts/{a}/conversations/{c}/messages`` and ``…/toggle_status``, both
behind the ``api_access_token`` header (docs/providers.md §1c).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.standins.control import StandInState

CONVERSATION = "/api/v1/accounts/{account_id:int}/conversations/{conversation_id:int}"
STATUSES = ("open", "resolved", "pending", "snoozed")
MESSAGE_TYPES = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}
MAX_CONTENT = 150_000  # Message validates content length at 150 000 characters


def _error_body(status: int) -> dict[str, Any]:
    if status == 401:
        return {"error": "Invalid Access Token"}
    if status == 404:
        return {"error": "Resource could not be found"}
    return {"error": "Internal Server Error" if status >= 500 else f"HTTP {status}"}


def _invalid(message: str) -> Response:
    """Chatwoot's answer to ActiveRecord::RecordInvalid."""
    return JSONResponse({"message": message, "attributes": []}, status_code=422)


def chatwoot_app(token: str) -> Starlette:
    state = StandInState(_error_body)
    statuses: dict[tuple[int, int], str] = {}

    def authorised(request: Request) -> bool:
        return request.headers.get("api_access_token") == token

    async def create_message(request: Request, payload: Any) -> Response:
        if not authorised(request):
            return JSONResponse(_error_body(401), status_code=401)
        if not isinstance(payload, dict):
            return _invalid("Request body must be a JSON object")
        content = payload.get("content")
        message_type = payload.get("message_type", "outgoing")
        if content is not None and not isinstance(content, str):
            return _invalid("Content is invalid")
        if len(content or "") > MAX_CONTENT:
            return _invalid(f"Content is too long (maximum is {MAX_CONTENT} characters)")
        if message_type not in MESSAGE_TYPES:
            return _invalid(f"'{message_type}' is not a valid message_type")
        path = request.path_params
        return JSONResponse(
            {
                "id": state.next_id(),
                "content": content,
                "inbox_id": 1,
                "conversation_id": path["conversation_id"],
                "message_type": MESSAGE_TYPES[message_type],
                "content_type": payload.get("content_type", "text"),
                "status": "sent",
                "content_attributes": payload.get("content_attributes", {}),
                "created_at": int(time.time()),
                "private": bool(payload.get("private", False)),
                "source_id": None,
                "sender": {"id": 1, "name": "Switchboard", "type": "agent_bot"},
            }
        )

    async def toggle_status(request: Request, payload: Any) -> Response:
        if not authorised(request):
            return JSONResponse(_error_body(401), status_code=401)
        status = payload.get("status") if isinstance(payload, dict) else None
        if status not in STATUSES:
            return _invalid(f"'{status}' is not a valid status")
        account, conversation = (
            request.path_params["account_id"],
            request.path_params["conversation_id"],
        )
        statuses[(account, conversation)] = status
        return JSONResponse(
            {
                "meta": {},
                "payload": {
                    "success": True,
                    "conversation_id": conversation,
                    "current_status": status,
                },
            }
        )

    routes = [
        Route(f"{CONVERSATION}/messages", state.endpoint(create_message), methods=["POST"]),
        Route(f"{CONVERSATION}/toggle_status", state.endpoint(toggle_status), methods=["POST"]),
        *state.routes(),
    ]
    app = Starlette(routes=routes)
    app.state.standin = state
    return app
