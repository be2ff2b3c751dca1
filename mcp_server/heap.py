"""The garbage collector of a server: what start-up built is frozen out of collection, and collections wait for
more allocations than Python's default.

A page of 1,000 rows allocates tens of thousands of containers that live for the length of the call; with the
default thresholds (700, 10, 10) the collector runs a dozen times per call and walks them again and again, and
a full collection walks every object the NLP pipeline and the known values hold. Reference counting frees what a
call allocates once it ends; the collector is for cycles, which this path rarely makes. Measured in
docs/performance.md ("Garbage collection").
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 20)
_tuned = False


def pause() -> None:
    """At the start of the console script: no collections until `resume` (any command, once it is chosen) or
    `tune` (a server, once it is built). The imports and the start-up of a server allocate hundreds of thousands
    of objects that all stay alive; collecting while they are built cost 0.15 s of a cold start
    (docs/performance.md, "Cold start") and freed nothing."""
    gc.disable()


def resume() -> None:
    gc.enable()


def tune() -> None:
    """Collect less often, and freeze what exists now (a server process only: the thresholds and the frozen
    objects are the interpreter's, not a module's)."""
    global _tuned
    gc.set_threshold(*THRESHOLDS)
    _tuned = True
    freeze()
    gc.enable()


def freeze() -> None:
    """Move every object alive now out of the collector's reach (start-up's: the sources' schemas, the NLP
    pipeline, the known values), in a process `tune` was called in; the warm-up calls it again when it has built
    more of them. No collection first: it would hold the interpreter for as long as a full walk takes, beside a
    call."""
    if _tuned:
        gc.freeze()
