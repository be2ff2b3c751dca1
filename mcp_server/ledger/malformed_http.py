"""HTTP request bodies the server cannot parse: answered with a JSON-RPC error and recorded in the ledger.

Over streamable HTTP the MCP SDK answers a body that is not JSON with HTTP 400 and a body that is JSON but
not a JSON-RPC message with a validation error that quotes the input back, and records neither. This ASGI
wrapper reads a POST to the MCP path first: a body that does not parse gets the same JSON-RPC error the
stdio guard gives (`malformed.py`: the problem in Maskwire's words, the request's id when one can be found,
never the request itself) and, when its bearer token belongs to an agent, a ledger row under that agent.
A request without a valid token is left to the SDK, which refuses it with 401 before reading the body: an
anonymous client cannot write to the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import anyio.to_thread
import pydantic_core
from mcp_types import INVALID_REQUEST, jsonrpc_message_adapter
from pydantic import ValidationError

from mcp_server.ledger.malformed import MalformedRequests, Salvaged, error_for, salvage

ASGIApp = Callable[..., Any]
NOT_JSON_RPC = "the request is not a JSON-RPC 2.0 message (one request, notification or response object)"


def unparseable(body: bytes) -> tuple[str, Salvaged] | None:
    """(the body as text, what could be read of it) when the SDK would refuse the body; None when it parses."""
    raw = body.decode("utf-8", "replace")
    try:
        message = pydantic_core.from_json(body)
    except ValueError as exc:  # the parser's message gives a position, never the input
        return raw, salvage(raw, f"Invalid JSON: {exc}")
    try:
        jsonrpc_message_adapter.validate_python(message, by_name=False)
    except ValidationError:  # its message quotes the input: not used
        found = replace(salvage(raw, ""), problem=NOT_JSON_RPC, code=INVALID_REQUEST)
        if not isinstance(message, dict):  # a batch or a bare value: no one request to answer
            found = replace(found, request_id=None)
        return raw, found
    return None


class MalformedBodies:
    """Wraps the MCP HTTP app; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        path: str,
        guard: MalformedRequests,
        authenticate: Callable[[str], str | None],
    ) -> None:
        """`authenticate` maps a bearer token to its agent's name, or None (it may block: run in a thread)."""
        self.app = app
        self.path = path
        self.guard = guard
        self.authenticate = authenticate

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        body, receive = await _buffered(receive)
        found = unparseable(body) if body is not None else None
        agent = await self._agent(scope) if found is not None else None
        if found is None or agent is None:
            await self.app(scope, receive, send)
            return
        raw, salvaged = found
        await anyio.to_thread.run_sync(self.guard.record_found, raw, salvaged, agent)
        payload = json.dumps(error_for(salvaged).model_dump(mode="json", by_alias=True)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _agent(self, scope: dict[str, Any]) -> str | None:
        headers = dict(scope.get("headers") or [])
        value = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return await anyio.to_thread.run_sync(self.authenticate, token.strip())
        except Exception:  # the SDK's own check answers this request
            return None


async def _buffered(receive: Any) -> tuple[bytes | None, Any]:
    """The whole request body, and a `receive` that hands what was read to the wrapped app again.

    None for the body when the client went away before sending all of it."""
    received: list[dict[str, Any]] = []
    complete = False
    while not complete:
        message = await receive()
        received.append(message)
        complete = message["type"] != "http.request" or not message.get("more_body", False)
    body = None
    if received[-1]["type"] == "http.request":
        body = b"".join(m.get("body", b"") for m in received)
        received = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Any:
        return received.pop(0) if received else await receive()

    return body, replay
