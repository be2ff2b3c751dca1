"""The one translation of connector errors into tool problems: the message (which names the source and the kind
of problem, never a value) and the error class the ledger records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from connectors.base import ConnectorError
from mcp_server.tools.problems import ToolProblem


def source_problem(exc: ConnectorError, message: str | None = None) -> ToolProblem:
    """A failed source as a tool error (`status="error"`, the error class being the connector error's)."""
    return ToolProblem(message or str(exc), status="error", error_class=getattr(exc, "error_class", type(exc).__name__))


@contextmanager
def source_errors() -> Iterator[None]:
    """Connector errors raised inside become tool problems."""
    try:
        yield
    except ConnectorError as exc:
        raise source_problem(exc) from None
