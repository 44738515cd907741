"""A chat-model stand-in: the OpenAI chat-completions endpoint the flow calls.

``POST /v1/chat/completions`` behind ``Authorization: Bearer <key>``, answering as OpenAI
does: a ``chat.completion`` with one choice, or ``{"error": {...}}`` with the status. The
answer is the same sentence every time; what a test injects through ``/_standin/faults``
(500s, or ``delay_seconds`` longer than the flow's timeout) is what makes it interesting.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.standins.control import StandInState

ANSWER = "Delivery takes 1-2 working days in the Benelux."


def _error_body(status: int) -> dict[str, Any]:
    if status == 401:
        error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
        return {"error": {**error, "code": "invalid_api_key"}}
    if status == 429:
        return {"error": {"message": "Rate limit reached", "type": "requests", "code": None}}
    return {"error": {"message": "The server had an error", "type": "server_error", "code": None}}


def model_app(api_key: str) -> Starlette:
    state = StandInState(_error_body)

    async def completions(request: Request, payload: Any) -> Response:
        if request.headers.get("authorization") != f"Bearer {api_key}":
            return JSONResponse(_error_body(401), status_code=401)
        if not isinstance(payload, dict) or not isinstance(payload.get("messages"), list):
            error = {"message": "'messages' is a required property", "type": "invalid_request"}
            return JSONResponse({"error": {**error, "code": None}}, status_code=400)
        return JSONResponse(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": payload.get("model", "stand-in"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": ANSWER},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        )

    routes = [
        Route("/v1/chat/completions", state.endpoint(completions), methods=["POST"]),
        *state.routes(),
    ]
    app = Starlette(routes=routes)
    app.state.standin = state
    return app
