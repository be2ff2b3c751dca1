"""The one cursor codec: a page position as URL-safe base64 of compact JSON, tied to what it pages through.

A cursor is agent input when it comes back, so decoding accepts only the fields a tool wrote, as integers and
strings, and refuses a cursor of another query or document with a message the agent can act on.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from mcp_server.tools.problems import ToolProblem


def encode(fields: dict[str, str | int]) -> str:
    payload = json.dumps(fields, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(
    cursor: str, owner_key: str, owner: str, positions: tuple[str, ...], *, tool: str, belongs: str
) -> list[int]:
    """The integer `positions` of a cursor whose `owner_key` field equals `owner`.

    `tool` names the call that issues such cursors, `belongs` what a foreign cursor must be sent with."""
    try:
        data: Any = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii")))
        values = [int(data[key]) for key in positions]
        found = str(data[owner_key])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        raise ToolProblem(f"invalid `cursor`: pass back exactly the cursor a previous {tool} returned") from None
    if found != owner or any(v < 0 for v in values):
        raise ToolProblem(f"`cursor` belongs to a different {belongs}")
    return values
