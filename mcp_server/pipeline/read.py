"""The read pipeline every front door calls: check -> execute -> mask -> fit the budget -> result.

It knows nothing about MCP: the MCP server is its first front door; a PostgreSQL wire endpoint or an export
command would call the same methods. Every method takes the caller's `policy` as a required keyword: there is no
default role to fall back to. Results are `ToolOutput`s; refusals and failures are `ToolProblem`s whose message
is safe to show and to record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connectors.base import ConnectorError
from mcp_server.catalog import SqlCatalog
from mcp_server.config import Config
from mcp_server.masking.masker import Masker
from mcp_server.pipeline.documents import DocumentTools
from mcp_server.pipeline.sources import SourceSet
from mcp_server.pipeline.sql import SqlReads
from mcp_server.policy import Policy, build_policies
from mcp_server.sources import registry
from mcp_server.tokens import TokenCounter
from mcp_server.tools.models import DescribeResult, ListSourcesResult, SourceInfo
from mcp_server.tools.problems import ToolOutput, ToolProblem
from mcp_server.tools.render import render_describe, render_sources
from mcp_server.tools.schema_search import Masking
from mcp_server.tools.schema_search import search_schema as search_schema_in


class ReadPipeline:
    def __init__(self, config: Config, masker: Masker, counter: TokenCounter) -> None:
        self.config = config
        self.masker = masker
        self.counter = counter
        self.policies = build_policies(config, masker)
        self.sources = SourceSet(config, masker.detector)
        self.sql = SqlReads(config, masker, counter, self.sources)
        self.documents = DocumentTools(config, masker, counter, self.sources)

    def close(self) -> None:
        self.sources.close()

    def policy_for(self, agent: str | None) -> Policy:
        """The policy of an agent's role (`None`: a caller without an [[agents]] entry, the default role)."""
        role, _ = self.config.role_of(agent)
        return self.policies[role]

    # -- the tools ---------------------------------------------------------------------------------

    def list_sources(self, *, policy: Policy) -> ToolOutput:
        infos: list[SourceInfo] = []
        for source in self.config.sources:
            if not policy.may_use_source(source.name):
                continue
            info = SourceInfo(name=source.name, kind=source.kind, description=source.description)
            if source.name in self.sources.broken:
                infos.append(info.model_copy(update={"status": "unavailable: " + self.sources.broken[source.name]}))
            elif registry.shape_of(source) == "tabular":
                catalog = self.sources.catalogs[source.name]
                try:
                    tables = sum(policy.may_read_table(source.name, t) for t in catalog.tables())
                    infos.append(info.model_copy(update={"dialect": catalog.database.dialect, "tables": tables}))
                except ConnectorError as exc:
                    infos.append(
                        info.model_copy(update={"dialect": catalog.database.dialect, "status": f"unavailable: {exc}"})
                    )
            else:
                try:
                    documents = self.documents.stats(source.name, policy).documents
                    infos.append(info.model_copy(update={"documents": documents}))
                except ToolProblem as exc:
                    infos.append(info.model_copy(update={"status": f"unavailable: {exc}"}))
        result = ListSourcesResult(sources=infos)
        return ToolOutput(result, render_sources(result))

    def describe(self, source: str, table: str | None = None, *, policy: Policy) -> ToolOutput:
        configured = self.config.source(source) if isinstance(source, str) else None
        if configured is not None and registry.shape_of(configured) == "document":
            stats = self.documents.stats(source, policy)
            result = DescribeResult(source=source, kind=configured.kind, documents=stats)
            return ToolOutput(result, render_describe(result), source=source)
        return self.sql.describe(source, table, policy=policy)

    def search_schema(
        self,
        pattern: str,
        sources: list[str] | None = None,
        masking: Masking | None = None,
        limit: int | None = None,
        offset: int | None = None,
        *,
        policy: Policy,
    ) -> ToolOutput:
        budget = self.config.tokens.max_output_tokens
        return search_schema_in(self.sources, self.counter, budget, pattern, sources, masking, limit, offset, policy)

    def query(
        self, source: str, sql: str, max_rows: int | None = None, cursor: str | None = None, *, policy: Policy
    ) -> ToolOutput:
        return self.sql.query(source, sql, max_rows, cursor, policy=policy)

    def search(
        self, query: str, sources: Sequence[str] | None = None, limit: int | None = None, *, policy: Policy
    ) -> ToolOutput:
        return self.documents.search(query, sources, limit, policy)

    def read(self, source: str, ref: str, cursor: str | None = None, *, policy: Policy) -> ToolOutput:
        return self.documents.read(source, ref, cursor, policy)

    # -- names for the ledger: what the agent sent, masked unless it names something configured -------

    def known_source_or_token(self, source: object) -> str:
        """A source name for the ledger: as is when configured, else a keyed token (it is agent input)."""
        text = str(source)
        return text if self.config.source(text) else self.masker.literal(text)

    def known_table_or_token(self, source: str, table: str | None) -> str | None:
        return self.sql.known_table_or_token(source, table)

    def masked_sql(self, sql: str, source: str | None) -> str:
        """The SQL as the ledger stores it (`ledger_sql.py`)."""
        return self.sql.masked_sql(sql, source)

    def masked_message(self, message: str, source: str | None) -> str:
        """A query's error message as the ledger stores it (`ledger_sql.py`)."""
        return self.sql.masked_message(message, source)

    def ref_or_token(self, ref: str) -> str:
        """A document ref for the ledger: as is when Maskwire issued it, else a token."""
        return ref if self.documents.issued_ref(ref) else self.masker.literal(ref)


class RoleView:
    """The pipeline as one role sees it, for in-process callers (benchmarks, tests, scripts).

    The role is chosen when the view is made (`Runtime.service` is the default role's); the MCP server never uses a
    view, it passes each caller's own policy to the pipeline."""

    def __init__(self, pipeline: ReadPipeline, policy: Policy) -> None:
        self.pipeline = pipeline
        self.policy = policy

    @property
    def config(self) -> Config:
        return self.pipeline.config

    @property
    def catalogs(self) -> Mapping[str, SqlCatalog]:
        return self.pipeline.sources.catalogs

    def policy_for(self, agent: str | None) -> Policy:
        return self.pipeline.policy_for(agent)

    def list_sources(self, *, policy: Policy | None = None) -> ToolOutput:
        return self.pipeline.list_sources(policy=policy or self.policy)

    def describe(self, source: str, table: str | None = None, *, policy: Policy | None = None) -> ToolOutput:
        return self.pipeline.describe(source, table, policy=policy or self.policy)

    def query(
        self,
        source: str,
        sql: str,
        max_rows: int | None = None,
        cursor: str | None = None,
        *,
        policy: Policy | None = None,
    ) -> ToolOutput:
        return self.pipeline.query(source, sql, max_rows, cursor, policy=policy or self.policy)

    def search(
        self,
        query: str,
        sources: Sequence[str] | None = None,
        limit: int | None = None,
        *,
        policy: Policy | None = None,
    ) -> ToolOutput:
        return self.pipeline.search(query, sources, limit, policy=policy or self.policy)

    def read(self, source: str, ref: str, cursor: str | None = None, *, policy: Policy | None = None) -> ToolOutput:
        return self.pipeline.read(source, ref, cursor, policy=policy or self.policy)
