"""Progress on stderr for steps that may take more than a second (model load, classification, indexing).

stdout stays clean: it carries the MCP protocol under `serve` and a command's result elsewhere. A step that ends
within a second prints nothing; a longer one says what it is doing and, when done, how long it took.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

SHOW_AFTER_SECONDS = 1.0
_write_lock = threading.Lock()


def say(message: str) -> None:
    with _write_lock:
        sys.stderr.write(f"maskwire: {message}\n")
        sys.stderr.flush()


@contextmanager
def step(label: str, *, after: float = SHOW_AFTER_SECONDS) -> Iterator[None]:
    """Announce `label` on stderr if the step is still running after `after` seconds."""
    started = time.perf_counter()
    shown = threading.Event()
    done = threading.Event()

    def announce() -> None:
        if not done.wait(after):
            shown.set()
            say(f"{label} ...")

    timer = threading.Thread(target=announce, name="maskwire-progress", daemon=True)
    timer.start()
    outcome = "stopped after"
    try:
        yield
        outcome = "done in"
    finally:
        done.set()
        timer.join()
        if shown.is_set():
            say(f"{label}: {outcome} {time.perf_counter() - started:.1f} s")
