"""HTTP request bodies the server cannot serve: answered with a JSON-RPC error and recorded in the ledger.

Over streamable HTTP the MCP SDK answers a body that is not JSON with HTTP 400, a body that is JSON but not a
JSON-RPC message with a validation error that quotes the input back, takes a request whose id is an object or
null for a notification (HTTP 202, nothing run), and answers an unknown method with the method in the error's
`data`; it records none of them. This ASGI wrapper reads a POST to the MCP path first and checks it as the stdio
guard checks a line (`malformed.unservable`): such a body gets the same JSON-RPC error (the problem in Maskwire's
words, the request's id when it is a string or an integer, never the request itself), with HTTP 400 (200 for an
unknown method, as for any JSON-RPC error answering a request), and, when its bearer token belongs to an agent, a
ledger row under that agent. A notification of an unknown method is recorded and passed on (the SDK answers 202).
A request without a valid token is left to the SDK, which refuses it with 401 before reading the body: an
anonymous client cannot write to the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from mcp_types import METHOD_NOT_FOUND

from mcp_server.ledger.malformed import MalformedRequests, error_for, unservable

ASGIApp = Callable[..., Any]


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
        found = unservable(body) if body is not None else None
        agent = await self._agent(scope) if found is not None else None
        if found is None or agent is None:
            await self.app(scope, receive, send)
            return
        raw, salvaged = found
        await anyio.to_thread.run_sync(self.guard.record_found, raw, salvaged, agent)
        if not salvaged.reply:  # a notification: recorded; the SDK accepts it (202) and runs nothing
            await self.app(scope, receive, send)
            return
        answer = error_for(salvaged).model_dump(mode="json", by_alias=True, exclude_unset=True)
        payload = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200 if salvaged.code == METHOD_NOT_FOUND else 400,
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
