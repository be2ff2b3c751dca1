"""`PipeLines` reads a pipe as the SDK's text wrapper would: lines across chunks, universal newlines, UTF-8 with
replacement characters, a last line without its newline."""

from __future__ import annotations

import asyncio

from mcp_server.stdio_pipes import READ_CHUNK, PipeLines


def _lines(*chunks: bytes) -> list[str]:
    async def read() -> list[str]:
        reader = asyncio.StreamReader()
        for chunk in chunks:
            reader.feed_data(chunk)
        reader.feed_eof()
        return [line async for line in PipeLines(reader)]

    return asyncio.run(read())


def test_lines_as_the_text_wrapper_reads_them() -> None:
    long = b"x" * (3 * READ_CHUNK + 17)
    assert _lines(b'{"a":1}\r\n{"b"', b":2}\n" + long + b"\n\xff\xfe tail") == [
        '{"a":1}\n',
        '{"b":2}\n',
        "x" * (3 * READ_CHUNK + 17) + "\n",
        "\ufffd\ufffd tail",
    ]
    assert _lines(b"") == []
