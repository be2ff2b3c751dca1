"""Over stdio, a recorded call's answer waits for its ledger row in the transport's writer, not in the middleware.

The ledger middleware starts the row's commit (`CommitGates.start`) and returns the result at once, so the SDK
turns it into its JSON line while the commit runs; the writer (`GatedWriter`) holds that line until the commit
is done. The rule stays what it was: an answer leaves only once its call is recorded, and a call whose row cannot
be written gets the refusal (`WITHHELD`) in place of its answer. Only responses are held, and each only behind its
own commit; a line the writer cannot read an id from waits behind every commit in flight, and is dropped if one
of them failed (never sent unrecorded). Transports without gates (HTTP, in-process clients) keep the middleware
waiting for the commit itself.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread

log = logging.getLogger(__name__)

WITHHELD = (
    "The usage ledger could not record this call, so its result is withheld. Ask the operator to check the "
    "ledger database."
)
KEPT_SECONDS = 60.0
"""How long a committed gate whose answer never came (the call was cancelled) is kept."""

_RESPONSE = re.compile(r'\{"jsonrpc":"2\.0","id":(-?\d+|"(?:[^"\\]|\\.)*"),"(?:result|error)":')
"""The start of a JSON-RPC response line as the SDK writes it (`model_dump_json` keeps the fields' order)."""


@dataclass
class _Gate:
    opened: float = field(default_factory=time.monotonic)
    done: anyio.Event = field(default_factory=anyio.Event)
    ok: bool = False


class CommitGates:
    """The commits in flight of one stdio session, by the id of the request they record."""

    def __init__(self, tasks: anyio.abc.TaskGroup) -> None:
        self._tasks = tasks
        self._gates: dict[Any, _Gate] = {}

    def start(self, request_id: Any, commit: Callable[[], None]) -> bool:
        """Run `commit` in a worker thread (shielded: it finishes even if the call is cancelled) and hold the
        answer to `request_id` until it is done. False, and nothing started, when that id is waiting already."""
        if request_id is None or isinstance(request_id, bool) or request_id in self._gates:
            return False
        self._forget_unanswered()
        gate = self._gates[request_id] = _Gate()
        self._tasks.start_soon(self._commit, gate, commit)
        return True

    async def _commit(self, gate: _Gate, commit: Callable[[], None]) -> None:
        try:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(commit)
            gate.ok = True
        except Exception as exc:  # a LedgerError (the entry is spooled), or anything else: the answer is withheld
            log.error("ledger write failed (%s); withholding the result", type(exc).__name__)
        finally:
            gate.done.set()

    async def release(self, line: str) -> str | None:
        """The line to write once the commit it waits for is done: as it is, the refusal in its place, or None
        (nothing to write)."""
        if not self._gates:
            return line
        match = _RESPONSE.match(line)
        if match is None:
            return await self._behind_all(line)
        request_id = json.loads(match.group(1))
        gate = self._gates.pop(request_id, None)
        if gate is None:
            return line
        await gate.done.wait()
        return line if gate.ok else withheld_line(request_id) + ("\n" if line.endswith("\n") else "")

    async def _behind_all(self, line: str) -> str | None:
        if not line.lstrip().startswith("{") or '"id"' not in line:
            return line  # a notification: it answers no call
        for gate in list(self._gates.values()):
            await gate.done.wait()
        if any(not gate.ok for gate in self._gates.values()):
            log.error("a line the writer could not read an id from was dropped: a ledger write had failed")
            return None
        return line

    def _forget_unanswered(self) -> None:
        now = time.monotonic()
        stale = [k for k, g in self._gates.items() if g.done.is_set() and g.ok and now - g.opened > KEPT_SECONDS]
        for key in stale:
            del self._gates[key]


def withheld_line(request_id: Any) -> str:
    """The answer of a call whose row could not be written, as a JSON-RPC line (a tool error, like the
    middleware's own refusal)."""
    result = {"content": [{"type": "text", "text": WITHHELD}], "isError": True}
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}, separators=(",", ":"))


class GatedWriter:
    """What the SDK's stdio transport writes its lines to: each line released by the gates, then written."""

    def __init__(self, inner: Any, gates: CommitGates) -> None:
        self.inner = inner
        self.gates = gates

    async def write(self, text: str) -> None:
        released = await self.gates.release(text)
        if released is not None:
            await self.inner.write(released)

    async def flush(self) -> None:
        await self.inner.flush()


current_gates: contextvars.ContextVar[CommitGates | None] = contextvars.ContextVar("maskwire_gates", default=None)
"""The gates of the stdio session serving this call; None elsewhere (the middleware then waits itself)."""
