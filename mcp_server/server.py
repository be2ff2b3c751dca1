"""The MCP server: declares the tools and turns outcomes into tool results. Logic lives in tools/service.py."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import AnyHttpUrl, Field

from mcp_server.capabilities import ToolsOnlyMiddleware
from mcp_server.identity import AgentTokenVerifier, IdentityMiddleware, current_agent
from mcp_server.ledger.malformed import MalformedRequests, guard_stream
from mcp_server.ledger.malformed_http import MalformedBodies
from mcp_server.ledger.recorder import AgentsUnreachable, CallRecord, LedgerMiddleware, client_identity, current_call
from mcp_server.policy import Policy
from mcp_server.quotas import QuotaMiddleware
from mcp_server.runtime import Runtime
from mcp_server.telemetry import SpanMiddleware, annotate_call, replace_sdk_spans
from mcp_server.tools.documents import DOC_REF
from mcp_server.tools.models import DescribeResult, ListSourcesResult, QueryResult, ReadResult, SearchResult
from mcp_server.tools.problems import ToolOutput, ToolProblem
from mcp_server.tools.schema_search import MAX_PATTERN_CHARS, SchemaSearchResult
from mcp_server.tools.schema_search import search_schema as search_schema_in

log = logging.getLogger(__name__)

TOOL_NAMES = frozenset({"list_sources", "describe", "search_schema", "query", "search", "read"})
ARGUMENT_NAMES = frozenset(
    {"source", "table", "sql", "max_rows", "cursor", "query", "sources", "limit", "ref", "pattern", "masking", "offset"}
)
MCP_PATH = "/mcp"
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

INSTRUCTIONS = (
    "Maskwire gives read-only access to databases and documents. Personal data and secrets in every result "
    "are replaced by tokens such as <EMAIL_ADDRESS:…>: the same value always gets the same token, "
    "so you can join, group and count by tokens and pass a token back as a literal. Start with list_sources, "
    "then describe a source before querying it; in a large schema, find tables and columns with search_schema."
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
    if output.facts and record.arguments is not None:
        record.arguments = {**record.arguments, **output.facts}
    record.source = output.source or record.source
    record.rows = output.rows
    record.entities = output.counts.as_dict()
    return CallToolResult(
        content=[TextContent(text=output.text)],
        structured_content=output.structured.model_dump(mode="json"),
    )


class _Server(MCPServer):
    """The SDK's server, with unparseable stdio lines answered and recorded (see `ledger/malformed.py`)."""

    malformed: MalformedRequests | None = None
    bearer_agent: Callable[[str], str | None] | None = None
    """The agent a bearer token belongs to (HTTP), for recording malformed bodies (`ledger/malformed_http.py`)."""

    async def run_stdio_async(self) -> None:
        async with stdio_server() as (read_stream, write_stream), anyio.create_task_group() as tasks:
            guarded = read_stream
            if self.malformed is not None:
                guarded = await guard_stream(read_stream, write_stream, self.malformed, tasks)
            await self._lowlevel_server.run(
                guarded, write_stream, self._lowlevel_server.create_initialization_options()
            )
            tasks.cancel_scope.cancel()


def _agent_of(runtime: Runtime, token: str) -> str | None:
    agent = runtime.identities.by_token(token)
    return agent.name if agent is not None else None


def _recorded_agent(_ctx: object) -> str:
    agent = current_agent.get()
    return agent.name if agent else "unknown"


def build_server(runtime: Runtime, *, http_url: str | None = None) -> MCPServer:
    """The MCP server. With `http_url` (the address it is served at) every HTTP request needs a bearer token."""
    service = runtime.service
    recorder = LedgerMiddleware(
        runtime.ledger,
        runtime.counter,
        runtime.masker.literal,
        _recorded_agent,
        tools=TOOL_NAMES,
        argument_names=ARGUMENT_NAMES,
        on_recorded=annotate_call if runtime.tracing else None,
    )
    identity = IdentityMiddleware(
        runtime.identities, agent_override=runtime.agent_override, authenticated=bool(http_url)
    )
    middleware = [  # outermost first: tools only, who is calling, record the call, then refuse it if over quota
        ToolsOnlyMiddleware(),
        AgentsUnreachable(
            identity, recorder, lambda ctx: runtime.agent_override or client_identity(ctx)[0] or "unknown"
        ),
        recorder,
        QuotaMiddleware(runtime.ledger),
    ]
    mcp = _Server(
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
        runtime.ledger, runtime.counter, runtime.masker.literal, lambda: runtime.agent_override or "", TOOL_NAMES
    )
    if http_url:
        mcp.bearer_agent = lambda token: _agent_of(runtime, token)

    def _policy() -> Policy:
        """The calling agent's role (read on the event loop, where the identity middleware set the agent)."""
        agent = current_agent.get()
        if agent is None or agent.refused is not None:  # never reached through the middleware: refuse
            raise RuntimeError("no identified caller")
        return service.policies[agent.role]

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
        return await _run(
            runtime,
            "search_schema",
            lambda: search_schema_in(service, pattern, sources, masking, limit, offset, policy),
            lambda: {
                "pattern": runtime.masker.literal(pattern),
                "sources": [service.known_source_or_token(s) for s in sources] if sources else None,
                "masking": masking,
                "limit": limit,
                "offset": offset,
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


async def serve_http(mcp: MCPServer, host: str, port: int, *, on_ready: Callable[[str], None]) -> None:
    """Serve streamable HTTP at http://host:port/mcp with uvicorn until interrupted.

    Stateless: every request stands alone, so replicas behind a load balancer need no shared sessions.
    `on_ready` gets the URL once the socket listens (with the real port when `port` is 0).
    """
    import uvicorn

    app: Any = mcp.streamable_http_app(streamable_http_path=MCP_PATH, stateless_http=True, host=host)
    if isinstance(mcp, _Server) and mcp.malformed is not None and mcp.bearer_agent is not None:
        app = MalformedBodies(app, MCP_PATH, mcp.malformed, mcp.bearer_agent)

    class _Uvicorn(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and self.servers:
                bound = self.servers[0].sockets[0].getsockname()[1]
                on_ready(base_url(host, bound) + MCP_PATH)

    # log_config=None: uvicorn's loggers go through Maskwire's logging setup. No access log: request lines are
    # not needed next to the ledger, and a misbehaving client could put a credential in a query string.
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
    await _Uvicorn(config).serve()


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("maskwire")
    except PackageNotFoundError:  # running from a source tree
        return "0"
