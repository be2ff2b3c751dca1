"""Two Maskwire source trees side by side: the same masked `query`, request by request, in one run.

    .venv/bin/python benchmarks/trees.py --old OLD_TREE [--new NEW_TREE] [--calls 400] [--rows 100] [--json OUT]

Each tree is a checkout with its own `.venv` (`make .venv/.installed`); `--new` defaults to this one. Both
servers are open at once over stdio MCP, serving the same generated PostgreSQL table (see `peers.py`) from
their own state folders, and the calls alternate between them (the order flipped every round), so the
machine's load hits both alike. For each side: the client's p50 and p90, and the server's CPU time per call,
read from /proc: its main thread (the event loop) and the whole process (the event loop and the worker threads
that run the tools and the ledger writes; the NER worker is a separate process, not counted), and the event
loop's share: its CPU time over the time the client waited for that side. Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import peers
from mcp import Client

TICK = os.sysconf("SC_CLK_TCK")


def _children() -> set[int]:
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == me:
                found.add(int(entry))
    return found


def _cpu_s(path: str) -> float:
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


async def _run(trees: dict[str, Path], calls: int, rows: int, database: str, workdir: Path) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        sides, clients, pids = {}, {}, {}
        for label, tree in trees.items():
            config = peers.maskwire_config(workdir / label, database)
            command = str(tree / ".venv" / "bin" / "maskwire")
            args = ("serve", "--config", str(config), "--agent", "trees")
            sides[label] = peers.Side(label, command, args, "query", {"source": "crm"}, workdir / f"{label}.log")
            before = _children()
            clients[label] = await stack.enter_async_context(Client(sides[label].params()))
            (pids[label],) = _children() - before
        for _ in range(20):  # warm: classification, caches, the first ledger rows
            for label in trees:
                await clients[label].call_tool("query", sides[label].arguments(rows))
        times: dict[str, list[float]] = {label: [] for label in trees}
        loop0 = {k: _cpu_s(f"/proc/{p}/task/{p}/stat") for k, p in pids.items()}
        all0 = {k: _cpu_s(f"/proc/{p}/stat") for k, p in pids.items()}
        for i in range(calls):
            for label in list(trees) if i % 2 == 0 else list(reversed(trees)):
                t = time.perf_counter()
                await clients[label].call_tool("query", sides[label].arguments(rows))
                times[label].append((time.perf_counter() - t) * 1000)
        report: dict[str, Any] = {"calls": calls, "rows": rows, "load_average": os.getloadavg()[0]}
        for label, pid in pids.items():
            loop = _cpu_s(f"/proc/{pid}/task/{pid}/stat") - loop0[label]
            report[label] = {
                "p50_ms": round(statistics.median(times[label]), 2),
                "p90_ms": round(statistics.quantiles(times[label], n=10)[-1], 2),
                "loop_cpu_ms_per_call": round(loop * 1000 / calls, 2),
                "server_cpu_ms_per_call": round((_cpu_s(f"/proc/{pid}/stat") - all0[label]) * 1000 / calls, 2),
                "loop_share_of_wait": round(loop / (sum(times[label]) / 1000), 3),
            }
        for key in ("p50_ms", "loop_cpu_ms_per_call", "server_cpu_ms_per_call"):
            report[f"new/old {key}"] = round(report["new"][key] / report["old"][key], 3)
        return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="the tree to compare against (with its .venv)")
    parser.add_argument("--new", type=Path, default=c.ROOT, help="default: this tree")
    parser.add_argument("--calls", type=int, default=400, help="counted calls on each side")
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    with tempfile.TemporaryDirectory() as tmp, peers.customers_database(2 * max(peers.SIZES), 7) as database:
        report = asyncio.run(_run(trees, args.calls, args.rows, database, Path(tmp)))
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
