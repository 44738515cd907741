"""The Chatwoot stand-in's contacts, as erasure uses them (``contacts_controller.rb``).

* ``GET /api/v1/accounts/{a}/contacts/{id}`` → ``{"payload": contact}``, or 404;
* ``PUT``/``PATCH`` the same path replaces the permitted fields (name, identifier, email,
  phone_number, blocked) and MERGES ``custom_attributes`` and ``additional_attributes`` into
  what the contact has, as Chatwoot does, so an attribute is never removed this way;
* ``POST …/contacts/{id}/destroy_custom_attributes`` with ``{"custom_attributes": [keys]}``
  removes those keys.

All three take only the token given (the admin token when the stand-in has one: Chatwoot's
agent-bot tokens may not touch contacts) and are recorded like every provider request.
Tests create a contact with ``POST /_standin/chatwoot/contacts`` (a contact object with an
integer ``account_id`` and ``id``) and read every contact back, unrecorded, with
``GET /_standin/chatwoot/contacts``; a reset forgets them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.standins.control import StandInState

CONTACT = "/api/v1/accounts/{account_id:int}/contacts/{contact_id:int}"
CONTROL = "/_standin/chatwoot/contacts"
CONTACT_FIELDS = ("name", "identifier", "email", "phone_number", "blocked")
MERGED_FIELDS = ("custom_attributes", "additional_attributes")

Contacts = dict[tuple[int, int], dict[str, Any]]


def update_contact(contact: dict[str, Any], payload: dict[str, Any]) -> None:
    """Chatwoot's update: permitted fields replaced, attribute objects merged."""
    for name in CONTACT_FIELDS:
        if name in payload:
            contact[name] = payload[name]
    for name in MERGED_FIELDS:
        if isinstance(payload.get(name), dict):
            contact[name] = {**contact[name], **payload[name]}


def new_contact(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": body["id"],
        "name": body.get("name"),
        "email": body.get("email"),
        "phone_number": body.get("phone_number"),
        "identifier": body.get("identifier"),
        "blocked": False,
        "custom_attributes": dict(body.get("custom_attributes") or {}),
        "additional_attributes": dict(body.get("additional_attributes") or {}),
    }


def contact_routes(
    state: StandInState, token: str, refuse: Callable[[int], Response]
) -> list[Route]:
    contacts: Contacts = {}
    state.on_reset.append(contacts.clear)

    def found(request: Request) -> dict[str, Any] | Response:
        if request.headers.get("api_access_token") != token:
            return refuse(401)
        key = (request.path_params["account_id"], request.path_params["contact_id"])
        return contacts.get(key) or refuse(404)

    async def contact(request: Request, payload: Any) -> Response:
        current = found(request)
        if isinstance(current, Response):
            return current
        if request.method in ("PUT", "PATCH"):
            if not isinstance(payload, dict):
                return JSONResponse({"message": "Request body must be a JSON object"}, 422)
            update_contact(current, payload)
        return JSONResponse({"payload": current})

    async def destroy_custom_attributes(request: Request, payload: Any) -> Response:
        current = found(request)
        if isinstance(current, Response):
            return current
        keys = payload.get("custom_attributes") if isinstance(payload, dict) else None
        removed = {str(k) for k in keys} if isinstance(keys, list) else set()
        attributes = current["custom_attributes"]
        current["custom_attributes"] = {k: v for k, v in attributes.items() if k not in removed}
        return JSONResponse({"payload": current})

    async def seed(request: Request) -> Response:
        body = await request.json()
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), int) for k in ("account_id", "id")
        ):
            return JSONResponse({"message": "a contact needs integer account_id and id"}, 422)
        contacts[(body["account_id"], body["id"])] = new_contact(body)
        return JSONResponse({"payload": contacts[(body["account_id"], body["id"])]})

    async def listing(_: Request) -> Response:
        every = [{"account_id": a, **c} for (a, _id), c in contacts.items()]
        return JSONResponse({"contacts": every})

    return [
        Route(CONTACT, state.endpoint(contact), methods=["GET", "PUT", "PATCH"]),
        Route(
            f"{CONTACT}/destroy_custom_attributes",
            state.endpoint(destroy_custom_attributes),
            methods=["POST"],
        ),
        Route(CONTROL, seed, methods=["POST"]),
        Route(CONTROL, listing, methods=["GET"]),
    ]
