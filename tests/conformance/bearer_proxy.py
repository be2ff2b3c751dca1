"""A loopback reverse proxy that adds `Authorization: Bearer <token>` to every request it forwards.

The official conformance suite cannot send a header, and Maskwire's HTTP transport refuses a request without a
token. The proxy forwards everything else as it came, Host and Origin included, so the suite's DNS-rebinding
scenario still reaches the server's own checks; responses (JSON or SSE) are streamed back unchanged.
It exists for the tests only: the product has no switch that turns authentication off.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


class BearerProxy:
    def __init__(self, upstream: str, token: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.token = token
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    async def _forward(self, request: Request) -> StreamingResponse:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        if not any(k.lower() == "authorization" for k, _ in headers):
            headers.append(("authorization", f"Bearer {self.token}"))
        client = httpx.AsyncClient(timeout=httpx.Timeout(60.0))
        upstream = client.build_request(
            request.method,
            self.upstream + request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            headers=headers,
            content=await request.body(),
        )
        response = await client.send(upstream, stream=True)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()
                await client.aclose()

        kept = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in HOP_BY_HOP | {"content-encoding", "date", "server"}
        }
        return StreamingResponse(body(), status_code=response.status_code, headers=kept)

    def start(self) -> str:
        """Listen on 127.0.0.1 (a free port); returns the proxy's base URL."""
        app = Starlette(routes=[Route("/{path:path}", self._forward, methods=["GET", "POST", "DELETE", "OPTIONS"])])
        started = threading.Event()
        proxy = self

        class _Server(uvicorn.Server):
            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets)
                proxy.port = self.servers[0].sockets[0].getsockname()[1]
                started.set()

        self._server = _Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), daemon=True)  # type: ignore[union-attr]
        self._thread.start()
        if not started.wait(30):
            raise RuntimeError("the proxy did not start")
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
