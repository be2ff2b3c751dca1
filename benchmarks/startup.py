"""Start-up on a wide schema: how long until `maskwire serve` answers a client, and until its first query.

    .venv/bin/python benchmarks/startup.py [--tables 150] [--rows 2000]

Generates a SQLite database of N customer-like tables (names, emails, cities, notes; unhelpful column
names in half of them, so their values must be sampled), then drives `maskwire serve` over stdio with the
official client: time to the `initialize` answer, to `list_sources`, to a query of personal columns
(masked whole, no waiting) and to a query with a free-text column (scanning waits until every column is
classified and the known personal values are loaded). For comparison, the same warm-up done before
serving (`Runtime.start` without `warm_up_in_background`) is timed in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common as c
from detection import load_identities


def wide_schema(path: Path, tables: int, rows: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    people = load_identities()
    with sqlite3.connect(path) as conn:
        for t in range(tables):
            anonymous = t % 2 == 1
            names = ("c1", "c2", "c3", "c4", "c5") if anonymous else ("name", "email", "city", "amount", "notes")
            conn.execute(f"CREATE TABLE t{t:03d} (id INTEGER PRIMARY KEY, {', '.join(f'{n} TEXT' for n in names)})")
            data = []
            for i in range(rows):
                p = people[rng.randrange(len(people))]
                name = f"{p['GivenName']} {p['Surname']}"
                data.append((i, name, p["EmailAddress"], p["City"], f"{rng.uniform(5, 500):.2f}", f"Call {name} back."))
            conn.executemany(f"INSERT INTO t{t:03d} VALUES (?, ?, ?, ?, ?, ?)", data)


async def drive(config: Path) -> dict[str, float]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    server = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server.cli", "serve", "--config", str(config), "--agent", "bench"]
    )
    started = time.perf_counter()
    out: dict[str, float] = {}
    async with Client(server) as client:
        out["initialize answered"] = time.perf_counter() - started
        await client.call_tool("list_sources", {})
        out["list_sources answered"] = time.perf_counter() - started
        for what, sql in (
            ("query of personal columns answered", "SELECT name, email, city FROM t000 LIMIT 5"),
            ("query with a free-text column answered", "SELECT name, notes FROM t000 LIMIT 5"),
        ):
            result = await client.call_tool("query", {"source": "wide", "sql": sql})
            assert not result.is_error
            out[what] = time.perf_counter() - started
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=150)
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    c.require_fixtures(c.FAKE_IDENTITIES)
    from mcp_server.config import load_config
    from mcp_server.runtime import Runtime

    workdir = Path(tempfile.mkdtemp(prefix="maskwire-startup-"))
    database = workdir / "wide.sqlite"
    wide_schema(database, args.tables, args.rows)
    config = workdir / "maskwire.toml"
    config.write_text(
        f'[server]\nstate_dir = "{workdir / "state"}"\n'
        '[masking]\nkey = "benchmark-key-not-secret-0123456789"\n'
        f'[[sources]]\nname = "wide"\nkind = "sql"\nurl = "sqlite:///{database}"\n'
    )
    served = asyncio.run(drive(config))
    started = time.perf_counter()
    runtime = Runtime.start(load_config(config))
    blocking = time.perf_counter() - started
    known = len(runtime.masker.detector.known_values)
    runtime.close()

    cells = args.tables * args.rows * 6
    print(f"### Start-up, {args.tables} tables x {args.rows:,} rows x 6 columns ({cells:,} cells), SQLite\n")
    print(c.table(["`maskwire serve` over stdio", "seconds"], [[k, f"{v:.2f}"] for k, v in served.items()]))
    print(
        f"\nThe same warm-up before serving (Runtime.start, in-process, model already loaded): {blocking:.2f} s; "
        f"{known:,} known values."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
