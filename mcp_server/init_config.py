"""`maskwire init`: connect to the given databases and folders, classify every column, and write a commented
`maskwire.toml` that shows each column's masking decision.

Nothing is written when a source cannot be reached (the reason is printed instead), or when the file exists and
`--force` is not given. A file with a database password in it is created readable by its owner only.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from mcp_server.config import Config, ConfigError, source_entries
from mcp_server.paths import private_file
from mcp_server.source_report import SourceReport, inspect_sources

HEADER = """\
# Maskwire configuration, written by `maskwire init` on {date}.
# Reference: docs/configuration.md. `maskwire check` connects to every source and prints the column decisions.
#
# Masking decisions: every column is masked whole as one entity type (e.g. EMAIL_ADDRESS), scanned for personal
# data (free text), or returned clear. They were made from the column's name and type, then from sampled values,
# and are made again when the schema changes. To fix one, add it under the source's [sources.columns], e.g.
#   "customers.notes" = {{ kind = "text" }}
#   "customers.vip_code" = {{ kind = "pii", entity = "ID" }}
#   "orders.status" = {{ kind = "clear" }}

[server]
name = "maskwire"
# state_dir = ".maskwire"   # the masking key, the ledger and the token vault (default: next to this file)

[masking]
default_operator = "pseudonym"   # pseudonym | redact | partial | hash | generalize | keep
"""


def ask_sources() -> tuple[list[str], list[str]]:
    """Interactive `init`: database URLs and document folders, one per line, an empty line to finish."""
    print("Database URLs, one per line (sqlite:///shop.sqlite, postgresql://user@host/db, mysql://...).")
    dsns = _ask_lines("database URL (empty to go on): ")
    print("Folders of documents to search (PDF, Word, text, Markdown, HTML...), one per line.")
    docs = _ask_lines("folder (empty to go on): ")
    return dsns, docs


def _ask_lines(prompt: str) -> list[str]:
    lines: list[str] = []
    while True:
        try:
            line = input(prompt).strip()
        except EOFError:
            return lines
        if not line:
            return lines
        lines.append(line)


def run_init(dsns: list[str], docs: list[str], target: Path, *, force: bool = False) -> int:
    if not dsns and not docs:
        raise ConfigError("maskwire init needs at least one --dsn URL or --docs FOLDER")
    if target.exists() and not force:
        raise ConfigError(f"{target} exists: pass --force to replace it, or --output to write another file")
    entries = source_entries(dsns, docs)
    config = Config.model_validate({"sources": entries}).model_copy(update={"path": target.resolve()})
    reports: list[SourceReport] = []
    for report in inspect_sources(config):
        status = f"ok, {report.summary}" if report.ok else f"UNAVAILABLE: {report.problem}"
        print(f"[{report.name}] {report.where}: {status}", flush=True)
        reports.append(report)
    failed = [r for r in reports if not r.ok]
    if failed:
        print(
            f"Nothing written: fix the {len(failed)} unavailable source(s) above and run init again.", file=sys.stderr
        )
        return 1
    text = render(entries, reports)
    if any(_has_password(e) for e in entries):
        private_file(target, text.encode("utf-8"))
        print(
            f"{target} holds a database password: it was created readable by you only (0600). You may replace "
            "the password with ${ENV_VAR}: Maskwire expands environment variables in the file."
        )
    else:
        target.write_text(text, encoding="utf-8")
    print(f"\nWrote {target} ({len(entries)} source(s)).")
    print(next_steps(target.resolve()))
    return 0


def _has_password(entry: dict[str, Any]) -> bool:
    return "url" in entry and make_url(entry["url"]).password is not None


def render(entries: list[dict[str, Any]], reports: list[SourceReport]) -> str:
    parts = [HEADER.format(date=datetime.now(UTC).strftime("%Y-%m-%d"))]
    for entry, report in zip(entries, reports, strict=True):
        parts.append("\n[[sources]]")
        for key, value in entry.items():
            parts.append(f"{key} = {json.dumps(value)}")
        parts.append(f"# {report.summary}")
        if report.tables:
            parts.append("# Columns and how they are masked now:")
            for table, columns in report.tables.items():
                parts.append(f"#   {table}")
                for column in columns:
                    decision = column.decision
                    parts.append(f"#     {column.name:<28} {decision.label:<34} ({decision.reason})")
            parts.append("[sources.columns]")
            parts.append('# "table.column" = { kind = "pii" | "text" | "clear", entity = "PERSON" }')
    return "\n".join(parts) + "\n"


def next_steps(config: Path) -> str:
    maskwire = Path(sys.executable).with_name("maskwire")
    command = str(maskwire) if maskwire.exists() else f"{sys.executable} -m mcp_server"
    return (
        "Next:\n"
        f"  maskwire check                           # in this folder: status and column decisions again\n"
        f"  maskwire install claude|claude-code|vscode|cursor|windsurf   # register it in a client\n"
        f"  claude mcp add maskwire -- {command} serve --config {config}\n"
        "Or run the server yourself: maskwire serve (stdio) or maskwire serve --transport http (needs an agent token)."
    )
