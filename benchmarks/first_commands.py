"""The first commands a new user runs: how long `maskwire check` takes, by case, side by side in one run.

    .venv/bin/python benchmarks/first_commands.py [--rounds 3] [--json OUT]

Each case runs the real `maskwire` script in a fresh process (what a user waits for, imports included): a
config with no sources (an error), a missing SQLite file, an unreachable PostgreSQL port, and a small SQLite
database (2 tables, one column decided by its sampled values, so the NLP pipeline loads). For comparison, the
start-up `check` used before the change (the whole server runtime: NLP pipeline, token counter, ledger, vault,
then the classification) is timed on the same small database, in a fresh process too. Medians over the rounds.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _output import write_json

MASKWIRE = Path(sys.executable).with_name("maskwire")
OLD_CHECK = """
import sys
from mcp_server.config import load_config
from mcp_server.runtime import Runtime
config = load_config(__import__("pathlib").Path(sys.argv[1]))
runtime = Runtime.start(config)
for catalog in runtime.service.catalogs.values():
    for table in catalog.tables():
        catalog.classify_table(table)
runtime.close()
"""


def small_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, notes TEXT)")
        conn.execute("CREATE TABLE vendors (id INTEGER PRIMARY KEY, contact TEXT)")
        conn.executemany(
            "INSERT INTO customers (name, email, notes) VALUES (?, ?, ?)",
            [(f"Person {i}", f"p{i}@example.org", "called back") for i in range(20)],
        )
        conn.executemany("INSERT INTO vendors (contact) VALUES (?)", [("Maria Gonzalez",), ("Jonas Lindqvist",)])


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False, timeout=300)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small_sqlite(root / "small.sqlite")
        configs = {
            "no sources (error)": "",
            "missing SQLite file": '[[sources]]\nname = "x"\nkind = "sql"\nurl = "sqlite:///missing.sqlite"\n',
            "PostgreSQL port closed": '[[sources]]\nname = "x"\nkind = "sql"\n'
            'url = "postgresql+psycopg://postgres@127.0.0.1:1/test"\n',
            "small SQLite": '[[sources]]\nname = "x"\nkind = "sql"\nurl = "sqlite:///small.sqlite"\n',
        }
        env = {**os.environ, "MASKWIRE_HOME": str(root / "home")}
        cases: dict[str, list[str]] = {}
        for n, (label, text) in enumerate(configs.items()):
            path = root / f"c{n}.toml"
            path.write_text(text)
            cases[f"maskwire check: {label}"] = [str(MASKWIRE), "check", "--config", str(path)]
        cases["before: runtime start + classify, small SQLite"] = [
            sys.executable,
            "-c",
            OLD_CHECK,
            str(root / f"c{len(configs) - 1}.toml"),
        ]
        times: dict[str, list[float]] = {label: [] for label in cases}
        for _ in range(args.rounds):
            for label, command in cases.items():  # interleaved, so load on the machine hits every case alike
                times[label].append(timed(command, root, env))
        baseline = statistics.median(times["before: runtime start + classify, small SQLite"])
        print(f"| case | median s ({args.rounds} rounds) | vs before |")
        print("|---|---|---|")
        for label, values in times.items():
            median = statistics.median(values)
            print(f"| {label} | {median:.2f} | {median / baseline:.2f}x |")
    if args.json:
        cases_s = {
            label: {"median_s": round(statistics.median(v), 3), "runs_s": [round(t, 3) for t in v]}
            for label, v in times.items()
        }
        write_json(args.json, sys.argv[1:], {"rounds": args.rounds, "cases": cases_s})


if __name__ == "__main__":
    main()
