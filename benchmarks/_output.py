"""The JSON a benchmark writes with `--json PATH` (what `make bench` collects in build/bench/): its figures and
the machine they were measured on, so a number is never read without its load."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any


def write_json(path: Path, command: list[str], figures: dict[str, Any]) -> None:
    """Write `figures` to `path` (parents created) with the command line and the machine."""
    record = {
        "command": " ".join(["benchmarks/" + Path(sys.argv[0]).name, *command]),
        **figures,
        "machine": {
            "nproc": os.cpu_count(),
            "load_average_after": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
