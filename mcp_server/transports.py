"""How the MCP server is reached: stdio (with unparseable lines answered and recorded) and streamable HTTP."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, cast

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import (
    _claim_fd,
    _open_stdin_diversion,
    _open_stdout_diversion,
    _UnownedTextWrapper,
    stdio_server,
)

from mcp_server.ledger.malformed import GuardedLines, MalformedRequests, guard_stream
from mcp_server.ledger.malformed_http import MalformedBodies
from mcp_server.stdio_pipes import open_pipes

MCP_PATH = "/mcp"


class GuardedServer(MCPServer):
    """The SDK's server, with unparseable stdio lines and HTTP bodies answered and recorded (see
    `ledger/malformed.py` and `ledger/malformed_http.py`)."""

    malformed: MalformedRequests | None = None
    bearer_agent: Callable[[str], str | None] | None = None
    """The agent a bearer token belongs to (HTTP), for recording malformed bodies (`ledger/malformed_http.py`)."""

    async def run_stdio_async(self) -> None:
        # fd 0 and fd 1 are claimed the way the SDK's transport does (on the null device and on stderr while
        # serving, so that child processes read EOF and their output misses the wire; served from duplicates),
        # then read and written on the event loop when they are pipes (`stdio_pipes.py`).
        stdin, release_stdin = _claim_fd(0, sys.stdin, "rb", _open_stdin_diversion)
        stdout, release_stdout = _claim_fd(1, sys.stdout, "wb", _open_stdout_diversion)
        pipes = None
        try:
            pipes = await open_pipes(stdin, stdout)
            lines: Any
            writer: Any  # what the SDK's transport reads lines from and writes to: pipes, or its threaded files
            if pipes is not None:
                lines, writer = pipes.lines, pipes.writer
            else:
                lines = anyio.wrap_file(_UnownedTextWrapper(stdin, encoding="utf-8", errors="replace"))
                writer = anyio.wrap_file(_UnownedTextWrapper(stdout, encoding="utf-8"))
            await self._serve_lines(lines, writer)
        finally:
            if pipes is not None:
                await pipes.close()
            if release_stdout is not None:
                release_stdout()
            if release_stdin is not None:
                release_stdin()

    async def _serve_lines(self, lines: Any, writer: Any) -> None:
        """The SDK's stdio transport over these lines and this writer; with a guard, the lines are checked first
        (`GuardedLines`: an unparseable line is answered and recorded, and never reaches the SDK)."""
        if self.malformed is None:
            async with stdio_server(stdin=lines, stdout=writer) as (read_stream, write_stream):
                await self._lowlevel_server.run(
                    read_stream, write_stream, self._lowlevel_server.create_initialization_options()
                )
            return
        guarded_lines = GuardedLines(lines, self.malformed)
        async with (
            stdio_server(stdin=cast(Any, guarded_lines), stdout=writer) as (read_stream, write_stream),
            anyio.create_task_group() as tasks,
        ):
            guarded_lines.attach(write_stream)
            guarded = await guard_stream(read_stream, write_stream, self.malformed, tasks)
            options = self._lowlevel_server.create_initialization_options()
            await self._lowlevel_server.run(guarded, write_stream, options)
            tasks.cancel_scope.cancel()


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
