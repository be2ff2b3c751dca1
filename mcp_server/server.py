"""The MCP front door: the tools declared, wired to the read pipeline (`mcp_server/pipeline/`) and to the
middleware (tools only, identity, ledger, quotas). Running a call and recording it is `tool_calls.py`; the
transports are `transports.py`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import AnyHttpUrl, Field

from mcp_server.capabilities import ToolsOnlyMiddleware
from mcp_server.identity import AgentTokenVerifier, IdentityMiddleware, current_agent
from mcp_server.ledger.client_info import ClientLabels
from mcp_server.ledger.malformed import MalformedRequests
from mcp_server.ledger.recorder import AgentsUnreachable, LedgerMiddleware, client_identity, shown_number
from mcp_server.policy import Policy
from mcp_server.quotas import QuotaMiddleware
from mcp_server.runtime import Runtime
from mcp_server.telemetry import SpanMiddleware, annotate_call, replace_sdk_spans
from mcp_server.tool_calls import run_recorded
from mcp_server.tools.models import DescribeResult, ListSourcesResult, QueryResult, ReadResult, SearchResult
from mcp_server.tools.schema_search import MAX_PATTERN_CHARS, SchemaSearchResult
from mcp_server.transports import MCP_PATH, GuardedServer, base_url, serve_http

__all__ = ["ARGUMENT_NAMES", "MCP_PATH", "TOOL_NAMES", "base_url", "build_server", "serve_http"]

TOOL_NAMES = frozenset({"list_sources", "describe", "search_schema", "query", "search", "read"})
ARGUMENT_NAMES = frozenset(
    {"source", "table", "sql", "max_rows", "cursor", "query", "sources", "limit", "ref", "pattern", "masking", "offset"}
)
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

INSTRUCTIONS = (
    "Maskwire gives read-only access to databases and documents. Personal data and secrets in every result "
    "are replaced by tokens such as <EMAIL_ADDRESS:…>: the same value always gets the same token, "
    "so you can join, group and count by tokens and pass a token back as a literal. Start with list_sources, "
    "then describe a source before querying it; in a large schema, find tables and columns with search_schema."
)


def _agent_of(runtime: Runtime, token: str) -> str | None:
    agent = runtime.identities.by_token(token)
    return agent.name if agent is not None else None


def _recorded_agent(_ctx: object) -> str:
    agent = current_agent.get()
    return agent.name if agent else "unknown"


def build_server(runtime: Runtime, *, http_url: str | None = None) -> MCPServer:
    """The MCP server. With `http_url` (the address it is served at) every HTTP request needs a bearer token."""
    pipeline = runtime.pipeline
    labels = ClientLabels(
        runtime.masker.detector.english_words, runtime.masker.literal, runtime.masker.known_words_absent
    )
    recorder = LedgerMiddleware(
        runtime.ledger,
        runtime.counter,
        runtime.masker.literal,
        _recorded_agent,
        tools=TOOL_NAMES,
        argument_names=ARGUMENT_NAMES,
        on_recorded=annotate_call if runtime.tracing else None,
        client_labels=labels,
    )
    identity = IdentityMiddleware(
        runtime.identities, agent_override=runtime.agent_override, authenticated=bool(http_url), label=labels.name
    )
    middleware: list[Any] = [  # outermost first: tools only, who is calling, record the call, then refuse if over quota
        ToolsOnlyMiddleware(),
        AgentsUnreachable(
            identity, recorder, lambda ctx: runtime.agent_override or labels.name(client_identity(ctx)[0]) or "unknown"
        ),
        recorder,
        QuotaMiddleware(runtime.ledger),
    ]
    mcp = GuardedServer(
        runtime.config.server.name,
        instructions=INSTRUCTIONS,
        version=_version(),
        middleware=middleware,
        subscriptions=False,  # the tool list never changes while the server runs: nothing to listen for
        # Maskwire issues the tokens itself (`maskwire agents add`); there is no OAuth flow to advertise.
        token_verifier=AgentTokenVerifier(runtime.identities) if http_url else None,
        auth=AuthSettings(issuer_url=AnyHttpUrl(http_url), resource_server_url=None) if http_url else None,
    )

    spans = None
    if runtime.tracing is not None:
        spans = SpanMiddleware(
            runtime.tracing.tracer, TOOL_NAMES, runtime.masker.literal, transport="tcp" if http_url else "pipe"
        )
    replace_sdk_spans(mcp.middleware, spans)

    mcp.malformed = MalformedRequests(
        runtime.ledger,
        runtime.counter,
        runtime.masker.literal,
        lambda: runtime.agent_override or "",
        TOOL_NAMES,
        client_labels=labels,
    )
    if http_url:
        mcp.bearer_agent = lambda token: _agent_of(runtime, token)

    def _policy() -> Policy:
        """The calling agent's role (read on the event loop, where the identity middleware set the agent)."""
        agent = current_agent.get()
        if agent is None or agent.refused is not None:  # never reached through the middleware: refuse
            raise RuntimeError("no identified caller")
        return pipeline.policies[agent.role]

    @mcp.tool(annotations=READ_ONLY)
    async def list_sources() -> Annotated[CallToolResult, ListSourcesResult]:
        """List the databases and document stores this server can read, with their kinds and sizes."""
        policy = _policy()
        return await run_recorded(runtime, "list_sources", lambda: pipeline.list_sources(policy=policy), dict)

    @mcp.tool(annotations=READ_ONLY)
    async def describe(
        source: Annotated[str, Field(description="Source name from list_sources", max_length=200)],
        table: Annotated[str | None, Field(description="One table; omit for all tables", max_length=200)] = None,
    ) -> Annotated[CallToolResult, DescribeResult]:
        """Tables and columns of a source, with how each column is masked and which filters it allows."""
        policy = _policy()
        return await run_recorded(
            runtime,
            "describe",
            lambda: pipeline.describe(source, table, policy=policy),
            lambda: {
                "source": pipeline.known_source_or_token(source),
                "table": pipeline.known_table_or_token(source, table),
            },
            source,
        )

    @mcp.tool(annotations=READ_ONLY)
    async def search_schema(
        pattern: Annotated[
            str,
            Field(
                description="Part of a table or column name (email), or a glob (cust*, *_id, orders.*, *.created_at)",
                max_length=MAX_PATTERN_CHARS,
            ),
        ],
        sources: Annotated[
            list[str] | None, Field(description="SQL sources to search (default: all)", max_length=50)
        ] = None,
        masking: Annotated[
            Literal["pii", "text", "clear"] | None, Field(description="Only columns masked this way")
        ] = None,
        limit: Annotated[int | None, Field(description="Matches per page (default 50)", ge=1, le=200)] = None,
        offset: Annotated[int | None, Field(description="next_offset from the previous page", ge=0)] = None,
    ) -> Annotated[CallToolResult, SchemaSearchResult]:
        """Find tables and columns by name in large schemas, with each column's masking decision."""
        policy = _policy()
        return await run_recorded(
            runtime,
            "search_schema",
            lambda: pipeline.search_schema(pattern, sources, masking, limit, offset, policy=policy),
            lambda: {
                "pattern": runtime.masker.literal(pattern),
                "sources": [pipeline.known_source_or_token(s) for s in sources] if sources else None,
                "masking": masking,
                "limit": limit,
                "offset": shown_number(offset, runtime.masker.literal),
            },
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
        return await run_recorded(
            runtime,
            "query",
            lambda: pipeline.query(source, sql, max_rows, cursor, policy=policy),
            lambda: {
                "source": pipeline.known_source_or_token(source),
                "sql": pipeline.masked_sql(sql, source),
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
        policy = _policy()
        return await run_recorded(
            runtime,
            "search",
            lambda: pipeline.search(query, sources, limit, policy=policy),
            lambda: {
                "query": runtime.masker.literal(query),
                "query_words": len(query.split()),
                "sources": [pipeline.known_source_or_token(s) for s in sources] if sources else None,
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
        policy = _policy()
        return await run_recorded(
            runtime,
            "read",
            lambda: pipeline.read(source, ref, cursor, policy=policy),
            lambda: {
                "source": pipeline.known_source_or_token(source),
                "ref": pipeline.ref_or_token(ref),
                "cursor": runtime.masker.literal(cursor) if cursor else None,
            },
            source,
        )

    # Each tool returns its structured result as its own model's dump (`run_recorded`): valid by construction.
    # The SDK would validate it against that model once more (1.2 ms per 1,000 rows); the schema stays published,
    # and clients still check results against it.
    for tool in mcp._tool_manager.list_tools():
        tool.fn_metadata.output_model = None
    return mcp


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("maskwire")
    except PackageNotFoundError:  # running from a source tree
        return "0"
