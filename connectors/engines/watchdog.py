"""A backstop for statement timeouts: queries still running a while after their deadline are cancelled from
a thread of Maskwire's own, and ended if they outlive the cancel.

Engines enforce the timeout in the session (`statement_timeout`); a session whose timeout was changed, which
the SQL guard exists to prevent, would let a query run on. One daemon thread looks at the queries in flight
every `PERIOD` seconds and cancels those past their deadline plus `GRACE`, so the engine's own timeout, with its
own message, normally comes first. A query that goes on `END_AFTER` seconds after that cancel (a function an
operator allowed that catches the cancel in a loop) has its session ended (`end`), which no code in the database
can catch. Watching a query costs a dictionary entry under a lock.

The watchdog acts on a query only while its `watch` is held: the query's thread leaves `watch` only once an
action under way has ended, so its connection, back in the pool, never gets another query's cancel or end.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

PERIOD = 0.5
GRACE = 1.0
END_AFTER = 2.0
"""Seconds a query may go on after the watchdog's cancel before its session is ended."""


@dataclass
class Watch:
    """One query watched: what the watchdog did to it."""

    deadline: float
    cancel: Callable[[], object]
    end: Callable[[], object] | None
    cancelled: bool = False
    ended: bool = False
    """Its session is being ended, or was: the query outlived its timeout and a cancel."""
    acting: threading.Lock = field(default_factory=threading.Lock)
    """Held by the watchdog while it cancels or ends the query; the query's thread waits for it to leave."""


class Watchdog:
    def __init__(self, period: float = PERIOD) -> None:
        self.period = period
        self._inflight: dict[int, Watch] = {}
        self._keys = itertools.count()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(
        self, seconds: float, cancel: Callable[[], object], end: Callable[[], object] | None = None
    ) -> Iterator[Watch]:
        """Held around one query: `cancel` is called (once, from the watchdog's thread) if it is still held
        `seconds` + `GRACE` from now, and `end` if it is still held `END_AFTER` seconds after that. Both must
        return within seconds (the query's thread waits for them)."""
        key = next(self._keys)
        watch = Watch(time.monotonic() + seconds + GRACE, cancel, end)
        with self._lock:
            self._inflight[key] = watch
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="maskwire-query-watchdog", daemon=True)
                self._thread.start()
        try:
            yield watch
        finally:
            with watch.acting, self._lock:  # an action under way ends first
                self._inflight.pop(key, None)

    def _run(self) -> None:
        while True:
            time.sleep(self.period)
            now = time.monotonic()
            with self._lock:  # a watch in this list cannot end until its `acting` is released
                due = [
                    (key, watch)
                    for key, watch in self._inflight.items()
                    if watch.deadline <= now and watch.acting.acquire(blocking=False)
                ]
            for key, watch in due:
                try:
                    self._act(key, watch)
                finally:
                    watch.acting.release()

    def _act(self, key: int, watch: Watch) -> None:
        if not watch.cancelled:
            watch.cancelled = True
            watch.deadline = time.monotonic() + END_AFTER
            if watch.end is None:
                with self._lock:
                    self._inflight.pop(key, None)
            action, what = watch.cancel, "cancel"
        else:
            with self._lock:
                self._inflight.pop(key, None)
            assert watch.end is not None
            watch.ended = True  # before the end: the query's thread may see its connection go before `end` returns
            action, what = watch.end, "end"
            log.warning("a query outlived its timeout and a cancel: its database session is ended")
        try:
            action()
        except Exception as exc:  # the connection may be gone
            log.warning("could not %s an overdue query (%s)", what, type(exc).__name__)


WATCHDOG = Watchdog()
