"""Plain-text extraction per file type; bad files become `SkippedFile`, never exceptions.

Skip reasons name the kind of problem only: the file content may hold personal data.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import pairwise, zip_longest
from pathlib import Path, PurePosixPath
from typing import Any

from connectors.documents import SkippedFile

TEXT_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".rst": "text/x-rst",
    ".log": "text/plain",
}
MEDIA_TYPES = {
    **TEXT_TYPES,
    ".html": "text/html",
    ".htm": "text/html",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
INVALID_UTF8_SHARE = 0.02
"""More invalid bytes than this share means "not text" (a few stray bytes are replaced with U+FFFD)."""
DOCX_EXPANSION = 20
DOCX_MIN_UNCOMPRESSED = 50_000_000
"""A DOCX may expand to max(DOCX_EXPANSION * max_bytes, this) bytes before it is taken for a zip bomb."""


@dataclass(frozen=True)
class ExtractedText:
    title: str
    text: str
    media_type: str


class _Skip(Exception):
    """Internal: carries a skip reason out of a format handler."""


def extract(path: Path, max_bytes: int, *, ref: str | None = None) -> ExtractedText | SkippedFile:
    """Read and extract `path`; `ref` (default: the path) labels a SkippedFile."""
    label = ref if ref is not None else path.as_posix()
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return SkippedFile(label, f"unreadable file ({type(exc).__name__})")
    if len(data) > max_bytes:
        try:
            size = max(path.stat().st_size, len(data))
        except OSError:
            size = len(data)
        return SkippedFile(label, too_large_reason(size, max_bytes))
    return extract_bytes(data, path.name, label, max_bytes)


def too_large_reason(size: int, max_bytes: int) -> str:
    return f"larger than max_file_bytes ({_human(size)} > {_human(max_bytes)})"


def extract_bytes(data: bytes, name: str, ref: str, max_bytes: int) -> ExtractedText | SkippedFile:
    """Extract already-read bytes; `name` (a file name) selects the format by its suffix."""
    suffix = PurePosixPath(name).suffix.lower()
    title = PurePosixPath(name).name
    try:
        return _dispatch(data, suffix, title, max_bytes)
    except _Skip as skip:
        return SkippedFile(ref, str(skip))
    except Exception as exc:  # any parser bug or limit on a hostile file: skip, keep indexing
        return SkippedFile(ref, f"extraction failed ({type(exc).__name__})")


def _dispatch(data: bytes, suffix: str, title: str, max_bytes: int) -> ExtractedText:
    if suffix == ".pdf":
        return _pdf(data, title)
    if suffix == ".docx":
        return _docx(data, title, max_bytes)
    if suffix in MEDIA_TYPES:
        text = decode_text(data, f"not valid UTF-8 text ({suffix} file with binary content)")
    else:
        text = decode_text(data, "not UTF-8 text and not a known format")
    if suffix in (".html", ".htm"):
        return _html(text, title)
    if suffix == ".json":
        return _json(text, title)
    if suffix == ".jsonl":
        return _jsonl(text, title)
    if suffix == ".csv":
        return _csv(text, title)
    if suffix in (".md", ".markdown"):
        return ExtractedText(_markdown_title(text) or title, text, "text/markdown")
    if suffix == ".rst":
        return ExtractedText(_rst_title(text) or title, text, "text/x-rst")
    return ExtractedText(title, text, "text/plain")


def decode_text(data: bytes, reason: str) -> str:
    """UTF-8 (or BOM-marked UTF-16) text; raises _Skip(reason) for binary-looking bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _Skip(reason) from None
    if b"\x00" in data:
        raise _Skip(reason)
    text = data.decode("utf-8-sig", errors="surrogateescape")
    invalid = sum(1 for ch in text if "\udc80" <= ch <= "\udcff")
    if invalid > INVALID_UTF8_SHARE * len(data):
        raise _Skip(reason)
    if invalid:
        text = re.sub("[\udc80-\udcff]", "\ufffd", text)
    return text


