"""What one small query costs as the schema widens: the SQL check, the ledger's stored SQL and the whole query.

    .venv/bin/python benchmarks/schema_width.py [--tables 10,200,1000] [--calls 200] [--json OUT]

Builds a SQLite database per width (N tables of 20 text columns, plus an `orders` table the query reads),
starts Maskwire's runtime in-process on it, and times a 20-row query of clear columns with a WHERE literal:
`SqlReads._check` (the read-only guard and inference control), the SQL the ledger stores, and the pipeline's
whole `query` (check, execute, mask, fit). CPU time of the calling thread, median of `--calls` calls after a
warm-up, so other processes on a shared machine move the figures less. A query names one table; its cost
should not grow with the tables it does not name. To compare trees, run it with another tree first on
`PYTHONPATH`.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _output import write_json

SQL = "SELECT id, status, amount FROM orders WHERE status = 'shipped' ORDER BY id LIMIT 20"


def build(path: Path, tables: int) -> None:
    with sqlite3.connect(path) as conn:
        for t in range(tables):
            columns = ", ".join(f"col{i} TEXT" for i in range(20))
            conn.execute(f"CREATE TABLE t{t:04d} (id INTEGER PRIMARY KEY, {columns})")
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, amount REAL)")
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(i, "shipped", i * 1.5) for i in range(100)])


def cpu_ms(fn: Callable[[], Any], calls: int) -> float:
    times = []
    for _ in range(calls):
        started = time.thread_time()
        fn()
        times.append(time.thread_time() - started)
    return statistics.median(times) * 1000


def measure(tables: int, calls: int) -> dict[str, float]:
    from mcp_server.config import parse_config
    from mcp_server.runtime import Runtime

    with tempfile.TemporaryDirectory(prefix="maskwire-width-") as tmp:
        path = Path(tmp) / "wide.sqlite"
        build(path, tables)
        config = parse_config(
            f'[server]\nstate_dir = "{tmp}/state"\n[[sources]]\nname = "wide"\nkind = "sql"\nurl = "sqlite:///{path}"\n'
        )
        runtime = Runtime.start(config)
        try:
            pipeline = runtime.pipeline
            policy = pipeline.policy_for(None)
            catalog = pipeline.sources.catalogs["wide"]
            for _ in range(5):
                pipeline.query("wide", SQL, policy=policy)
            return {
                "check_ms": cpu_ms(lambda: pipeline.sql._check(catalog, SQL), calls),
                "ledger_sql_ms": cpu_ms(lambda: pipeline.masked_sql(SQL, "wide"), calls),
                "query_ms": cpu_ms(lambda: pipeline.query("wide", SQL, policy=policy), calls),
            }
        finally:
            runtime.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="10,200,1000", help="comma-separated schema widths")
    parser.add_argument("--calls", type=int, default=200, help="timed calls of each step")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    print("| tables | check ms | ledger SQL ms | query ms |\n|---|---|---|---|")
    for width in (int(n) for n in args.tables.split(",")):
        figures = measure(width, args.calls)
        report[str(width)] = figures
        print(f"| {width:,} | {figures['check_ms']:.2f} | {figures['ledger_sql_ms']:.2f} | {figures['query_ms']:.2f} |")
    if args.json:
        write_json(args.json, sys.argv[1:] if argv is None else argv, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
