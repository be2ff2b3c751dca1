"""What a tool body returns, and the error it raises when a call cannot be served."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from mcp_server.masking.masker import MaskCounts

Status = Literal["denied", "error"]


class ToolProblem(Exception):
    """A call that cannot be served. `str(self)` is safe to show the client and to store."""

    def __init__(self, message: str, *, status: Status = "denied", error_class: str | None = None) -> None:
        super().__init__(message)
        self.status: Status = status
        self.error_class = error_class or ("Denied" if status == "denied" else "Error")


@dataclass
class ToolOutput:
    structured: BaseModel
    text: str
    source: str | None = None
    rows: int = 0
    counts: MaskCounts = field(default_factory=MaskCounts)
    facts: dict[str, int] = field(default_factory=dict)
    """Numbers the ledger keeps with the call's arguments (e.g. membership_tests: the oracle that remains)."""
    tokens: int | None = None
    """The exact token count of `text` when the budget fitter took it (the ledger's tokens out, counted once)."""