def flatten_json(value: Any, prefix: str = "") -> Iterator[str]:
    """Lines "key.path: value", so field names give the values context (list items keep the key)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten_json(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from flatten_json(item, prefix)
    elif value is not None:
        rendered = json.dumps(value) if isinstance(value, bool) else str(value)
        yield f"{prefix}: {rendered}" if prefix else rendered


def _human(size: int) -> str:
    for unit, factor in (("MB", 1_000_000), ("kB", 1_000)):
        if size >= factor:
            return f"{size / factor:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size} bytes"


def _markdown_title(text: str) -> str | None:
    in_fence = False
    previous = ""
    for line in text.splitlines()[:500]:
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence:
            heading = re.match(r"#{1,6}\s+(.+?)\s*#*$", stripped)
            if heading:
                return heading.group(1)
            if previous and re.fullmatch(r"=+", stripped):
                return previous
        previous = stripped if not in_fence else ""
    return None


def _rst_title(text: str) -> str | None:
    lines = [line.rstrip() for line in text.splitlines()[:200]]
    for current, underline in pairwise(lines):
        words = current.strip()
        if (
            words
            and not re.fullmatch(r"(\W)\1*", words)
            and re.fullmatch(r"([=\-~^\"'`#*+.:_])\1*", underline)
            and len(underline) >= len(words)
        ):
            return words
    return None


class _HtmlText(HTMLParser):
    SKIP = frozenset({"script", "style", "noscript", "template"})
    BLOCK = frozenset(
        {
            *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption"),
            *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav"),
            *("ol", "p", "pre", "section", "table", "tr", "ul"),
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.h1: list[str] = []
        self._skip = 0
        self._where: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag in ("title", "h1") and self._where is None:
            self._where = tag
        if tag in self.BLOCK or tag in ("td", "th"):
            self.parts.append("\n" if tag in self.BLOCK else " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == self._where:
            self._where = None
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._where == "title":
            self.title.append(data)
            return
        if self._where == "h1" and not self.h1:
            self.h1.append(data)
        self.parts.append(data)


def _html(text: str, fallback: str) -> ExtractedText:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    body = "\n".join(line for line in lines if line)
    title = " ".join("".join(parser.title).split()) or " ".join("".join(parser.h1).split())
    return ExtractedText(title or fallback, body, "text/html")


def _json(text: str, title: str) -> ExtractedText:
    try:
        value = json.loads(text)
    except ValueError:
        raise _Skip("invalid JSON") from None
    return ExtractedText(title, "\n".join(flatten_json(value)), "application/json")


def _jsonl(text: str, title: str) -> ExtractedText:
    records: list[str] = []
    bad = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            records.append("\n".join(flatten_json(json.loads(line))))
        except ValueError:
            bad += 1
    if bad and not records:
        raise _Skip("invalid JSON Lines")
    return ExtractedText(title, "\n\n".join(records), "application/jsonl")


def _csv(text: str, title: str) -> ExtractedText:
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = csv.reader(io.StringIO(text, newline=""), dialect)
        header = [name.strip() for name in next(rows, [])]
        lines: list[str] = []
        for row in rows:
            cells = zip_longest(header, row, fillvalue="")
            pairs = [
                f"{name or f'column {i}'}: {value.strip()}" for i, (name, value) in enumerate(cells, 1) if value.strip()
            ]
            if pairs:
                lines.append("; ".join(pairs))
    except csv.Error:
        raise _Skip("malformed CSV") from None
    return ExtractedText(title, "\n".join(lines), "text/csv")


def _pdf(data: bytes, fallback: str) -> ExtractedText:
    from pypdf import PasswordType, PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception:
        raise _Skip("corrupt PDF") from None
    if encrypted:
        try:
            opened = reader.decrypt("")
        except Exception:
            raise _Skip("encrypted PDF (unsupported encryption)") from None
        if opened == PasswordType.NOT_DECRYPTED:
            raise _Skip("encrypted PDF (password required)")
    try:
        pages = list(reader.pages)
    except Exception:
        raise _Skip("corrupt PDF (unreadable page tree)") from None
    texts: list[str] = []
    failed = 0
    for page in pages:
        try:
            texts.append(page.extract_text() or "")
        except Exception:
            failed += 1
    if pages and failed == len(pages):
        raise _Skip("corrupt PDF (text extraction failed)")
    text = "\n\n".join(t.strip() for t in texts if t.strip())
    if not text:
        raise _Skip("PDF has no extractable text (scanned images?)")
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:
        title = None
    return ExtractedText(str(title).strip() if title else fallback, text, "application/pdf")


def _docx(data: bytes, fallback: str, max_bytes: int) -> ExtractedText:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise _Skip("corrupt DOCX: bad zip") from None
    if expanded > max(DOCX_EXPANSION * max_bytes, DOCX_MIN_UNCOMPRESSED):
        raise _Skip(f"DOCX expands too much when unzipped ({_human(expanded)})")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError):
        raise _Skip("corrupt DOCX: not a Word document") from None
    except Exception as exc:
        raise _Skip(f"corrupt DOCX: {type(exc).__name__}") from None
    blocks: list[str] = []
    heading: str | None = None
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                seen: list[object] = []
                cells = []
                for cell in row.cells:
                    if not any(cell._tc is tc for tc in seen):  # merged cells repeat the same element
                        seen.append(cell._tc)
                        cells.append(cell.text.strip())
                blocks.append(" | ".join(cells))
        elif item.text.strip():
            blocks.append(item.text)
            style = item.style.name if item.style is not None else ""
            if heading is None and style in ("Title", "Heading 1"):
                heading = item.text.strip()
    title = (document.core_properties.title or "").strip() or heading or fallback
    return ExtractedText(title, "\n".join(blocks), MEDIA_TYPES[".docx"])
