"""Maskwire side by side with DBHub, an unmasked MCP database server, on the same PostgreSQL table in one run.

    .venv/bin/python benchmarks/peers.py [--reps 30] [--cold 5] [--cold-only] [--json OUT] [--write-docs]

Builds a table of customers (names, emails, phones, street addresses, birthdays, plans, amounts and a notes
column of free text, some naming people) from the fake-identity fixture in a PostgreSQL database with a random
name, dropped afterwards. Five servers run over stdio MCP, driven by one Python client (the `mcp` SDK):
Maskwire masking the table as classified, Maskwire with every column declared clear (what masking costs, and
what is left when it costs nothing), DBHub (`@bytebase/dbhub`, pinned in benchmarks/npm-tools/, installed
with `npm ci` into the gitignored `.npm-tools-bench/`, on Node 22 from the npm package `node`), and the floor
of a Python server on the same SDK (`python_floor.py`: the SQL run on psycopg, the rows returned as JSON text;
with `--structured`, in the shape of Maskwire's answer: structured content and a compact text). The same
100- and 1,000-row SELECT goes to each, request by request in rotating order, so the machine's load hits
every side alike; the first `--warm` repetitions are not counted. Server-side time is the ledger's duration
of each Maskwire call (the tool and the middleware, before the ledger write, serialisation and the pipe);
the rest of what the client waits for is the transport's share. Cold start is process spawn to the first
answered 100-row query, a fresh process each time, interleaved; `--cold-only` measures only that, and
`--compare-tree DIR` adds the same cold starts of the Maskwire installed in another checkout (DIR/.venv), in
the same rotation: before and after a change, in one sitting. The load average is recorded at the start and
at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
from _output import write_json
from detection import load_identities

PINNED = Path(__file__).resolve().parent / "npm-tools"
PINNED_FILES = ("package.json", "package-lock.json")
TOOLS_DIR = c.ROOT / ".npm-tools-bench"  # gitignored
STAMP = TOOLS_DIR / ".pinned.sha256"
NODE = TOOLS_DIR / "node_modules" / ".bin" / "node"
DBHUB = TOOLS_DIR / "node_modules" / "@bytebase" / "dbhub" / "dist" / "index.js"
MASKWIRE = Path(sys.executable).with_name("maskwire")
FLOOR = Path(__file__).resolve().parent / "python_floor.py"
FLOOR_LABEL = "Python SDK floor (unmasked)"
STRUCTURED_FLOOR_LABEL = "Python SDK floor, structured (unmasked)"
PG = "postgres@127.0.0.1:5432"
SIZES = (100, 1_000)
FRESH_START = {100: 1_000, 1_000: 3_000}
"""Where the pages of rows never returned before begin, per size (after every row the repeated queries read)."""
COLUMNS = "id, full_name, email, phone, street, city, birthday, plan, amount, signed_up, notes"
DOCS = c.ROOT / "docs" / "performance.md"
SECTION = "## Side by side with DBHub"
NOTES = (
    "Prefers email over phone calls.",
    "Asked for a refund on the last invoice; {name} will call back next week.",
    "Upgraded after the spring promotion.",
    "Spoke with {name} about the renewal, wants a quote by Friday.",
    "No answer on the phone, left a voicemail.",
    "Moved to {city}; update the shipping address.",
    "VIP since 2019, handle with care.",
    "Complained about late delivery twice.",
    "",
    "Referred by {name}.",
)
PLANS = ("free", "basic", "pro", "enterprise")


def install_dbhub() -> None:
    """Node 22 and DBHub in .npm-tools-bench/, (re)installed with `npm ci` when the pinned files changed."""
    digest = hashlib.sha256()
    for name in PINNED_FILES:
        digest.update((PINNED / name).read_bytes())
    wanted = digest.hexdigest()
    if NODE.exists() and DBHUB.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm not found on PATH: cannot install Node 22 and DBHub")
    TOOLS_DIR.mkdir(exist_ok=True)
    STAMP.unlink(missing_ok=True)
    for name in PINNED_FILES:
        shutil.copyfile(PINNED / name, TOOLS_DIR / name)
    # An older Node's npm installs packages that declare node>=22 with a warning; engine-strict would refuse them.
    step = [npm, "ci", "--no-audit", "--no-fund", "--engine-strict=false", "--loglevel=error"]
    run = subprocess.run(step, cwd=TOOLS_DIR, capture_output=True, text=True, timeout=900, check=False)
    if run.returncode != 0 or not NODE.exists() or not DBHUB.exists():
        raise SystemExit(f"`npm ci` in {TOOLS_DIR.name} failed:\n{run.stderr.strip()[:2000]}")
    STAMP.write_text(wanted + "\n")


def pinned_versions() -> dict[str, str]:
    return dict(json.loads((PINNED / "package.json").read_text(encoding="utf-8"))["dependencies"])


@contextmanager
def customers_database(rows: int, seed: int) -> Iterator[str]:
    """A PostgreSQL database with a random name holding `customers`; dropped on exit."""
    import psycopg

    name = f"maskwire_peers_{secrets.token_hex(4)}"
    with psycopg.connect(f"postgresql://{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        rng = random.Random(seed)
        people = load_identities()
        data = []
        for i in range(1, rows + 1):
            p = people[rng.randrange(len(people))]
            other = people[rng.randrange(len(people))]
            month, day, year = (int(x) for x in p["Birthday"].split("/"))
            note = rng.choice(NOTES).format(name=f"{other['GivenName']} {other['Surname']}", city=p["City"])
            data.append(
                (
                    i,
                    f"{p['GivenName']} {p['Surname']}",
                    p["EmailAddress"],
                    p["TelephoneNumber"],
                    p["StreetAddress"],
                    p["City"],
                    date(year, month, day),
                    rng.choice(PLANS),
                    round(rng.uniform(5, 5000), 2),
                    date.fromordinal(date(2024, 1, 1).toordinal() + rng.randrange(600)),
                    note,
                )
            )
        with psycopg.connect(f"postgresql://{PG}/{name}", autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE customers (id integer PRIMARY KEY, full_name text, email text, phone text, "
                "street text, city text, birthday date, plan text, amount numeric(10, 2), signed_up date, notes text)"
            )
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO customers ({COLUMNS}) VALUES ({', '.join(['%s'] * 11)})", data)
        yield name
    finally:
        with psycopg.connect(f"postgresql://{PG}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def maskwire_config(folder: Path, database: str, *, clear: tuple[str, ...] = ()) -> Path:
    """A config serving the database, with the `clear` columns of `customers` declared clear."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = ""
    if clear:
        columns = "[sources.columns]\n" + "".join(f'"customers.{n}" = {{ kind = "clear" }}\n' for n in clear)
    path = folder / "maskwire.toml"
    path.write_text(
        '[server]\nstate_dir = "state"\n\n'
        "[tokens]\nmax_output_tokens = 1000000\n\n"
        '[[sources]]\nname = "crm"\nkind = "sql"\n'
        f'url = "postgresql+psycopg://{PG}/{database}"\nmax_rows = {max(SIZES)}\n' + columns,
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class Side:
    label: str
    command: str
    args: tuple[str, ...]
    tool: str
    sql_argument: dict[str, str]  # extra arguments beside `sql`
    log: Path
    config: Path | None = None  # Maskwire's, for reading the ledger afterwards

    def params(self) -> Any:
        from mcp.client.stdio import StdioServerParameters

        env = {**os.environ, "MASKWIRE_LOG_LEVEL": "WARNING", "SERVER_LOG": str(self.log)}
        # Both servers print a banner or progress on stderr: into a log, not between the figures.
        wrapped = ["-c", 'exec "$0" "$@" 2>>"$SERVER_LOG"', self.command, *self.args]
        return StdioServerParameters(command="/bin/sh", args=wrapped, env=env, cwd=str(c.ROOT))

    def arguments(self, rows: int, columns: str = COLUMNS, offset: int = 0) -> dict[str, Any]:
        skip = f" OFFSET {offset}" if offset else ""
        return {**self.sql_argument, "sql": f"SELECT {columns} FROM customers ORDER BY id LIMIT {rows}{skip}"}


def sides(workdir: Path, database: str) -> list[Side]:
    """Maskwire masked, Maskwire with every column declared clear, DBHub, the Python SDK floor; and for cold
    starts only, Maskwire with `plan` declared clear (its four values would otherwise be scanned as free text)."""

    def maskwire(label: str, clear: tuple[str, ...]) -> Side:
        config = maskwire_config(workdir / label.split(",")[0].replace(" ", "-"), database, clear=clear)
        args = ("serve", "--config", str(config), "--agent", "peers")
        return Side(label, str(MASKWIRE), args, "query", {"source": "crm"}, config.with_name("stderr.log"), config)

    dsn = f"postgres://{PG}/{database}?sslmode=disable"
    dbhub_args = (str(DBHUB), "--transport", "stdio", "--dsn", dsn)
    dbhub = Side("DBHub", str(NODE), dbhub_args, "execute_sql", {}, workdir / "dbhub-stderr.log")
    floor_args = (str(FLOOR), f"postgresql://{PG}/{database}")
    floor = Side(FLOOR_LABEL, sys.executable, floor_args, "execute_sql", {}, workdir / "floor-stderr.log")
    structured_floor = Side(
        STRUCTURED_FLOOR_LABEL,
        sys.executable,
        (*floor_args, "--structured"),
        "execute_sql",
        {},
        workdir / "structured-floor-stderr.log",
    )
    every = tuple(n.strip() for n in COLUMNS.split(","))
    masked, declared = maskwire("Maskwire masked", ()), maskwire("Maskwire-plan-declared", ("plan",))
    return [masked, maskwire("Maskwire all clear", every), dbhub, floor, structured_floor, declared]


def check_answer(side: Side, result: Any, rows: int, raw: set[str]) -> tuple[int, int]:
    """The answer's size in bytes: its text, and its structured content as JSON (DBHub sends text only);
    fails on an error or a short page."""
    if result.is_error:
        raise SystemExit(f"{side.label}: the query failed: {result.content}")
    text = "".join(getattr(block, "text", "") for block in result.content)
    structured = json.dumps(result.structured_content) if result.structured_content is not None else ""
    if side.label == "DBHub":
        got = len(json.loads(text)["data"]["statements"][0]["rows"])
    elif side.label == FLOOR_LABEL:
        got = len(json.loads(text)["rows"])
    else:
        got = int(result.structured_content["row_count"])
        if side.label == "Maskwire masked" and any(value in text or value in structured for value in raw):
            raise SystemExit("a raw personal value came out of the masked server")
    if got != rows:
        raise SystemExit(f"{side.label}: {got} rows instead of {rows}")
    return len(text.encode()), len(structured.encode())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load() -> float:
    return os.getloadavg()[0]


def table_rows(reps: int, warm: int) -> int:
    """Rows enough for the repeated queries and for `warm + reps` fresh pages of each size."""
    return max(FRESH_START[n] + (warm + reps) * n for n in SIZES)


async def warm_runs(
    all_sides: list[Side], reps: int, warm: int, raw: Callable[[int, int], set[str]], *, fresh: bool = False
) -> dict[str, Any]:
    """Every side open at once; each repetition sends each size to each side, in rotating order. With `fresh`,
    repetition k of a size reads page k of rows no call has returned before (the same page on every side)."""
    from mcp import Client

    times: dict[tuple[str, int], list[float]] = {(s.label, n): [] for s in all_sides for n in SIZES}
    sizes: dict[tuple[str, int], tuple[int, int]] = {}
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(s.params())) for s in all_sides]
        for rep in range(warm + reps):
            for rows in SIZES:
                offset = FRESH_START[rows] + rep * rows if fresh else 0
                page_raw = raw(offset, rows)
                order = list(range(len(all_sides)))
                order = order[rep % len(order) :] + order[: rep % len(order)]
                for i in order:
                    side, client = all_sides[i], clients[i]
                    started = time.perf_counter()
                    result = await client.call_tool(side.tool, side.arguments(rows, offset=offset))
                    elapsed = time.perf_counter() - started
                    sizes[(side.label, rows)] = check_answer(side, result, rows, page_raw)
                    if rep >= warm:
                        times[(side.label, rows)].append(elapsed * 1000)
    return {"times": times, "bytes": sizes}


