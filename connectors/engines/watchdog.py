"""A backstop for statement timeouts: queries still running a while after their deadline are cancelled from
a thread of Maskwire's own.

Engines enforce the timeout in the session (`statement_timeout`); a session whose timeout was changed, which
the SQL guard exists to prevent, would let a query run on. One daemon thread looks at the queries in flight
every `PERIOD` seconds and cancels those past their deadline plus `GRACE`, so the engine's own timeout, with its
own message, normally comes first. Watching a query costs a dictionary entry under a lock.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

PERIOD = 0.5
GRACE = 1.0


class Watchdog:
    def __init__(self, period: float = PERIOD) -> None:
        self.period = period
        self._inflight: dict[int, tuple[float, Callable[[], object]]] = {}
        self._keys = itertools.count()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, seconds: float, cancel: Callable[[], object]) -> Iterator[None]:
        """Held around one query: `cancel` is called (once, from the watchdog's thread) if it is still held
        `seconds` + `GRACE` from now. `cancel` must return promptly (it runs under the watchdog's lock)."""
        key = next(self._keys)
        with self._lock:
            self._inflight[key] = (time.monotonic() + seconds + GRACE, cancel)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="maskwire-query-watchdog", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._inflight.pop(key, None)

    def _run(self) -> None:
        while True:
            time.sleep(self.period)
            now = time.monotonic()
            # Cancelled under the lock: a query whose `watch` has ended (its connection back in the pool, perhaps
            # running another query already) is never cancelled. Cancels are rare and bounded (`cancel`'s own).
            with self._lock:
                overdue = [(key, cancel) for key, (deadline, cancel) in self._inflight.items() if deadline <= now]
                for key, cancel in overdue:
                    del self._inflight[key]  # cancelled once; the query ends with the engine's error
                    try:
                        cancel()
                    except Exception as exc:  # the connection may be gone
                        log.warning("could not cancel an overdue query (%s)", type(exc).__name__)


WATCHDOG = Watchdog()
