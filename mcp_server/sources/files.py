"""`kind = "files"`: a folder of documents with a full-text index, served by search and read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from mcp_server.sources.registry import Deployment, SourceKind, register
from mcp_server.sources.settings import SourceSettings

if TYPE_CHECKING:
    from connectors.files import FileStore


class FilesSource(SourceSettings):
    kind: Literal["files"]
    path: Path
    include: list[str] = Field(default_factory=lambda: ["**/*"])
    exclude: list[str] = Field(default_factory=list)
    max_file_bytes: Annotated[int, Field(ge=1)] = 10_000_000


def open_files(config: Deployment, source: FilesSource) -> FileStore:
    from connectors.files import FileStore

    return FileStore(
        source.name,
        config.files_root(source),
        config.index_dir / f"{source.name}.sqlite",
        include=source.include,
        exclude=source.exclude,
        max_file_bytes=source.max_file_bytes,
    )


def _where(config: Deployment, source: FilesSource) -> str:
    return str(config.files_root(source))


def _precheck(config: Deployment, source: FilesSource) -> str | None:
    from mcp_server.diagnose import folder_problem

    return folder_problem(config.files_root(source))


FILES = register(SourceKind("files", FilesSource, "document", open_files, _where, _precheck, indexed=True))
