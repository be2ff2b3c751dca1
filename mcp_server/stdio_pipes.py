"""stdin and stdout of the stdio transport read and written on the event loop, without worker threads.

The SDK's stdio transport reads each line and writes each message through `anyio.wrap_file`: three thread
handoffs per call (a line read, a write, a flush), each a wake-up of a worker and of the event loop. When both
ends are pipes or sockets (what an MCP client spawning the server gives it), the loop watches the descriptors
itself instead (`connect_read_pipe`, `connect_write_pipe`). Lines are decoded as the SDK's text wrapper does
(UTF-8 with replacement characters, universal newlines), so the same bytes make the same messages. Anything
else (a terminal, a regular file, another platform) keeps the SDK's threaded files.
"""

from __future__ import annotations

import asyncio
import codecs
import io
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from typing import BinaryIO

import anyio

READ_CHUNK = 1 << 16
CLOSE_SECONDS = 5.0
"""How long the answers still queued at exit may take to reach a client that reads slowly."""


class PipeLines:
    """The lines of a pipe, as `TextIOWrapper(errors="replace")` would read them, each ending in a newline
    (the last may not)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self._decoder = io.IncrementalNewlineDecoder(
            codecs.getincrementaldecoder("utf-8")(errors="replace"), translate=True
        )

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        pending: list[str] = []  # the start of a line that goes on in later chunks (each chunk is split once)
        while True:
            chunk = await self._reader.read(READ_CHUNK)
            text = self._decoder.decode(chunk, final=not chunk)
            *complete, rest = text.split("\n")
            for line in complete:
                yield "".join([*pending, line, "\n"])
                pending = []
            if rest:
                pending.append(rest)
            if not chunk:
                if pending:
                    yield "".join(pending)
                return


class PipeWriter:
    """What the SDK's stdio transport writes to: `write` queues the message's bytes, `flush` waits while the
    client is slow to read (the pipe's flow control)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.stream = writer

    async def write(self, text: str) -> None:
        self.stream.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self.stream.drain()


def _watchable(fd: int) -> bool:
    """A pipe or a socket: what the event loop can watch (never a terminal, whose flags a shell shares)."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@dataclass
class Pipes:
    lines: PipeLines
    writer: PipeWriter
    fds: tuple[int, int]

    async def close(self) -> None:
        """Send what is still queued (bounded by `CLOSE_SECONDS`), then set the descriptors back to blocking:
        the event loop made them non-blocking, and their open files may be shared with the client."""
        with anyio.move_on_after(CLOSE_SECONDS, shield=True):
            with suppress(OSError, RuntimeError):
                self.writer.stream.close()
                await self.writer.stream.wait_closed()
        for fd in self.fds:
            with suppress(OSError):
                os.set_blocking(fd, True)


async def open_pipes(stdin: BinaryIO, stdout: BinaryIO) -> Pipes | None:
    """Lines of `stdin` and a writer on `stdout`, served by the event loop; None when either is not a pipe or a
    socket (the caller keeps the SDK's threaded files)."""
    if sys.platform == "win32":  # pragma: no cover
        return None
    try:
        fds = (stdin.fileno(), stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    if not all(_watchable(fd) for fd in fds):
        return None
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_CHUNK, loop=loop)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, stdout)
    return Pipes(PipeLines(reader), PipeWriter(asyncio.StreamWriter(transport, protocol, None, loop)), fds)
