"""Every configured source, opened once through the registry: tabular sources behind their catalogs, document
sources as stores, and the sources that could not be opened with the reason (safe to show). Lookups check the
caller's policy first, so a role learns nothing about a source it may not use."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import cast

from connectors.base import ConnectorError, DocumentSource, TabularSource
from mcp_server.catalog import SqlCatalog
from mcp_server.config import Config, SqlSource
from mcp_server.masking.detector import Detector
from mcp_server.policy import Policy
from mcp_server.sources import registry
from mcp_server.tools.problems import ToolProblem


class SourceSet:
    def __init__(
        self, config: Config, detector: Detector, *, shapes: tuple[registry.Shape, ...] = ("tabular", "document")
    ):
        self.config = config
        self._catalogs: dict[str, SqlCatalog] = {}
        self._stores: dict[str, DocumentSource] = {}
        self._broken: dict[str, str] = {}
        for source in config.sources:
            kind = registry.kind(source.kind)
            if kind.shape not in shapes:
                continue
            try:
                opened = kind.open(config, source)
            except ConnectorError as exc:
                self._broken[source.name] = str(exc)
                continue
            except OSError as exc:  # a document index that cannot be created
                self._broken[source.name] = type(exc).__name__
                continue
            if kind.shape == "tabular":
                database = cast(TabularSource, opened)
                sql = cast(SqlSource, source)
                self._catalogs[source.name] = SqlCatalog(sql, database, detector, config.masking.sample_rows)
            else:
                self._stores[source.name] = cast(DocumentSource, opened)

    @property
    def catalogs(self) -> Mapping[str, SqlCatalog]:
        """The tabular sources that opened, by name."""
        return MappingProxyType(self._catalogs)

    @property
    def stores(self) -> Mapping[str, DocumentSource]:
        """The document sources that opened, by name."""
        return MappingProxyType(self._stores)

    @property
    def broken(self) -> Mapping[str, str]:
        """Sources that could not be opened, with the reason."""
        return MappingProxyType(self._broken)

    def close(self) -> None:
        for catalog in self._catalogs.values():
            catalog.database.dispose()
        for store in self._stores.values():
            store.close()

    # -- policy-checked lookups --------------------------------------------------------------------

    def unavailable(self, name: str, shape: registry.Shape) -> ToolProblem | None:
        """The problem of a source of this shape that could not be opened, None when it opened (or is another
        shape, or unknown)."""
        configured = self.config.source(name)
        if name not in self._broken or configured is None or registry.shape_of(configured) != shape:
            return None
        return ToolProblem(self._broken[name], status="error", error_class="SourceUnavailable")

    def _may_use(self, name: str, policy: Policy, shape: registry.Shape, *, refuse: bool) -> None:
        """Refuse a source the role may not use (when `refuse`: the name is one the role could know), then one of
        this shape that could not be opened."""
        if refuse and not policy.may_use_source(name):
            raise ToolProblem(f'role "{policy.role}" may not use source "{name}"')
        problem = self.unavailable(name, shape)
        if problem is not None:
            raise problem

    def catalog(self, name: str, policy: Policy) -> SqlCatalog:
        if not isinstance(name, str) or not name.strip():
            raise ToolProblem("`source` is required: call list_sources to see the source names")
        configured = self.config.source(name)
        self._may_use(name, policy, "tabular", refuse=configured is not None)
        catalog = self._catalogs.get(name)
        if catalog is None:
            if configured is not None:
                raise ToolProblem(
                    f'source "{configured.name}" is a {configured.kind} source: use search and read for it'
                )
            known = ", ".join(sorted(s.name for s in self.config.sources)) or "none configured"
            raise ToolProblem(f"unknown source; known sources: {known}")
        return catalog

    def store(self, name: str, policy: Policy) -> DocumentSource:
        self._may_use(name, policy, "document", refuse=name in self._stores)
        store = self._stores.get(name)
        if store is None:
            known = ", ".join(sorted(self._stores)) or "none configured"
            raise ToolProblem(f"not a document source; document sources: {known}")
        return store
