"""Does `search` take longer for a word that only occurs inside masked values than for a word found nowhere?

    .venv/bin/python benchmarks/search_timing.py [--rounds 40] [--floors 0,50]

A folder of notes names generated people (masked in every answer). For each floor (`[server] search_floor_ms`),
the same process searches, interleaved and shuffled, for each person's surname (present, but only inside masked
values: no hit) and for the surname with its last letter changed (absent: no hit), through the real pipeline, and
prints the median time of each and their difference. With the floor, both should take the floor.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcp_server.config import parse_config
from mcp_server.runtime import Runtime

RNG = random.Random(7)


def _surname() -> str:
    return RNG.choice("BCDFGKLMNPRSTVZ") + "".join(RNG.choice("aeiou" if i % 2 else "lmnrstvkd") for i in range(8))


def _workspace(root: Path, people: list[tuple[str, str]]) -> Path:
    docs = root / "docs"
    docs.mkdir()
    for i, (first, last) in enumerate(people):
        (docs / f"note{i}.md").write_text(
            f"# Visit {i}\n\n{first} {last} called about the invoice; {first} {last} asked for a refund.\n"
        )
    for i in range(40):
        (docs / f"other{i}.md").write_text(f"# Memo {i}\n\nThe quarterly report is attached; shipping was late.\n")
    return docs


def _measure(root: Path, docs: Path, floor_ms: int, people: list[tuple[str, str]], rounds: int) -> tuple[float, float]:
    config = parse_config(
        f'[server]\nstate_dir = "{root / f"state{floor_ms}"}"\nsearch_floor_ms = {floor_ms}\n'
        f'[[sources]]\nname = "docs"\nkind = "files"\npath = "{docs}"\n'
    )
    runtime = Runtime.start(config, agent="bench")
    try:
        pairs = [(last, last[:-1] + ("x" if last[-1] != "x" else "y")) for _, last in people]
        for present, absent in pairs:  # warm: index, masking caches
            runtime.service.search(present, None, None)
            runtime.service.search(absent, None, None)
        times: dict[str, list[float]] = {"present": [], "absent": []}
        for _ in range(rounds):
            calls = [(kind, term) for pair in pairs for kind, term in zip(("present", "absent"), pair, strict=True)]
            RNG.shuffle(calls)
            for kind, term in calls:
                started = time.perf_counter()
                out = runtime.service.search(term, None, None)
                times[kind].append((time.perf_counter() - started) * 1000)
                assert out.rows == 0, (term, out.text)  # a masked-only word finds nothing, like an absent one
        return statistics.median(times["present"]), statistics.median(times["absent"])
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--floors", default="0,50", help="comma-separated search_floor_ms values")
    args = parser.parse_args()
    people = [(RNG.choice(["Anna", "Tomas", "Ines", "Karel"]), _surname()) for _ in range(4)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        docs = _workspace(root, people)
        print("| search_floor_ms | masked-only word, median ms | absent word, median ms | difference ms |")
        print("|---|---|---|---|")
        for floor in (int(f) for f in args.floors.split(",")):
            present, absent = _measure(root, docs, floor, people, args.rounds)
            print(f"| {floor} | {present:.2f} | {absent:.2f} | {present - absent:+.2f} |")


if __name__ == "__main__":
    main()