def server_durations(side: Side) -> list[float]:
    """Every query duration (ms) the side's ledger recorded, oldest first."""
    assert side.config is not None
    run = subprocess.run(
        [str(MASKWIRE), "usage", "--config", str(side.config), "--calls", "--format", "json", "--tool", "query"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    calls = json.loads(run.stdout)
    calls = calls["calls"] if isinstance(calls, dict) else calls
    return [float(call["duration_ms"]) for call in sorted(calls, key=lambda call: call["id"])]


async def cold_start(side: Side, columns: str) -> float:
    from mcp import Client

    started = time.perf_counter()
    async with Client(side.params()) as client:
        result = await client.call_tool(side.tool, side.arguments(SIZES[0], columns))
        elapsed = time.perf_counter() - started
    if result.is_error:
        raise SystemExit(f"{side.label}: the first query failed: {result.content}")
    return elapsed


def summarise(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p90": percentile(values, 0.9), "n": len(values), "runs": values}


def run(args: argparse.Namespace) -> dict[str, Any]:
    install_dbhub()
    c.require_fixtures(c.FAKE_IDENTITIES)
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "settings": {
            "reps": args.reps,
            "warm": args.warm,
            "cold": args.cold,
            "table_rows": table_rows(args.reps, args.warm),
        },
        "versions": pinned_versions(),
        "load_before": load(),
    }
    with (
        tempfile.TemporaryDirectory(prefix="maskwire-peers-") as tmp,
        customers_database(table_rows(args.reps, args.warm), 7) as db,
    ):
        all_sides = sides(Path(tmp), db)

        def raw(offset: int, rows: int) -> set[str]:
            return raw_values(db, offset, rows)

        masked, dbhub, floor, declared = all_sides[0], all_sides[2], all_sides[3], all_sides.pop()
        structured = COLUMNS.replace(", notes", "")  # a query that scans no free text
        cases = {
            "Maskwire masked": (masked, COLUMNS),
            "Maskwire masked, `plan` declared clear, without `notes` (no free text)": (declared, structured),
            "DBHub": (dbhub, COLUMNS),
            FLOOR_LABEL: (floor, COLUMNS),
        }
        if args.compare_tree is not None:
            other = str(args.compare_tree.resolve() / ".venv" / "bin" / "maskwire")
            for label in [label for label in cases if label.startswith("Maskwire")]:
                side, columns = cases[label]
                cases[f"{label}, {args.compare_tree.name}"] = (replace(side, command=other), columns)
        cold: dict[str, list[float]] = {label: [] for label in cases}
        for _ in range(args.cold):  # interleaved, a fresh process each time
            for label, (side, columns) in cases.items():
                cold[label].append(asyncio.run(cold_start(side, columns)))
        report["load_after_cold"] = load()
        report["cold_start_s"] = {
            label: {**summarise(values), "ratio_p50": statistics.median(values) / statistics.median(cold["DBHub"])}
            for label, values in cold.items()
            if values
        }
        if args.cold_only:
            report["load_after"] = report["load_after_cold"]
            return report
        phases = {
            "query_ms": asyncio.run(warm_runs(all_sides, args.reps, args.warm, raw)),
            "fresh_query_ms": asyncio.run(warm_runs(all_sides, args.reps, args.warm, raw, fresh=True)),
        }
        report["load_after"] = load()
        per_phase = len(SIZES) * (args.warm + args.reps)  # each ledger: the cold starts, then both phases
        recorded = {s.label: server_durations(s) for s in all_sides if s.config is not None}
        for number, (key, phase) in enumerate(phases.items()):
            queries = {}
            for rows in SIZES:
                per_side = {s.label: summarise(phase["times"][(s.label, rows)]) for s in all_sides}
                for side in all_sides:
                    per_side[side.label]["bytes"] = phase["bytes"][(side.label, rows)]
                    if side.label in recorded:  # both sizes alternate, warm-up first
                        calls = recorded[side.label][-2 * per_phase :]
                        calls = calls[number * per_phase : (number + 1) * per_phase]
                        server = statistics.median(calls[SIZES.index(rows) :: len(SIZES)][args.warm :])
                        per_side[side.label]["server_p50"] = server
                        per_side[side.label]["transport_share"] = 1 - server / per_side[side.label]["p50"]
                dbhub = per_side["DBHub"]["p50"]
                for label in per_side:
                    per_side[label]["ratio_p50"] = per_side[label]["p50"] / dbhub
                queries[str(rows)] = per_side
            report[key] = queries
    return report


def raw_values(database: str, offset: int, rows: int) -> set[str]:
    """The personal values of the rows of one page, which the masked server must never return."""
    import psycopg

    with psycopg.connect(f"postgresql://{PG}/{database}") as conn:
        found = conn.execute(
            "SELECT full_name, email, phone, street FROM customers ORDER BY id LIMIT %s OFFSET %s", (rows, offset)
        )
        return {str(v) for row in found for v in row if v and len(str(v)) > 5}


def markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    v = report["versions"]
    if "query_ms" not in report:  # --cold-only
        head = f"Cold starts only (--cold {s['cold']}); {report['date']}, load average {report['load_before']:.2f} to "
        return "\n".join([head + f"{report['load_after']:.2f}.", "", *cold_table(report)]) + "\n"
    lines = [
        SECTION,
        "",
        f"Command: `.venv/bin/python benchmarks/peers.py --write-docs` (--reps {s['reps']} --warm {s['warm']} "
        f"--cold {s['cold']}); {report['date']}. DBHub {v['@bytebase/dbhub']} on Node {v['node']}, Maskwire from "
        "this tree; PostgreSQL on the same host. Load average (1 min) "
        f"{report['load_before']:.2f} at the start, {report['load_after_cold']:.2f} after the cold starts, "
        f"{report['load_after']:.2f} at the end (2 shared cores).",
        "",
        f"`SELECT {COLUMNS} FROM customers ORDER BY id LIMIT n [OFFSET o]` on a {s['table_rows']:,}-row table, "
        "through Maskwire's `query` and DBHub's `execute_sql`, request by request in rotating order, all five "
        "servers open at once over stdio MCP from one Python client (`mcp` SDK). The Python SDK floor "
        "(`benchmarks/python_floor.py`) is the `mcp` SDK's server with one tool that runs the SQL on psycopg and "
        "returns the rows as JSON text, like DBHub: what a Python server on this SDK pays before any work of its own. "
        "The structured floor (`python_floor.py --structured`) answers in the shape of Maskwire's `query`: an "
        "outputSchema, `structuredContent` with the rows as lists, and a compact text of the rows.",
    ]
    titles = {
        "query_ms": "The same page again and again (the first rows of the table): what a repeated or re-run "
        "query costs, with every cache warm (the findings of free text seen before, the digests of values "
        "masked before).",
        "fresh_query_ms": "A page of rows no call has returned before at every repetition (the same page on "
        "every side): what reading new data costs; every personal cell gets its digest computed and every "
        "new free text goes through the NLP pipeline.",
    }
    for key, title in titles.items():
        lines += ["", title, ""]
        lines += [
            "| rows | side | p50 ms | p90 ms | vs DBHub (p50) | server-side p50 ms | transport share | text KB "
            "| structured KB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for rows, per_side in report[key].items():
            for label, m in per_side.items():
                server = f"{m['server_p50']:.1f}" if "server_p50" in m else ""
                share = f"{m['transport_share']:.0%}" if "transport_share" in m else ""
                lines.append(
                    f"| {int(rows):,} | {label} | {m['p50']:.1f} | {m['p90']:.1f} | {m['ratio_p50']:.2f}x "
                    f"| {server} | {share} | {m['bytes'][0] / 1000:.1f} | {m['bytes'][1] / 1000:.1f} |"
                )
    lines += ["", *cold_table(report)]
    return "\n".join(lines) + "\n"


def cold_table(report: dict[str, Any]) -> list[str]:
    lines = [
        "| cold start (spawn to first answered 100-row query) | p50 s | p90 s | vs DBHub (p50) |",
        "|---|---|---|---|",
    ]
    for label, m in report["cold_start_s"].items():
        lines.append(f"| {label} | {m['p50']:.2f} | {m['p90']:.2f} | {m['ratio_p50']:.2f}x |")
    return lines


GENERATED_END = "<!-- figures above are written by benchmarks/peers.py --write-docs -->"


def write_docs(section: str) -> None:
    """Replace the generated part of the section; the notes written under it by hand stay."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.find(SECTION)
    if start < 0:
        DOCS.write_text(text.rstrip("\n") + "\n\n" + section + GENERATED_END + "\n", encoding="utf-8")
        return
    end = text.find(GENERATED_END, start)
    if end < 0:
        raise SystemExit(f"{DOCS.name}: no '{GENERATED_END}' line under '{SECTION}'")
    DOCS.write_text(text[:start] + section + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30, help="counted repetitions of each query on each side")
    parser.add_argument("--warm", type=int, default=3, help="repetitions run first and not counted")
    parser.add_argument("--cold", type=int, default=5, help="cold starts of each side")
    parser.add_argument("--cold-only", action="store_true", help="measure the cold starts only")
    parser.add_argument("--compare-tree", type=Path, help="also cold-start the Maskwire of this checkout")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    parser.add_argument("--write-docs", action="store_true", help=f"update '{SECTION}' in docs/performance.md")
    args = parser.parse_args(argv)
    if (args.cold_only or args.compare_tree) and args.write_docs:
        parser.error("--write-docs records this tree's whole run: leave out --cold-only and --compare-tree")
    report = run(args)
    section = markdown(report)
    print(section)
    if args.json:
        write_json(args.json, sys.argv[1:] if argv is None else argv, report)
    if args.write_docs:
        write_docs(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
