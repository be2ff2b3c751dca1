"""The read pipeline has no default role: every tool method needs the caller's policy."""

from __future__ import annotations

import inspect

import pytest

from mcp_server.pipeline import ReadPipeline
from mcp_server.pipeline.documents import DocumentTools
from mcp_server.pipeline.sql import SqlReads

TOOLS = {
    ReadPipeline: ("list_sources", "describe", "search_schema", "query", "search", "read"),
    SqlReads: ("describe", "query"),
    DocumentTools: ("stats", "search", "read"),
}


@pytest.mark.parametrize(("owner", "method"), [(o, m) for o, methods in TOOLS.items() for m in methods])
def test_policy_is_a_required_argument(owner: type, method: str) -> None:
    parameter = inspect.signature(getattr(owner, method)).parameters["policy"]
    assert parameter.default is inspect.Parameter.empty
    assert "None" not in str(parameter.annotation)


def test_server_module_holds_no_pipeline_logic() -> None:
    import mcp_server.server as server

    source = inspect.getsource(server)
    for reaching_in in ("catalogs", "broken_sources", ".documents", "to_thread", "uvicorn"):
        assert reaching_in not in source, reaching_in
