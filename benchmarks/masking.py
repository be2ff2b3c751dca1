"""Masking speed: Maskwire's table path and free-text batches next to plain Presidio, in the same run.

    .venv/bin/python benchmarks/masking.py [--rounds N] [--naive-sample N] [--names-model MODEL]

1. Tables: every table of chinook, and a generated 10,000 x 10 table (100,000 cells), read through the
   product path (Runtime.start -> ToolService.query: column classification, whole-column masking with the
   keyed pseudonymizer, NER only for free-text columns, each distinct text analysed once, large batches
   shared with one NER worker process as `serve` does on a machine with two cores or more). Next to it:
   plain Presidio's AnalyzerEngine.analyze on every cell one by one, measured on a random sample of cells
   (the whole table would take minutes) and reported as cells/s.
2. Free text: Detector.analyze_batch vs Presidio BatchAnalyzerEngine(batch_size=256) on the 1,500 sentences
   of presidio_synth_dataset_v2.json, alternating, several rounds: one process each, then two processes
   each (Presidio's n_process=2, Maskwire with one NER worker).

The machine is shared and noisy: compare the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common as c
from detection import PRODUCTS, STATUSES, load_identities

NOTES = [
    "Customer {name} asked to change the delivery address.",
    "Refund approved, see ticket.",
    "Call back {name} at {phone} after 5pm.",
    "Package left at the front door.",
    "Wrong size, exchange requested.",
    "Sent invoice copy to {email}.",
    "No answer, try again tomorrow.",
    "Gift wrap requested.",
]


def generated_orders(path: Path, rows: int = 10_000, seed: int = 11) -> int:
    """A 10-column orders table with helpful column names; returns the number of cells."""
    rng = random.Random(seed)
    people = load_identities()
    start = datetime(2024, 1, 1)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_name TEXT, email TEXT, phone TEXT, city TEXT,"
            " sku TEXT, product TEXT, amount NUMERIC(10,2), status TEXT, notes TEXT)"
        )
        data = []
        for i in range(rows):
            p = people[rng.randrange(len(people))]
            name = f"{p['GivenName']} {p['Surname']}"
            note = rng.choice(NOTES).format(name=name, phone=p["TelephoneNumber"], email=p["EmailAddress"])
            data.append(
                (
                    i + 1,
                    name,
                    p["EmailAddress"],
                    p["TelephoneNumber"],
                    p["City"],
                    f"SKU-{rng.randint(1000, 9999)}",
                    rng.choice(PRODUCTS),
                    round(rng.uniform(5, 500), 2),
                    rng.choice(STATUSES),
                    note,
                )
            )
            _ = start + timedelta(minutes=i)
        conn.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?)", data)
    return rows * 10


def table_cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables if not t.startswith("sqlite_")}


def maskwire_tables(path: Path, source: str, workdir: Path) -> tuple[int, float, float]:
    """(cells, seconds to start incl. classification and known values, seconds to read every table)."""
    started = time.perf_counter()
    runtime = c.start_runtime({source: path}, workdir / source)
    startup = time.perf_counter() - started
    try:
        cells = 0
        started = time.perf_counter()
        for table in runtime.service.catalogs[source].tables():
            columns, rows = c.query_all(runtime, source, f'SELECT * FROM "{table}"')
            cells += len(columns) * len(rows)
        return cells, startup, time.perf_counter() - started
    finally:
        runtime.close()


def naive_cells_per_second(engine: Any, path: Path, sample: int, seed: int = 3) -> tuple[float, int]:
    cells = [str(v) for rows in table_cells(path).values() for row in rows for v in row if v is not None]
    rng = random.Random(seed)
    picked = rng.sample(cells, min(sample, len(cells)))
    started = time.perf_counter()
    for value in picked:
        engine.analyze(value, language="en", score_threshold=0.5)
    return len(picked) / (time.perf_counter() - started), len(picked)


def free_text_rows(
    setting: str,
    theirs: Callable[[], Any],
    ours: Callable[[], Any],
    texts: int,
    rounds: int,
    suffixes: tuple[str, str] = ("", ""),
) -> list[list[str]]:
    """Presidio's batch engine and Maskwire's detector, alternating for `rounds`: texts/s per round and median,
    and their ratio."""
    presidio_rate, maskwire_rate = [], []
    for _ in range(rounds):
        _, t = c.timed(theirs)
        presidio_rate.append(texts / t)
        _, t = c.timed(ours)
        maskwire_rate.append(texts / t)
    ratios = [o / t for o, t in zip(maskwire_rate, presidio_rate, strict=True)]
    theirs_suffix, ours_suffix = suffixes

    def row(label: str, values: list[float], digits: int) -> list[str]:
        return [label, ", ".join(f"{x:.{digits}f}" for x in values), f"{statistics.median(values):.{digits}f}"]

    return [
        row(f"Presidio BatchAnalyzerEngine(batch_size=256){theirs_suffix}", presidio_rate, 0),
        row(f"Maskwire Detector.analyze_batch{ours_suffix}", maskwire_rate, 0),
        row(f"ratio, {setting}", ratios, 2),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating free-text rounds (default 3)")
    parser.add_argument("--naive-sample", type=int, default=2000, help="cells analysed one by one per table set")
    parser.add_argument("--names-model", help="also time free text with this [masking] names_model")
    args = parser.parse_args()
    c.require_fixtures(c.SYNTH, c.CHINOOK, c.FAKE_IDENTITIES)
    from presidio_analyzer import BatchAnalyzerEngine

    from mcp_server.masking.detector import Detector

    workdir = Path(tempfile.mkdtemp(prefix="maskwire-speed-"))
    orders = workdir / "orders.sqlite"
    generated_orders(orders)
    anchor = c.anchor_engine()
    anchor.analyze("warm up John Smith", language="en")

    lines = ["### Tables: Maskwire's table path vs plain Presidio cell by cell", ""]
    rows = []
    for name, path in (("chinook", c.CHINOOK), ("orders (generated)", orders)):
        cells, startup, reading = maskwire_tables(path, name.split()[0], workdir)
        naive, sampled = naive_cells_per_second(anchor, path, args.naive_sample)
        mw = cells / reading
        mw_cold = cells / (reading + startup)
        rows.append([name, cells, f"{mw:,.0f}", f"{mw_cold:,.0f}", f"{naive:,.0f} ({sampled} cells)", mw / naive])
    lines += [
        c.table(
            [
                "table set",
                "cells",
                "Maskwire cells/s",
                "incl. start-up",
                "naive Presidio cells/s (sample)",
                "ratio",
            ],
            rows,
        ),
        "",
        "`incl. start-up` adds Runtime.start: classifying every column (sampling 50 rows) and loading the",
        "known personal values of the source; that happens once per process, not per query.",
        "",
    ]

    texts = [s.text for s in c.load_synth()]
    detector = Detector(c.MODEL)
    batch = BatchAnalyzerEngine(anchor)
    detector.analyze_batch(texts[:20])
    batch.analyze_iterator(texts[:20], language="en", batch_size=256)

    def presidio(n_process: int) -> Any:
        return lambda: batch.analyze_iterator(
            texts, language="en", batch_size=256, n_process=n_process, score_threshold=0.5
        )

    rows = free_text_rows(
        "one process each", presidio(1), lambda: detector.analyze_batch(texts), len(texts), args.rounds
    )
    # Two processes on each side: Presidio's own n_process (spaCy forks per call), Maskwire's NER worker.
    detector.start_ner_workers(1)
    detector.wait_for_ner_workers()
    rows += free_text_rows(
        "two processes each",
        presidio(2),
        lambda: detector.analyze_batch(texts),
        len(texts),
        args.rounds,
        (", n_process=2", ", one NER worker process"),
    )
    detector.stop_ner_workers()
    if args.names_model:
        with_names = Detector(c.MODEL, names_model=args.names_model)
        with_names.analyze_batch(texts[:20])
        rows += free_text_rows(
            f"one process each, names_model {args.names_model}",
            presidio(1),
            lambda: with_names.analyze_batch(texts),
            len(texts),
            args.rounds,
            ("", f", names_model {args.names_model}"),
        )
    lines += [
        f"### Free text: {len(texts)} sentences of the synth dataset, {args.rounds} alternating rounds",
        "",
        c.table(["", "texts/s per round", "median"], rows),
        "",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
