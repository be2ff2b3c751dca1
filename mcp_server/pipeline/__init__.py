"""The read pipeline (check -> execute -> mask -> fit the budget -> result), independent of MCP."""

from mcp_server.pipeline.read import ReadPipeline, RoleView
from mcp_server.tools.problems import ToolOutput, ToolProblem

__all__ = ["ReadPipeline", "RoleView", "ToolOutput", "ToolProblem"]
