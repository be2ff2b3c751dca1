"""A folder of documents searchable through an incremental SQLite FTS5 index.

The index file holds raw document text, so it is created 0600. Refs are POSIX paths relative to the
root; `resolve_ref` is the single gate between a caller-supplied ref and the file system.

Tokenizer: `porter unicode61 remove_diacritics 2`. Agents search in natural language ("refund
policies"), so stemming buys most of the recall; stemming is applied to documents and queries alike,
so exact words and names still match, and unicode61 + remove_diacritics folds case and accents.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from connectors.base import (
    DocumentNotFound,
    DocumentStats,
    DocumentUnreadable,
    InvalidRequest,
    Progress,
    RefDenied,
    SourceUnavailable,
)
from connectors.documents import Document, DocumentHit, IndexReport, SkippedFile
from connectors.extract import ExtractedText, extract, extract_bytes, too_large_reason

TOKENIZE = "porter unicode61 remove_diacritics 2"
SCHEMA_VERSION = 1
EXTRACTOR_VERSION = 1
"""Bump when extraction output changes: a mismatch rebuilds the index."""
TITLE_WEIGHT = 2.0
MAX_TOKEN_CHARS = 200
"""Longer runs of non-space characters count as several words, which bounds a chunk's size."""
MAX_REF_CHARS = 4096
ROWID_BITS = 24
"""Chunk rowids are file_id << ROWID_BITS | chunk_index, so a file's chunks are one rowid range
(deleting them is a range lookup, not a scan of the UNINDEXED ref column)."""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    ref TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT,
    title TEXT, media_type TEXT, status TEXT NOT NULL, reason TEXT, file_id INTEGER NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks USING fts5(
    ref UNINDEXED, chunk_index UNINDEXED, title, body, tokenize = '{TOKENIZE}'
);
"""


# -- globs -----------------------------------------------------------------------------------------


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a root-relative glob: `*`, `?`, `[...]` stay inside one segment, a `**` segment spans any.

    Same meaning as `PurePosixPath.full_match` (3.13): `*.md` matches top-level files only,
    `**/*.md` matches at any depth, `docs/**` everything under docs.
    """
    segments = pattern.strip().removeprefix("./").strip("/").split("/")
    regex = ""
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "**":
            regex += ".*" if last else "(?:.*/)?"
        else:
            regex += _segment_regex(segment) + ("" if last else "/")
    return re.compile(regex, re.DOTALL)


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "*":
            out.append("[^/]*")
            while i + 1 < len(segment) and segment[i + 1] == "*":
                i += 1
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[" and "]" in segment[i + 2 :]:
            end = segment.index("]", i + 2)
            body = segment[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            out.append("[" + ("^/" if negate else "") + body.replace("\\", "\\\\").replace("/", "") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


# -- chunking and queries --------------------------------------------------------------------------


def split_chunks(text: str, words: int) -> list[str]:
    """Windows of `words` words overlapping by ~10%; each chunk is the original text between words."""
    spans = [m.span() for m in re.finditer(rf"\S{{1,{MAX_TOKEN_CHARS}}}", text)]
    overlap = min(words // 10, 50)
    step = max(1, words - overlap)
    chunks: list[str] = []
    for start in range(0, len(spans), step):
        end = min(start + words, len(spans))
        chunks.append(text[spans[start][0] : spans[end - 1][1]])
        if end == len(spans):
            break
    return chunks


def fts_query(query: str, operator: str = "AND") -> str | None:
    """User text as a safe FTS5 query: every term and "phrase" quoted, joined by `operator`.

    Quoted strings are never parsed as FTS5 syntax, so AND/OR/NEAR/*/:/- are plain words. Pieces
    without a letter or digit are dropped; None when nothing is left.
    """
    pieces: list[str] = []
    for phrase, term in re.findall(r'"([^"]*)"|(\S+)', query):
        cleaned = " ".join((phrase or term).replace('"', " ").split())
        if any(ch.isalnum() for ch in cleaned):
            pieces.append(f'"{cleaned}"')
    return f" {operator} ".join(pieces) if pieces else None


# -- the store -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    size: int
    mtime_ns: int
    sha256: str | None
    file_id: int


def _rowids(file_id: int) -> tuple[int, int]:
    """The [low, high) chunk rowid range of one file."""
    return file_id << ROWID_BITS, (file_id + 1) << ROWID_BITS


class FileStore:
    """Documents under `root`, indexed into the SQLite file `index_path`. Thread-safe."""

    def __init__(
        self,
        name: str,
        root: Path,
        index_path: Path,
        *,
        include: Sequence[str] = ("**/*",),
        exclude: Sequence[str] = (),
        max_file_bytes: int = 10_000_000,
        chunk_words: int = 200,
        include_hidden: bool = False,
    ) -> None:
        if max_file_bytes < 1 or chunk_words < 1:
            raise SourceUnavailable(f'source "{name}": max_file_bytes and chunk_words must be positive')
        self.name = name
        self.root = Path(root)
        self._root_real = os.path.realpath(self.root)
        if not os.path.isdir(self._root_real):
            raise SourceUnavailable(f'source "{name}": root {self.root} is not a directory')
        self.index_path = Path(index_path)
        self._include = [glob_regex(p) for p in include]
        self._exclude = [glob_regex(p) for p in exclude]
        bases = (p.strip().removeprefix("./").strip("/") for p in exclude)
        self._exclude_dirs = [glob_regex(b[:-3]) for b in bases if b.endswith("/**")]
        self.max_file_bytes = max_file_bytes
        self.chunk_words = chunk_words
        self.include_hidden = include_hidden
        index_real = os.path.realpath(self.index_path)
        self._index_files = {index_real + suffix for suffix in ("", "-wal", "-shm", "-journal")}
        self._lock = threading.RLock()
        self._refresh_lock = threading.Lock()
        self._db = self._open_index()

    # -- index file ----------------------------------------------------------------------------

    def _open_index(self) -> sqlite3.Connection:
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.index_path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(self.index_path, 0o600)
        db = sqlite3.connect(self.index_path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            fingerprint = json.dumps(
                {
                    "schema": SCHEMA_VERSION,
                    "extractor": EXTRACTOR_VERSION,
                    "tokenize": TOKENIZE,
                    "chunk_words": self.chunk_words,
                    "max_file_bytes": self.max_file_bytes,
                    "root": self._root_real,
                },
                sort_keys=True,
            )
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
            if row is None or row[0] != fingerprint:
                db.executescript("DROP TABLE meta; DROP TABLE files; DROP TABLE chunks;" + _SCHEMA)
                db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
        except sqlite3.DatabaseError as exc:
            db.close()
            problem = type(exc).__name__
            raise SourceUnavailable(
                f'source "{self.name}": index {self.index_path} is not a usable index ({problem})'
            ) from None
        return db

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- refs and walking ----------------------------------------------------------------------

    def _visible(self, rel: str) -> bool:
        """Neither hidden (a part starting with '.') nor excluded."""
        if not self.include_hidden and any(part.startswith(".") for part in rel.split("/")):
            return False
        return not any(p.fullmatch(rel) for p in self._exclude)

    def _allowed(self, rel: str) -> bool:
        """Whether a root-relative POSIX path is visible and matches an include glob."""
        return self._visible(rel) and any(p.fullmatch(rel) for p in self._include)

    def _inside(self, real: str) -> str | None:
        """The root-relative POSIX path of a real path, or None when it lies outside the root."""
        if real == self._root_real or not real.startswith(self._root_real.rstrip(os.sep) + os.sep):
            return None
        return PurePosixPath(*Path(os.path.relpath(real, self._root_real)).parts).as_posix()

    def _target_allowed(self, path: str) -> bool:
        """A path (maybe through symlinks) whose real target is inside the root, not hidden nor excluded."""
        real = os.path.realpath(path)
        rel = self._inside(real)
        return rel is not None and real not in self._index_files and self._visible(rel)

    def resolve_ref(self, ref: str) -> Path:
        """The file a ref names. RefDenied for anything but a clean, allowed, in-root path."""
        if not isinstance(ref, str) or not ref or len(ref) > MAX_REF_CHARS:
            raise RefDenied(f'source "{self.name}": ref is empty or too long')
        for form in {ref, unquote(ref)}:
            if "\x00" in form or "\\" in form or form.startswith("/") or re.match(r"[A-Za-z]:(/|$)", form):
                raise RefDenied(f'source "{self.name}": ref {ref!r} is not a relative POSIX path')
            if any(part in ("", ".", "..") for part in form.split("/")):
                raise RefDenied(f'source "{self.name}": ref {ref!r} is not a normalized relative path')
        if not self._allowed(ref):
            raise RefDenied(f'source "{self.name}": ref {ref!r} is hidden or excluded')
        path = self.root / ref
        if not self._target_allowed(str(path)):
            raise RefDenied(f'source "{self.name}": ref {ref!r} resolves outside the allowed files')
        if not path.is_file():
            raise DocumentNotFound(f'source "{self.name}": no document {ref!r}')
        return path

    def _dir_pruned(self, rel: str) -> bool:
        """Whether an exclude pattern covers a whole directory (an optimisation; files are re-checked)."""
        return any(p.fullmatch(rel) for p in self._exclude_dirs)

    def _walk(self) -> dict[str, os.stat_result]:
        """Every allowed regular file: ref -> stat of its target. Symlinks leaving the root are ignored."""
        found: dict[str, os.stat_result] = {}
        seen_dirs: set[tuple[int, int]] = set()
        root_stat = os.stat(self._root_real)
        seen_dirs.add((root_stat.st_dev, root_stat.st_ino))
        stack: list[tuple[str, str]] = [(str(self.root), "")]
        while stack:
            directory, prefix = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith(".") and not self.include_hidden:
                    continue
                rel = prefix + entry.name
                try:
                    if entry.is_symlink() and self._inside(os.path.realpath(entry.path)) is None:
                        continue
                    if entry.is_dir():
                        st = entry.stat()
                        key = (st.st_dev, st.st_ino)
                        if key not in seen_dirs and not self._dir_pruned(rel):
                            seen_dirs.add(key)
                            stack.append((entry.path, rel + "/"))
                    elif entry.is_file() and self._allowed(rel) and self._target_allowed(entry.path):
                        found[rel] = entry.stat()
                except OSError:
                    continue
        return found

    # -- refresh -------------------------------------------------------------------------------

    def _known(self) -> dict[str, _Known]:
        rows = self._query("SELECT ref, size, mtime_ns, sha256, file_id FROM files")
        return {ref: _Known(size, mtime, sha, file_id) for ref, size, mtime, sha, file_id in rows}

    def needs_refresh(self) -> bool:
        """Cheap check: never refreshed, or a file appeared, vanished or changed size/mtime."""
        if not self._query("SELECT 1 FROM meta WHERE key = 'last_refresh'"):
            return True
        known = self._known()
        found = self._walk()
        if found.keys() != known.keys():
            return True
        return any((s.st_size, s.st_mtime_ns) != (known[r].size, known[r].mtime_ns) for r, s in found.items())

    def refresh(self, progress: Progress | None = None) -> IndexReport:
        """Bring the index up to date; only files whose size/mtime and sha256 changed are re-extracted."""
        started = time.monotonic()
        with self._refresh_lock:
            found = self._walk()
            known = self._known()
            removed = [ref for ref in known if ref not in found]
            counts: Counter[str] = Counter()
            for i, (ref, st) in enumerate(sorted(found.items()), 1):
                old = known.get(ref)
                if old and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns):
                    counts["unchanged"] += 1
                else:
                    outcome, chunks = self._update(ref, st, old)
                    counts[outcome] += 1
                    counts["chunks"] += chunks
                    if outcome == "gone" and old:
                        removed.append(ref)
                if progress is not None:
                    progress(i, len(found), ref)
            with self._tx() as db:
                for ref in removed:
                    db.execute("DELETE FROM files WHERE ref = ?", (ref,))
                    db.execute("DELETE FROM chunks WHERE rowid >= ? AND rowid < ?", _rowids(known[ref].file_id))
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('last_refresh', ?)",
                    (datetime.now(UTC).isoformat(timespec="seconds"),),
                )
            self._query("PRAGMA wal_checkpoint(TRUNCATE)")  # keep the -wal file from holding a second copy
        return IndexReport(
            files_seen=len(found) - counts["gone"],
            files_indexed=counts["indexed"],
            files_unchanged=counts["unchanged"],
            files_removed=len(removed),
            chunks=counts["chunks"],
            skipped=tuple(self.skipped()),
            seconds=round(time.monotonic() - started, 3),
        )

    def _update(self, ref: str, st: os.stat_result, old: _Known | None) -> tuple[str, int]:
        """Re-read one changed file: ("indexed" | "skipped" | "unchanged" | "gone", chunks written)."""
        if st.st_size > self.max_file_bytes:
            return self._store(ref, old, st, None, SkippedFile(ref, too_large_reason(st.st_size, self.max_file_bytes)))
        try:
            with open(self.root / ref, "rb") as handle:
                fst = os.fstat(handle.fileno())
                data = handle.read(self.max_file_bytes + 1)
        except FileNotFoundError:
            return "gone", 0
        except OSError as exc:
            return self._store(ref, old, st, None, SkippedFile(ref, f"unreadable file ({type(exc).__name__})"))
        sha = hashlib.sha256(data).hexdigest()
        if old is not None and old.sha256 == sha:
            with self._tx() as db:
                db.execute(
                    "UPDATE files SET size = ?, mtime_ns = ? WHERE ref = ?",
                    (fst.st_size, fst.st_mtime_ns, ref),
                )
            return "unchanged", 0
        if len(data) > self.max_file_bytes:
            size = max(fst.st_size, len(data))
            return self._store(ref, old, fst, sha, SkippedFile(ref, too_large_reason(size, self.max_file_bytes)))
        result = extract_bytes(data, PurePosixPath(ref).name, ref, self.max_file_bytes)
        return self._store(ref, old, fst, sha, result)

    def _store(
        self,
        ref: str,
        old: _Known | None,
        st: os.stat_result,
        sha: str | None,
        result: ExtractedText | SkippedFile,
    ) -> tuple[str, int]:
        """Replace one file's row and chunks in a single transaction."""
        chunks = split_chunks(result.text, self.chunk_words) if isinstance(result, ExtractedText) else []
        chunks = chunks[: 1 << ROWID_BITS]
        with self._tx() as db:
            if old is not None:
                file_id = old.file_id
                db.execute("DELETE FROM chunks WHERE rowid >= ? AND rowid < ?", _rowids(file_id))
            else:
                file_id = db.execute("SELECT coalesce(max(file_id), 0) + 1 FROM files").fetchone()[0]
            if isinstance(result, ExtractedText):
                title, media_type, status, reason = result.title, result.media_type, "indexed", None
            else:
                title, media_type, status, reason = None, None, "skipped", result.reason
            db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ref, st.st_size, st.st_mtime_ns, sha, title, media_type, status, reason, file_id),
            )
            low = _rowids(file_id)[0]
            db.executemany(
                "INSERT INTO chunks (rowid, ref, chunk_index, title, body) VALUES (?, ?, ?, ?, ?)",
                [(low + i, ref, i, title, chunk) for i, chunk in enumerate(chunks)],
            )
        return status, len(chunks)

    # -- reading -------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 10, *, per_ref: int = 1) -> list[DocumentHit]:
        """Best chunks by bm25, at most `per_ref` per document.

        All terms must match; when that finds nothing, any term may (natural-language queries).
        """
        if not query or not query.strip():
            raise InvalidRequest(f'source "{self.name}": the search query is empty')
        if limit < 1 or per_ref < 1:
            raise InvalidRequest(f'source "{self.name}": limit and per_ref must be positive')
        strict = fts_query(query, "AND")
        if strict is None:
            return []
        hits = self._match(strict, limit, per_ref)
        loose = fts_query(query, "OR")
        if not hits and loose != strict and loose is not None:
            hits = self._match(loose, limit, per_ref)
        return hits

    def _match(self, fts: str, limit: int, per_ref: int) -> list[DocumentHit]:
        ranked = f"""
            SELECT rowid, score FROM (
                SELECT rowid, score, row_number() OVER (PARTITION BY ref ORDER BY score DESC) AS n
                FROM (SELECT rowid, ref, -bm25(chunks, 0, 0, {TITLE_WEIGHT}, 1) AS score
                      FROM chunks WHERE chunks MATCH ?)
            ) WHERE n <= ? ORDER BY score DESC LIMIT ?"""
        try:
            rows = self._query(ranked, (fts, per_ref, limit))
        except sqlite3.OperationalError:  # should not happen with quoted terms; plain words as a last resort
            words = re.findall(r"\w+", fts)
            if not words:
                return []
            try:
                rows = self._query(ranked, (" OR ".join(f'"{w}"' for w in words), per_ref, limit))
            except sqlite3.OperationalError:
                return []
        hits: list[DocumentHit] = []
        for rowid, score in rows:
            found = self._query("SELECT ref, title, body, chunk_index FROM chunks WHERE rowid = ?", (rowid,))
            if found:
                ref, title, body, chunk_index = found[0]
                hits.append(DocumentHit(ref, title or PurePosixPath(ref).name, body, int(chunk_index), score))
        return hits

    def read(self, ref: str) -> Document:
        """The current content of a file (not the index), after `resolve_ref` validation."""
        path = self.resolve_ref(ref)
        result = extract(path, self.max_file_bytes, ref=ref)
        if isinstance(result, SkippedFile):
            raise DocumentUnreadable(f'source "{self.name}": cannot read {ref!r}: {result.reason}')
        return Document(ref, result.title, result.text, result.media_type)

    def indexed_refs(self) -> list[str]:
        """Refs of every indexed document."""
        return [ref for (ref,) in self._query("SELECT ref FROM files WHERE status = 'indexed' ORDER BY ref")]

    def skipped(self) -> list[SkippedFile]:
        rows = self._query("SELECT ref, reason FROM files WHERE status = 'skipped' ORDER BY ref")
        return [SkippedFile(ref, reason or "") for ref, reason in rows]

    def stats(self) -> DocumentStats:
        indexed = [ref for (ref,) in self._query("SELECT ref FROM files WHERE status = 'indexed'")]
        last = self._query("SELECT value FROM meta WHERE key = 'last_refresh'")
        return DocumentStats(
            documents=len(indexed),
            chunks=self._query("SELECT count(*) FROM chunks")[0][0],
            skipped=self._query("SELECT count(*) FROM files WHERE status = 'skipped'")[0][0],
            types=dict(Counter(PurePosixPath(ref).suffix.lower() or "(none)" for ref in indexed)),
            last_refresh=last[0][0] if last else None,
            index_bytes=sum(os.path.getsize(p) for p in self._index_files if os.path.exists(p)),
            where=str(self.root),
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()
