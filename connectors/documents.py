"""Data types shared by the document connectors (files, PostgreSQL documents); errors are in `connectors.base`.

Connectors return raw text plus provenance; masking happens in another layer. Exception messages
name refs and problems only, never document text (it may hold personal data).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentHit:
    """One matching chunk of a document."""

    ref: str
    """Stable reference usable with `read()`: for files, the POSIX path relative to the source root."""
    title: str
    chunk: str
    """Raw text of the matching chunk (a few hundred words); the caller masks it and cuts a snippet."""
    chunk_index: int
    score: float
    """Higher is better."""


@dataclass(frozen=True)
class Document:
    ref: str
    title: str
    text: str
    media_type: str


@dataclass(frozen=True)
class SkippedFile:
    ref: str
    reason: str
    """Names the kind of problem ("encrypted PDF"), never content."""


@dataclass(frozen=True)
class IndexReport:
    """What one `refresh()` did.

    files_seen = files_indexed + files_unchanged + files newly skipped in this run; `chunks` counts the
    chunks written in this run; `skipped` lists every file currently skipped (new and remembered).
    """

    files_seen: int
    files_indexed: int
    files_unchanged: int
    files_removed: int
    chunks: int
    skipped: tuple[SkippedFile, ...]
    seconds: float
