"""Maskwire is a tools-only server: it neither advertises nor answers prompts, resources or completions.

The SDK's `MCPServer` registers empty prompt and resource handlers and advertises them in `initialize` (and the
modern `server/discover`); a client then lists nothing and a conformance suite counts an empty list as support.
This middleware removes those capabilities from the handshake and answers their methods with METHOD_NOT_FOUND,
as for any method a server does not implement. The SDK's own METHOD_NOT_FOUND puts the method as sent in `data`
(client input, which can be anything): it goes out without it. (Over stdio and HTTP a method that is no MCP method
never gets this far: the transport's guard answers and records it, `ledger/malformed.py`.)
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import METHOD_NOT_FOUND

NOT_OFFERED = ("prompts", "resources", "completions", "logging")
UNSERVED_METHODS = frozenset(
    {
        "prompts/list",
        "prompts/get",
        "resources/list",
        "resources/read",
        "resources/templates/list",
        "resources/subscribe",
        "resources/unsubscribe",
        "completion/complete",
        "logging/setLevel",
    }
)
HANDSHAKE_METHODS = frozenset({"initialize", "server/discover"})


class ToolsOnlyMiddleware:
    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method in UNSERVED_METHODS:
            raise MCPError(code=METHOD_NOT_FOUND, message=f"Method not found: {ctx.method}")
        try:
            result = await call_next(ctx)
        except MCPError as exc:
            if exc.code == METHOD_NOT_FOUND and exc.error.data is not None:  # the SDK's `data` is the method sent
                raise MCPError(code=METHOD_NOT_FOUND, message="Method not found") from None
            raise
        if ctx.method in HANDSHAKE_METHODS:
            return _without_unserved(result)
        return result


def _without_unserved(result: HandlerResult) -> HandlerResult:
    if result is None:
        return result
    document = result if isinstance(result, dict) else result.model_dump(by_alias=True, exclude_none=True)
    capabilities = document.get("capabilities")
    if isinstance(capabilities, dict):
        document = {**document, "capabilities": {k: v for k, v in capabilities.items() if k not in NOT_OFFERED}}
    return document
