"""The MCP server: declares the tools and turns outcomes into tool results. Logic lives in tools/service.py."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Annotated, Any

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from mcp_server.ledger.recorder import CallRecord, LedgerMiddleware, current_call
from mcp_server.policy import Policy
from mcp_server.runtime import Runtime
from mcp_server.tools.documents import DOC_REF
from mcp_server.tools.models import DescribeResult, ListSourcesResult, QueryResult, ReadResult, SearchResult
from mcp_server.tools.problems import ToolOutput, ToolProblem

log = logging.getLogger(__name__)

TOOL_NAMES = frozenset({"list_sources", "describe", "query", "search", "read"})
ARGUMENT_NAMES = frozenset({"source", "table", "sql", "max_rows", "cursor", "query", "sources", "limit", "ref"})
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

INSTRUCTIONS = (
    "Maskwire gives read-only access to databases and documents. Personal data and secrets in every result "
    "are replaced by tokens such as <EMAIL_ADDRESS:…>: the same value always gets the same token, "
    "so you can join, group and count by tokens and pass a token back as a literal. Start with list_sources, "
    "then describe a source before querying it."
)


async def _run(
    runtime: Runtime,
    tool: str,
    work: Callable[[], ToolOutput],
    arguments: Callable[[], dict[str, Any]],
    source: str | None = None,
) -> CallToolResult:
    """Run one tool body off the event loop and record its outcome on the current call.

    `arguments` builds the masked arguments for the ledger; it runs in the worker too (it parses SQL and may
    read the schema). If it fails, the ledger masks every argument generically instead.
    """
    record = current_call.get() or CallRecord(tool=tool)
    service = runtime.service

    def work_and_flush() -> ToolOutput:
        try:
            if source is not None:  # named on the row even when the call fails; a token when not a source
                record.source = service.known_source_or_token(source)
            record.arguments = arguments()
        except Exception:
            record.arguments = None
        try:
            return work()
        finally:
            runtime.masker.pseudonyms.flush()  # tokens issued by this call outlive the process

    try:
        output = await anyio.to_thread.run_sync(work_and_flush)
    except ToolProblem as problem:
        record.status, record.error_class, record.error_message = (
            problem.status,
            problem.error_class,
            str(problem),
        )
        return CallToolResult(content=[TextContent(text=str(problem))], is_error=True)
    except Exception as exc:  # never a traceback, never a message that could carry a value
        # Exception messages can carry values (KeyError('ann@example.com')): log the type and where, not the text.
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f"{frame.filename}:{frame.lineno}" if frame else "?"
        log.error("tool %s failed: %s at %s", tool, type(exc).__name__, where)
        record.status, record.error_class = "error", type(exc).__name__
        record.error_message = f"internal error ({type(exc).__name__})"
        return CallToolResult(
            content=[
                TextContent(
                    text=f"Maskwire hit an internal error ({type(exc).__name__}); the call was "
                    "recorded. Try a simpler request or ask the operator to check the server log."
                )
            ],
            is_error=True,
        )
    record.status = "ok"
    record.source = output.source or record.source
    record.rows = output.rows
    record.entities = output.counts.as_dict()
    return CallToolResult(
        content=[TextContent(text=output.text)],
        structured_content=output.structured.model_dump(mode="json"),
    )


def build_server(runtime: Runtime) -> MCPServer:
    service = runtime.service
    middleware = LedgerMiddleware(
        runtime.ledger,
        runtime.counter,
        runtime.masker.literal,
        runtime.agent_override,
        tools=TOOL_NAMES,
        argument_names=ARGUMENT_NAMES,
    )
    mcp = MCPServer(
        runtime.config.server.name,
        instructions=INSTRUCTIONS,
        version=_version(),
        middleware=[middleware],
    )

    def _policy() -> Policy:
        """The calling agent's role (read on the event loop, where the current call is known)."""
        record = current_call.get()
        return service.policy_for(record.agent if record else runtime.agent_override)

    @mcp.tool(annotations=READ_ONLY)
    async def list_sources() -> Annotated[CallToolResult, ListSourcesResult]:
        """List the databases and document stores this server can read, with their kinds and sizes."""
        policy = _policy()
        return await _run(runtime, "list_sources", lambda: service.list_sources(policy), dict)

    @mcp.tool(annotations=READ_ONLY)
    async def describe(
        source: Annotated[str, Field(description="Source name from list_sources", max_length=200)],
        table: Annotated[str | None, Field(description="One table; omit for all tables", max_length=200)] = None,
    ) -> Annotated[CallToolResult, DescribeResult]:
        """Tables and columns of a source, with how each column is masked and which filters it allows."""
        policy = _policy()
        return await _run(
            runtime,
            "describe",
            lambda: service.describe(source, table, policy),
            lambda: {
                "source": service.known_source_or_token(source),
                "table": service.known_table_or_token(source, table),
            },
            source,
        )

    @mcp.tool(annotations=READ_ONLY)
    async def query(
        source: Annotated[str, Field(description="SQL source name from list_sources", max_length=200)],
        sql: Annotated[str, Field(description="One read-only SELECT statement in the source's dialect")],
        max_rows: Annotated[int | None, Field(description="Row cap for this page", ge=1, le=100_000)] = None,
        cursor: Annotated[
            str | None, Field(description="Cursor from a previous page of the same SQL", max_length=500)
        ] = None,
    ) -> Annotated[CallToolResult, QueryResult]:
        """Run one read-only SELECT. Personal data comes back as tokens; filters on masked columns allow equality
        with values or tokens only. Results are paged: pass the returned cursor to continue."""
        policy = _policy()
        return await _run(
            runtime,
            "query",
            lambda: service.query(source, sql, max_rows, cursor, policy),
            lambda: {
                "source": service.known_source_or_token(source),
                "sql": service.masked_sql(sql, source),
                "max_rows": max_rows,
                "cursor": runtime.masker.literal(cursor) if cursor else None,  # agent input, like any string
            },
            source,
        )

    @mcp.tool(annotations=READ_ONLY)
    async def search(
        query: Annotated[
            str, Field(description="Words to look for; tokens you were given match their values", max_length=1000)
        ],
        sources: Annotated[
            list[str] | None, Field(description="Document sources to search (default: all)", max_length=50)
        ] = None,
        limit: Annotated[int | None, Field(description="Maximum hits (default 10)", ge=1, le=50)] = None,
    ) -> Annotated[CallToolResult, SearchResult]:
        """Full-text search over document sources. Returns masked snippets and refs to pass to read()."""
        docs, policy = service.documents, _policy()
        return await _run(
            runtime,
            "search",
            lambda: docs.search(query, sources, limit, policy),
            lambda: {
                "query": runtime.masker.literal(query),
                "query_words": len(query.split()),
                "sources": [service.known_source_or_token(s) for s in sources] if sources else None,
                "limit": limit,
            },
        )

    @mcp.tool(annotations=READ_ONLY)
    async def read(
        source: Annotated[str, Field(description="Document source name", max_length=200)],
        ref: Annotated[str, Field(description="Document ref from search, like <DOC:0123456789abcdef>", max_length=100)],
        cursor: Annotated[str | None, Field(description="Cursor from the previous page", max_length=500)] = None,
    ) -> Annotated[CallToolResult, ReadResult]:
        """Read a whole document, masked, in pages bounded by output tokens."""
        docs, policy = service.documents, _policy()
        return await _run(
            runtime,
            "read",
            lambda: docs.read(source, ref, cursor, policy),
            lambda: {
                "source": service.known_source_or_token(source),
                "ref": ref if DOC_REF.fullmatch(ref) else runtime.masker.literal(ref),
                "cursor": runtime.masker.literal(cursor) if cursor else None,
            },
            source,
        )

    return mcp


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("maskwire")
    except PackageNotFoundError:  # running from a source tree
        return "0"
