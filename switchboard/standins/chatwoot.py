"""A Chatwoot stand-in: the endpoints Switchboard calls, with Chatwoot's answers.

``POST /api/v1/accounts/{a}/conversations/{c}/messages`` and ``…/toggle_status``, both
behind the ``api_access_token`` header (docs/providers.md §1c), and
``GET …/conversations/{c}/messages``, which lists the messages created through this
stand-in in that conversation the way Chatwoot's MessageFinder does: the latest 20, oldest
first; ``?before=<id>`` the 20 before that id; ``?after=<id>`` up to 100 after it.

Upstream Chatwoot refuses the listing to agent-bot tokens (only ``messages#create`` is open
to them). Given an ``admin_token``, the stand-in does the same: the listing takes only that
token and answers the bot token with 401. Without one, the bot token lists too.

Contacts (read, update, destroy_custom_attributes; the same token rule) are in
``chatwoot_contacts.py``.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.standins.chatwoot_contacts import contact_routes
from switchboard.standins.control import StandInState

CONVERSATION = "/api/v1/accounts/{account_id:int}/conversations/{conversation_id:int}"
STATUSES = ("open", "resolved", "pending", "snoozed")
MESSAGE_TYPES = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}
MAX_CONTENT = 150_000  # Message validates content length at 150 000 characters
PAGE_SIZE = 20  # MessageFinder: latest 20, or 20 before an id
AFTER_LIMIT = 100  # MessageFinder: at most 100 after an id


def _error_body(status: int) -> dict[str, Any]:
    if status == 401:
        return {"error": "Invalid Access Token"}
    if status == 404:
        return {"error": "Resource could not be found"}
    return {"error": "Internal Server Error" if status >= 500 else f"HTTP {status}"}


def _refusal(status: int) -> Response:
    return JSONResponse(_error_body(status), status_code=status)


def _invalid(message: str) -> Response:
    """Chatwoot's answer to ActiveRecord::RecordInvalid."""
    return JSONResponse({"message": message, "attributes": []}, status_code=422)


def chatwoot_app(token: str, admin_token: str | None = None) -> Starlette:
    state = StandInState(_error_body)
    statuses: dict[tuple[int, int], str] = {}
    messages: dict[tuple[int, int], list[dict[str, Any]]] = {}
    state.on_reset.append(messages.clear)

    def authorised(request: Request) -> bool:
        return request.headers.get("api_access_token") == token

    def conversation_of(request: Request) -> tuple[int, int]:
        return request.path_params["account_id"], request.path_params["conversation_id"]

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
        attributes = payload.get("content_attributes", {})
        if not isinstance(attributes, dict):
            attributes = {}
        message = {
            "id": state.next_id(),
            "content": content,
            "inbox_id": 1,
            "conversation_id": request.path_params["conversation_id"],
            "message_type": MESSAGE_TYPES[message_type],
            "content_type": payload.get("content_type", "text"),
            "status": "sent",
            "content_attributes": attributes,
            "created_at": int(time.time()),
            "private": bool(payload.get("private", False)),
            "source_id": None,
            "sender": {"id": 1, "name": "Switchboard", "type": "agent_bot"},
        }
        messages.setdefault(conversation_of(request), []).append(message)
        return JSONResponse(message)

    async def list_messages(request: Request, _: Any) -> Response:
        given = request.headers.get("api_access_token")
        if admin_token is not None and given == token:
            error = {"error": "Access to this endpoint is not authorized for bots"}
            return JSONResponse(error, status_code=401)
        if given != (admin_token if admin_token is not None else token):
            return JSONResponse(_error_body(401), status_code=401)
        try:
            before = _id_param(request, "before")
            after = _id_param(request, "after")
        except ValueError:
            return JSONResponse({"error": "Invalid id"}, status_code=400)
        found = messages.get(conversation_of(request), [])  # in creation order, ids ascending
        if after is not None and before is not None:
            page = [m for m in found if after <= m["id"] < before][:1000]
        elif before is not None:
            page = [m for m in found if m["id"] < before][-PAGE_SIZE:]
        elif after is not None:
            page = [m for m in found if m["id"] > after][:AFTER_LIMIT]
        else:
            page = found[-PAGE_SIZE:]
        meta: dict[str, Any] = {
            "labels": [],
            "additional_attributes": {},
            "agent_last_seen_at": None,
        }
        return JSONResponse({"meta": meta, "payload": page})

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
        Route(f"{CONVERSATION}/messages", state.endpoint(list_messages), methods=["GET"]),
        Route(f"{CONVERSATION}/toggle_status", state.endpoint(toggle_status), methods=["POST"]),
        *contact_routes(state, admin_token or token, _refusal),
        *state.routes(),
    ]
    app = Starlette(routes=routes)
    app.state.standin = state
    return app


def _id_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    return None if value in (None, "") else int(value)
