"""Worst-case time of every regular expression in the masking package on adversarial input.

Database values and documents are attacker-controlled text; a pattern with nested optional repetition can
backtrack exponentially (a 60-character value once took 0.5 s in the name-shape rule). This prints the
slowest patterns so a new one is caught before it ships:

    .venv/bin/python benchmarks/regex_worst_case.py [--length 3000] [--json OUT]
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _output import write_json

import mcp_server.masking as masking


def samples(n: int) -> list[str]:
    unit = n // 3
    return [
        "a" * n + "!",
        "A" * n + "1",
        "1" * n + "x",
        "ab-" * unit + "1",
        "Ab " * unit + "1",
        "a." * (n // 2) + "@",
        "1 " * (n // 2) + "x",
        "Aa'" * unit + "1",
        "x@" + "a." * (n // 2),
        "key=" * (n // 4) + "\x00",
        "A1" * (n // 2),
        " " * n + "a",
        "Oak Street " * (n // 11) + "9",
        "12 " * unit + "Street",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=3000)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    modules = [f"mcp_server.masking.{m.name}" for m in pkgutil.walk_packages(masking.__path__) if not m.ispkg]
    modules += [
        f"mcp_server.masking.recognizers.{m.name}"
        for m in pkgutil.iter_modules(importlib.import_module("mcp_server.masking.recognizers").__path__)
    ]
    texts = samples(args.length)
    results = []
    for name in sorted(set(modules)):
        for attr, value in vars(importlib.import_module(name)).items():
            if isinstance(value, re.Pattern):
                worst = 0.0
                for text in texts:
                    started = time.perf_counter()
                    value.search(text)
                    worst = max(worst, time.perf_counter() - started)
                results.append((worst, f"{name}.{attr}"))
    results.sort(reverse=True)
    print(f"{len(results)} patterns, inputs of ~{args.length} characters; slowest:")
    for worst, where in results[: args.top]:
        print(f"  {worst * 1000:9.1f} ms  {where}")
    if args.json:
        slowest = [{"pattern": where, "worst_ms": round(worst * 1000, 2)} for worst, where in results[: args.top]]
        figures = {"length": args.length, "patterns": len(results), "slowest": slowest}
        write_json(args.json, sys.argv[1:], figures)


if __name__ == "__main__":
    main()
