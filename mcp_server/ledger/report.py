"""`maskwire usage`: the ledger for people, as a table, JSON, CSV or a self-contained HTML page.

The per-agent summary is computed in the database (`summary.py`). The per-call listing (`--calls`) is written
as rows stream out of the database, in every format, so its memory does not grow with the ledger. Every
cell of the HTML page is escaped; it loads nothing from elsewhere.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TextIO

from mcp_server.ledger.entry import QUOTA_EXCEEDED, LedgerEntry
from mcp_server.ledger.store import Filters
from mcp_server.ledger.summary import AgentUsage, Totals

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
        raise ValueError(f'"{text}": use a duration like 7d, 12h, 30m or an ISO date') from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def summarise(entries: Iterable[LedgerEntry]) -> list[AgentUsage]:
    """Per-agent usage of entries already in memory (a demo session's few calls); a whole ledger is summarised
    in the database by `summary.usage_by_agent`."""
    by_agent: dict[str, AgentUsage] = {}
    durations: dict[str, list[float]] = {}
    for e in entries:
        u = by_agent.setdefault(e.agent, AgentUsage(e.agent))
        u.calls += 1
        u.ok += e.status == "ok"
        u.denied += e.status == "denied"
        u.over_quota += e.status == "denied" and e.error_class == QUOTA_EXCEEDED
        u.error += e.status not in ("ok", "denied")
        u.tokens_in += e.tokens_in
        u.tokens_out += e.tokens_out
        u.rows += e.rows
        u.entities.update(e.entities)
        u.tools[e.tool] += 1
        u.first = min(u.first or e.ts, e.ts)
        u.last = max(u.last or e.ts, e.ts)
        durations.setdefault(e.agent, []).append(e.duration_ms)
    for agent, u in by_agent.items():
        u.p50_ms, u.p95_ms = percentile(durations[agent], 50), percentile(durations[agent], 95)
    return [by_agent[a] for a in sorted(by_agent)]


def describe_filters(filters: Filters) -> str:
    parts = []
    if filters.agent:
        parts.append(f"agent {filters.agent}")
    if filters.tool:
        parts.append(f"tool {filters.tool}")
    if filters.status:
        parts.append(f"status {filters.status}")
    if filters.since:
        parts.append(f"since {filters.since.astimezone(dt.UTC).isoformat(timespec='seconds')}")
    if filters.until:
        parts.append(f"until {filters.until.astimezone(dt.UTC).isoformat(timespec='seconds')}")
    return ", ".join(parts) or "all calls"


def _entities_text(entities: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(entities.items(), key=lambda kv: (-kv[1], kv[0]))) or "-"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(_table_lines(cells, widths))


def _table_line(row: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(
        c.ljust(w) if i == len(row) - 1 else c.rjust(w) if i else c.ljust(w)
        for i, (c, w) in enumerate(zip(row, widths, strict=True))
    ).rstrip()


def _table_lines(cells: Sequence[Sequence[str]], widths: Sequence[int]) -> Iterator[str]:
    for n, row in enumerate(cells):
        yield _table_line(row, widths)
        if n == 0:
            yield "  ".join("-" * w for w in widths)


# -- the per-agent summary ---------------------------------------------------------------------------------

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
    "first",
    "last",
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


def _range_text(totals: Totals) -> str:
    if not totals.first:
        return "no calls"
    return f"{totals.first} to {totals.last}"


def render_summary(usages: Sequence[AgentUsage], fmt: str, filters: Filters | None = None) -> str:
    data = [u.as_dict() for u in usages]
    totals = Totals.of(list(usages))
    scope = describe_filters(filters or Filters())
    if fmt == "html":
        head = _totals_html(totals, scope)
        return _page("Maskwire usage by agent", head, SUMMARY_HEADERS, _summary_rows(data))
    if fmt == "json":
        return json.dumps(data, indent=2)  # a list of agents, as it always was (totals are their sums)
    if fmt == "csv":
        out = _Lines()
        writer = csv.writer(out)
        writer.writerow(SUMMARY_CSV_COLUMNS)
        for d in data:
            cells = {**d, "entities_masked": json.dumps(d["entities_masked"], sort_keys=True)}
            writer.writerow([cells[key] for key in SUMMARY_CSV_COLUMNS])
        return "".join(out.parts)
    if not data:
        return f"No calls recorded ({scope})."
    footer = (
        f"\n{totals.calls} calls ({totals.ok} ok, {totals.denied} denied, {totals.error} error), "
        f"{totals.tokens_in} tokens in, {totals.tokens_out} tokens out; {_range_text(totals)} ({scope})"
    )
    return text_table(SUMMARY_HEADERS, _summary_rows(data)) + footer


class _Lines:
    """A file-like sink for csv.writer."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)


# -- the per-call listing ----------------------------------------------------------------------------------

CALL_HEADERS = ("id", "time", "agent", "tool", "source", "status", "rows", "tok in", "tok out", "ms", "entities")
CALL_CSV_COLUMNS = (
    "id",
    "ts",
    "agent",
    "client_name",
    "client_version",
    "tool",
    "source",
    "status",
    "error_class",
    "error_message",
    "rows",
    "tokens_in",
    "tokens_out",
    "duration_ms",
    "entities",
    "arguments",
)


def _status(entry: LedgerEntry) -> str:
    return "over quota" if entry.error_class == QUOTA_EXCEEDED else entry.status


def request_text(entry: LedgerEntry) -> str:
    """What the agent asked, as stored (masked): the SQL, the search text, or the arguments."""
    args = entry.arguments or {}
    if isinstance(args.get("sql"), str):
        return str(args["sql"])
    if entry.tool == "search" and isinstance(args.get("query"), str):
        return str(args["query"])
    shown = {k: v for k, v in args.items() if v is not None}
    return json.dumps(shown, ensure_ascii=False, sort_keys=True) if shown else ""


def _call_cells(entry: LedgerEntry, full_time: bool) -> list[str]:
    return [
        str(entry.id),
        entry.ts if full_time else entry.ts[:19].replace("T", " "),
        entry.agent,
        entry.tool,
        entry.source or "-",
        _status(entry),
        str(entry.rows),
        str(entry.tokens_in),
        str(entry.tokens_out),
        str(round(entry.duration_ms)),
        _entities_text(entry.entities),
    ]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def write_calls(
    entries: Iterable[LedgerEntry],
    fmt: str,
    out: TextIO,
    *,
    totals: Totals | None = None,
    filters: Filters | None = None,
    widths: Sequence[int] | None = None,
) -> int:
    """Write the listing as entries arrive; the number written. `totals` heads the HTML page; `widths` (one per
    column of the table, from `summary.call_widths`) lets the table stream with aligned columns."""
    scope = describe_filters(filters or Filters())
    n = 0
    if fmt == "json":
        out.write("[")
        for entry in entries:
            record = {**entry.record(), "id": entry.id, "arguments": entry.arguments, "entities": entry.entities}
            out.write(("\n  " if n == 0 else ",\n  ") + json.dumps(record, ensure_ascii=False))
            n += 1
        out.write("\n]\n" if n else "]\n")
        return n
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(CALL_CSV_COLUMNS)
        for entry in entries:
            record = {**entry.record(), "id": entry.id}
            writer.writerow([record[k] for k in CALL_CSV_COLUMNS])
            n += 1
        return n
    if fmt == "html":
        out.write(_page_start("Maskwire calls", _totals_html(totals, scope) if totals else ""))
        out.write("<table><thead><tr>")
        for h in (*CALL_HEADERS[:6], "error", *CALL_HEADERS[6:], "request (masked, as stored)"):
            out.write(f"<th>{html.escape(h)}</th>")
        out.write("</tr></thead><tbody>\n")
        for entry in entries:
            cells = _call_cells(entry, full_time=True)
            error = ": ".join(x for x in (entry.error_class, entry.error_message) if x)
            row = [*cells[:6], error, *cells[6:]]
            out.write("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row))
            out.write(f"<td><code>{html.escape(request_text(entry))}</code></td></tr>\n")
            n += 1
        out.write("</tbody></table></body></html>\n")
        return n
    header = list(CALL_HEADERS)
    widths = list(widths) if widths else [len(h) for h in header]
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for line in _table_lines([header], widths):
        out.write(line + "\n")
    for entry in entries:
        out.write(_table_line(_call_cells(entry, full_time=False), widths) + "\n")
        request = request_text(entry)
        if request:
            out.write(f"    {entry.tool}: {_one_line(request)}\n")
        if entry.error_class or entry.error_message:
            error = ": ".join(x for x in (entry.error_class, entry.error_message) if x)
            out.write(f"    error: {_one_line(error)}\n")
        n += 1
    if n == 0:
        out.write(f"No calls recorded ({scope}).\n")
    elif totals is not None:
        out.write(f"{totals.calls} calls; {_range_text(totals)} ({scope})\n")
    return n


def render_calls(entries: Iterable[LedgerEntry], fmt: str) -> str:
    """The listing as one string (small listings and tests; the CLI streams with `write_calls`)."""
    out = _Lines()
    entries = list(entries)
    widths = [max([len(h)] + [len(_call_cells(e, False)[i]) for e in entries]) for i, h in enumerate(CALL_HEADERS)]
    write_calls(entries, fmt, out, widths=widths)  # type: ignore[arg-type]
    return "".join(out.parts)


# -- HTML --------------------------------------------------------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
    "th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}th{background:#f3f3f3}"
    "code{white-space:pre-wrap;word-break:break-all}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}"
)


def _page_start(title: str, head: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{head}"
    )


def _totals_html(totals: Totals | None, scope: str) -> str:
    if totals is None:
        return ""
    items = [
        ("covers", scope),
        ("time range", _range_text(totals)),
        ("calls", f"{totals.calls} ({totals.ok} ok, {totals.denied} denied, {totals.error} error)"),
        ("over quota", str(totals.over_quota)),
        ("tokens", f"{totals.tokens_in} in, {totals.tokens_out} out"),
        ("rows returned", str(totals.rows)),
    ]
    return "<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items) + "</dl>"


def _page(title: str, head: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A self-contained HTML page with one table (every cell escaped)."""
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return _page_start(title, head) + f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></body></html>"
