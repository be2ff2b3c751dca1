"""The ledger at scale: build an N-entry ledger through Maskwire's own code, then time the review commands.

    .venv/bin/python benchmarks/ledger.py --rows 1000000 --json OUT.json [--url postgresql+psycopg://...]

The ledger is built with `Ledger.append_many` (keyed chain, append lock), 2,000 entries a transaction, with a
realistic mix: 20 agents, 5 tools, 90 days, ~45% of calls with masked entities, SQL arguments of ~120 characters.
Each command then runs as the `maskwire` CLI in a child process, as a user would run it (output to /dev/null); its
wall time and its own peak RSS (`wait4`) are recorded, the median of `--repeat` runs (one run for `calls_json_s`,
`usage --calls --format json`, the whole ledger streamed). `baseline` is the same CLI reading nothing (`usage
--agent nobody`): the start-up every command pays. With `--url`, the ledger goes into a new schema of that
PostgreSQL database, dropped at the end. Everything else is written to a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcp_server.ledger.keys import KEY_ENV  # noqa: E402
from mcp_server.ledger.store import Ledger, LedgerEntry  # noqa: E402

AGENTS = [f"agent-{n:02d}" for n in range(20)]
TOOLS = ["query", "query", "query", "search", "describe", "read", "list_sources"]
ENTITIES = ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "LOCATION", "CREDIT_CARD", "US_SSN"]
COMMANDS = {
    "usage_table_s": ["usage"],
    "usage_json_s": ["usage", "--format", "json"],
    "usage_html_s": ["usage", "--format", "html"],
    "calls_json_s": ["usage", "--calls", "--format", "json"],
    "verify_s": ["ledger", "verify"],
}


def _entries(rng: random.Random, start: dt.datetime, count: int, first: int, total: int) -> list[LedgerEntry]:
    out = []
    span = 90 * 86400
    for i in range(first, first + count):
        tool = rng.choice(TOOLS)
        status = "ok" if rng.random() < 0.9 else rng.choice(["denied", "denied", "error"])
        entities = (
            {e: rng.randint(1, 40) for e in rng.sample(ENTITIES, rng.randint(1, 3))} if rng.random() < 0.45 else {}
        )
        if tool == "query":
            args = {
                "source": "crm",
                "sql": "SELECT c.name, c.email FROM customers c WHERE c.email = "
                f"'<EMAIL_ADDRESS:{rng.getrandbits(48):012x}>'"
                f" AND c.country = 'FR' LIMIT {rng.choice([10, 50, 100])}",
                "max_rows": None,
                "cursor": None,
            }
        elif tool == "search":
            args = {
                "query": f"refund <PERSON:{rng.getrandbits(48):012x}>",
                "query_words": 2,
                "sources": None,
                "limit": 10,
            }
        else:
            args = {"source": "docs"}
        out.append(
            LedgerEntry(
                agent=rng.choice(AGENTS),
                tool=tool,
                status=status,
                client_name="claude-desktop",
                client_version="1.0",
                source=args.get("source"),
                arguments=args,
                error_class=None if status == "ok" else ("QuotaExceeded" if rng.random() < 0.2 else "SqlDenied"),
                error_message=None if status == "ok" else "refused",
                rows=rng.randint(0, 100),
                tokens_in=rng.randint(10, 200),
                tokens_out=rng.randint(20, 8000),
                entities=entities,
                duration_ms=rng.lognormvariate(3.5, 0.8),
                ts=(start + dt.timedelta(seconds=span * i / total)).isoformat(timespec="milliseconds"),
            )
        )
    return out


def build(url: str, rows: int, seed: int) -> float:
    rng = random.Random(seed)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=90)
    ledger = Ledger(url)
    began = time.perf_counter()
    try:
        for first in range(0, rows, 2000):
            ledger.append_many(_entries(rng, start, min(2000, rows - first), first, rows))
    finally:
        ledger.dispose()
    return time.perf_counter() - began


def run(command: list[str], config: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of one CLI run in a child process."""
    argv = [sys.executable, "-m", "mcp_server.cli", *command, "--config", str(config)]
    began = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        assert child.stderr is not None
        err = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - began
    if child.returncode:
        sys.stderr.write(f"{' '.join(command)} exited {child.returncode}: {err.decode(errors='replace')[-500:]}\n")
    return seconds, usage.ru_maxrss / 1024, child.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", type=Path, required=True, help="where to write the figures")
    parser.add_argument("--url", help="a PostgreSQL URL (a new schema is created in it and dropped at the end)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--reuse", type=Path, help="time an N-row SQLite ledger this script built before (needs $MASKWIRE_LEDGER_KEY)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command but --calls (median reported)")
    args = parser.parse_args()

    import sqlalchemy as sa

    with tempfile.TemporaryDirectory(prefix="maskwire-ledger-bench-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, KEY_ENV: os.environ.get(KEY_ENV) or uuid.uuid4().hex + uuid.uuid4().hex}
        os.environ[KEY_ENV] = env[KEY_ENV]
        schema = None
        if args.url:
            schema = f"maskwire_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(args.url)
            with admin.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            url = sa.make_url(args.url).update_query_dict({"options": f"-csearch_path={schema}"})
            ledger_url = url.render_as_string(hide_password=False)
            engine_name = "postgresql"
        elif args.reuse:
            ledger_url = f"sqlite:///{args.reuse.resolve()}"
            engine_name = "sqlite"
        else:
            ledger_url = f"sqlite:///{folder / 'ledger.sqlite'}"
            engine_name = "sqlite"
        config = folder / "maskwire.toml"
        config.write_text(
            f"[server]\nstate_dir = {json.dumps(str(folder))}\n\n[ledger]\nurl = {json.dumps(ledger_url)}\n"
        )
        try:
            print(f"building {args.rows:,} entries on {engine_name} ...", file=sys.stderr)
            build_s = 0.0 if args.reuse else build(ledger_url, args.rows, args.seed)
            print(f"  built in {build_s:.1f} s", file=sys.stderr)
            checkpoint = run(["ledger", "checkpoint"], config, env)
            results: dict[str, float] = {}
            rss: dict[str, float] = {}
            runs: dict[str, list[float]] = {}
            for name, command in COMMANDS.items():
                times, peaks = [], []
                for _ in range(1 if name == "calls_json_s" else args.repeat):
                    seconds, peak, code = run(command, config, env)
                    if code != 0:
                        raise SystemExit(f"{name}: the command failed")
                    times.append(seconds)
                    peaks.append(peak)
                runs[name] = [round(t, 3) for t in times]
                results[name], rss[name] = round(statistics.median(times), 3), round(max(peaks), 1)
                print(
                    f"  {name:<14} {results[name]:8.2f} s  {rss[name]:7.1f} MB  (runs: {runs[name]})", file=sys.stderr
                )
            baseline_runs = [run(["usage", "--agent", "nobody"], config, env) for _ in range(args.repeat)]
            baseline = (statistics.median(r[0] for r in baseline_runs), max(r[1] for r in baseline_runs))
        finally:
            if schema:
                with admin.begin() as conn:
                    conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                admin.dispose()
    figures = {
        "rows": args.rows,
        **results,
        "peak_rss_mb": rss,
        "engine": engine_name,
        "build_s": round(build_s, 1),
        "checkpoint_s": round(checkpoint[0], 3),
        "runs_s": runs,
        "baseline": {"usage_agent_nobody_s": round(baseline[0], 3), "peak_rss_mb": round(baseline[1], 1)},
        "load_average_after": round(os.getloadavg()[0], 2),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "date": dt.date.today().isoformat(),
        },
    }
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
