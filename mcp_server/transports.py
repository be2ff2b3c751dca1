"""How the MCP server is reached: stdio (with unparseable lines answered and recorded) and streamable HTTP."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, cast

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import _claim_fd, _open_stdin_diversion, _UnownedTextWrapper, stdio_server

from mcp_server.ledger.malformed import GuardedLines, MalformedRequests, guard_stream
from mcp_server.ledger.malformed_http import MalformedBodies

MCP_PATH = "/mcp"


class GuardedServer(MCPServer):
    """The SDK's server, with unparseable stdio lines and HTTP bodies answered and recorded (see
    `ledger/malformed.py` and `ledger/malformed_http.py`)."""

    malformed: MalformedRequests | None = None
    bearer_agent: Callable[[str], str | None] | None = None
    """The agent a bearer token belongs to (HTTP), for recording malformed bodies (`ledger/malformed_http.py`)."""

    async def run_stdio_async(self) -> None:
        if self.malformed is None:
            async with stdio_server() as (read_stream, write_stream):
                await self._lowlevel_server.run(
                    read_stream, write_stream, self._lowlevel_server.create_initialization_options()
                )
            return
        # The SDK's stdio transport, reading lines that `GuardedLines` checked first. Handing it stdin means it no
        # longer claims fd 0 itself, so it is claimed here the way the SDK does (fd 0 on the null device while
        # serving, so that child processes read EOF rather than the client's messages; read from a duplicate).
        buffer, release = _claim_fd(0, sys.stdin, "rb", _open_stdin_diversion)
        try:
            lines = GuardedLines(
                anyio.wrap_file(_UnownedTextWrapper(buffer, encoding="utf-8", errors="replace")), self.malformed
            )
            async with (
                stdio_server(stdin=cast(Any, lines)) as (read_stream, write_stream),
                anyio.create_task_group() as tasks,
            ):
                lines.attach(write_stream)
                guarded = await guard_stream(read_stream, write_stream, self.malformed, tasks)
                await self._lowlevel_server.run(
                    guarded, write_stream, self._lowlevel_server.create_initialization_options()
                )
                tasks.cancel_scope.cancel()
        finally:
            if release is not None:
                release()


async def serve_http(mcp: MCPServer, host: str, port: int, *, on_ready: Callable[[str], None]) -> None:
    """Serve streamable HTTP at http://host:port/mcp with uvicorn until interrupted.

    Stateless: every request stands alone, so replicas behind a load balancer need no shared sessions.
    `on_ready` gets the URL once the socket listens (with the real port when `port` is 0).
    """
    import uvicorn

    app: Any = mcp.streamable_http_app(streamable_http_path=MCP_PATH, stateless_http=True, host=host)
    if isinstance(mcp, GuardedServer) and mcp.malformed is not None and mcp.bearer_agent is not None:
        app = MalformedBodies(app, MCP_PATH, mcp.malformed, mcp.bearer_agent)

    class _Uvicorn(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and self.servers:
                bound = self.servers[0].sockets[0].getsockname()[1]
                on_ready(base_url(host, bound) + MCP_PATH)

    # log_config=None: uvicorn's loggers go through Maskwire's logging setup. No access log: request lines are
    # not needed next to the ledger, and a misbehaving client could put a credential in a query string.
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
    await _Uvicorn(config).serve()


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
