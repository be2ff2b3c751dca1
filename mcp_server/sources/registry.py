"""Source kinds: `kind` in `[[sources]]` -> its config model, how to open it, and what `check` and `index` need.

The config union (`Config.sources`), `maskwire check`, `maskwire index` and the tools all derive from this
registry, so a new source kind is one module that defines its settings model and an `open` function, plus one
`register(SourceKind(...))` call. Registering re-derives the config union; a registered kind's name is final.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from mcp_server.sources.settings import SourceSettings

if TYPE_CHECKING:
    from connectors.base import DocumentSource, TabularSource

Shape = Literal["tabular", "document"]


class Deployment(Protocol):
    """What a source kind reads of the whole configuration (`mcp_server.config.Config` is one): paths and URLs
    resolved against the config file's folder, and where indexes live."""

    @property
    def index_dir(self) -> Path: ...

    def files_root(self, source: Any) -> Path: ...

    def sql_url(self, source: Any) -> str: ...


@dataclass(frozen=True)
class SourceKind:
    name: str
    """The `kind` key of a `[[sources]]` entry."""
    settings: type[SourceSettings]
    """Its config model; `kind` must be `Literal[name]` there (the union is discriminated on it)."""
    shape: Shape
    """tabular: served by describe and query; document: by search and read."""
    open: Callable[[Deployment, Any], TabularSource | DocumentSource]
    """Builds the connector from the config and the entry; raises `ConnectorError` when it cannot."""
    where: Callable[[Deployment, Any], str]
    """Where the source lives, safe to print (a redacted URL, a folder)."""
    precheck: Callable[[Deployment, Any], str | None] | None = None
    """`maskwire check`: a reason the source cannot be reached (safe to show), found before opening it."""
    indexed: bool = False
    """`maskwire index` refreshes it (its connector is an `IndexedSource`)."""


_kinds: dict[str, SourceKind] = {}
_listeners: list[Callable[[], None]] = []
_lock = threading.Lock()


def register(kind: SourceKind) -> SourceKind:
    """Add a source kind; the config union is derived again, so configs read afterwards accept it."""
    with _lock:
        known = _kinds.get(kind.name)
        if known is not None and known != kind:
            raise ValueError(f'source kind "{kind.name}" is already registered')
        _kinds[kind.name] = kind
    _changed()
    return kind


def unregister(name: str) -> None:
    with _lock:
        _kinds.pop(name, None)
    _changed()


def kind(name: str) -> SourceKind:
    """The registered kind called `name` (a config can only hold registered kinds)."""
    return _kinds[name]


def kinds() -> list[SourceKind]:
    return list(_kinds.values())


def shape_of(source: SourceSettings) -> Shape:
    return _kinds[source.kind].shape


def on_change(listener: Callable[[], None]) -> None:
    """Call `listener` now and after every registration (the config module re-derives its union)."""
    _listeners.append(listener)
    listener()


def _changed() -> None:
    for listener in list(_listeners):
        listener()
