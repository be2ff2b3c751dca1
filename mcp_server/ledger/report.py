"""`maskwire usage`: per-agent summaries of the ledger as a table, JSON, CSV or an HTML page."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcp_server.ledger.store import QUOTA_EXCEEDED, LedgerEntry


@dataclass
class AgentUsage:
    agent: str
    calls: int = 0
    ok: int = 0
    denied: int = 0
    over_quota: int = 0
    """Denied calls refused because the agent was over a quota (counted in `denied` too)."""
    error: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    rows: int = 0
    entities: Counter[str] = field(default_factory=Counter)
    durations: list[float] = field(default_factory=list)
    tools: Counter[str] = field(default_factory=Counter)

    def add(self, entry: LedgerEntry) -> None:
        self.calls += 1
        if entry.status == "ok":
            self.ok += 1
        elif entry.status == "denied":
            self.denied += 1
            if entry.error_class == QUOTA_EXCEEDED:
                self.over_quota += 1
        else:
            self.error += 1
        self.tokens_in += entry.tokens_in
        self.tokens_out += entry.tokens_out
        self.rows += entry.rows
        self.entities.update(entry.entities)
        self.durations.append(entry.duration_ms)
        self.tools[entry.tool] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "calls": self.calls,
            "ok": self.ok,
            "denied": self.denied,
            "over_quota": self.over_quota,
            "error": self.error,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "rows": self.rows,
            "entities_masked": dict(sorted(self.entities.items())),
            "p50_ms": round(percentile(self.durations, 50), 1),
            "p95_ms": round(percentile(self.durations, 95), 1),
            "tools": dict(sorted(self.tools.items())),
        }


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def summarise(entries: Iterable[LedgerEntry]) -> list[AgentUsage]:
    by_agent: dict[str, AgentUsage] = {}
    for entry in entries:
        by_agent.setdefault(entry.agent, AgentUsage(entry.agent)).add(entry)
    return sorted(by_agent.values(), key=lambda u: u.agent)


_RELATIVE = re.compile(r"^(\d+)([smhdw])$")


def parse_since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """`7d`, `12h`, `30m`, `2w` or an ISO date/time (naive means UTC)."""
    now = now or dt.datetime.now(dt.UTC)
    match = _RELATIVE.match(text.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
        return now - dt.timedelta(seconds=amount * seconds)
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f'--since "{text}": use a duration like 7d, 12h, 30m or an ISO date') from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _entities_text(entities: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(entities.items(), key=lambda kv: (-kv[1], kv[0]))) or "-"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == len(row) - 1 else c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


SUMMARY_HEADERS = (
    "agent",
    "calls",
    "ok",
    "denied",
    "over quota",
    "error",
    "tokens in",
    "tokens out",
    "p50 ms",
    "p95 ms",
    "entities masked",
)
CALL_HEADERS = (
    "id",
    "time",
    "agent",
    "tool",
    "source",
    "status",
    "rows",
    "tok in",
    "tok out",
    "ms",
    "entities",
)


def _html(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A self-contained HTML page with one table (every cell escaped)."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    style = (
        "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}th{background:#f3f3f3}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )


SUMMARY_CSV_COLUMNS = (
    "agent",
    "calls",
    "ok",
    "denied",
    "over_quota",
    "error",
    "tokens_in",
    "tokens_out",
    "rows",
    "p50_ms",
    "p95_ms",
    "entities_masked",
)


def _summary_rows(data: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            d["agent"],
            d["calls"],
            d["ok"],
            d["denied"],
            d["over_quota"],
            d["error"],
            d["tokens_in"],
            d["tokens_out"],
            d["p50_ms"],
            d["p95_ms"],
            _entities_text(d["entities_masked"]),
        )
        for d in data
    ]


def _call_rows(entries: Sequence[LedgerEntry], full_time: bool) -> list[tuple[Any, ...]]:
    return [
        (
            e.id,
            e.ts if full_time else e.ts[:19].replace("T", " "),
            e.agent,
            e.tool,
            e.source or "-",
            "over quota" if e.error_class == QUOTA_EXCEEDED else e.status,
            e.rows,
            e.tokens_in,
            e.tokens_out,
            round(e.duration_ms),
            _entities_text(e.entities),
        )
        for e in entries
    ]


def render_summary(usages: Sequence[AgentUsage], fmt: str) -> str:
    data = [u.as_dict() for u in usages]
    if fmt == "html":
        return _html("Maskwire usage by agent", SUMMARY_HEADERS, _summary_rows(data))
    if fmt == "json":
        return json.dumps(data, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(SUMMARY_CSV_COLUMNS)
        for d in data:
            cells = {**d, "entities_masked": json.dumps(d["entities_masked"], sort_keys=True)}
            writer.writerow([cells[key] for key in SUMMARY_CSV_COLUMNS])
        return out.getvalue()
    if not data:
        return "No calls recorded."
    return text_table(SUMMARY_HEADERS, _summary_rows(data))


def render_calls(entries: Sequence[LedgerEntry], fmt: str) -> str:
    if fmt == "html":
        return _html("Maskwire calls", CALL_HEADERS, _call_rows(entries, full_time=True))
    if fmt == "json":
        return json.dumps(
            [{**e.record(), "id": e.id, "arguments": e.arguments, "entities": e.entities} for e in entries],
            indent=2,
            ensure_ascii=False,
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        keys = ["id", *LedgerEntry(agent="", tool="", status="").record().keys()]
        writer.writerow(keys)
        for e in entries:
            row = {**e.record(), "id": e.id}
            writer.writerow([row[k] for k in keys])
        return out.getvalue()
    if not entries:
        return "No calls recorded."
    return text_table(CALL_HEADERS, _call_rows(entries, full_time=False))
