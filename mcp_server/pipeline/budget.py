"""The one budget fitter: the largest of a tool's candidate outputs that fits the per-call output-token budget.

Candidates are ordered from the largest (every row, every hit at full length) to the smallest. The fitter
estimates each candidate cheaply (characters, not tokens), counts exactly only the candidates it must decide
on, learns the text's characters-per-token ratio from each exact count, and returns the chosen text with its
exact count, which the ledger then records as the call's tokens out. The budget is a promise: the result's exact
count is at most the budget, unless even the smallest candidate is over (the caller makes that one smaller).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mcp_server.tokens import TokenCounter

CHARS_PER_TOKEN = 3.0
"""A first guess for the estimate, below the usual ratio of English and masked tables (so it over-estimates)."""
BISECT_AFTER = 4
SURE_MARGIN = 0.1
"""A larger candidate estimated over the budget by more than this share is not counted (the estimate is off by
less than this on text like the one it was measured on)."""
SAMPLE_CHARS = 2_000


@dataclass(frozen=True)
class Fitted:
    index: int
    """Which candidate (0 = the largest)."""
    text: str
    tokens: int
    """The exact count of `text`."""
    fits: bool


class BudgetFitter:
    def __init__(self, counter: TokenCounter, budget: int) -> None:
        self.counter = counter
        self.budget = budget

    def sample_ratio(self, text: str) -> float:
        """Characters per token of a sample of `text` (its first SAMPLE_CHARS characters), counted exactly: a
        first estimate for candidates made of the same kind of text, such as the rows of one result."""
        sample = text[:SAMPLE_CHARS]
        return max(len(sample), 1) / max(self.counter.count(sample), 1)

    def largest(
        self,
        candidates: int,
        render: Callable[[int], str],
        chars: Callable[[int], int],
        *,
        ratio: float = CHARS_PER_TOKEN,
        margin: float = SURE_MARGIN,
    ) -> Fitted:
        """The first (largest) of `candidates` outputs whose text fits.

        `render(i)` builds candidate i's text; `chars(i)` is its length in characters (cheap, and non-increasing
        in i). Exact counts are taken only of the candidates probed, each probe narrowing the range in which the
        answer lies, so a call that fits at once is counted once. A larger candidate that the ratio measured on
        a fitting one puts over the budget by more than `margin` is not counted: the page may then be a row short
        of full. `ratio` is the first guess of characters per token (see `sample_ratio`)."""
        over = -1  # the largest index known not to fit
        best: Fitted | None = None  # the smallest index known to fit
        probe = self._first_estimated_fit(0, candidates, chars, ratio)
        for probes in range(1, candidates + 1):
            text = render(probe)
            tokens = self.counter.count(text)
            if tokens <= self.budget:
                best = Fitted(probe, text, tokens, True)
            else:
                over = probe
            end = best.index if best is not None else candidates
            if end == over + 1:  # every larger candidate is over: the answer is known
                return best if best is not None else Fitted(over, text, tokens, False)
            if probes >= BISECT_AFTER:  # the estimates keep missing: halve the open range instead
                probe = (over + 1 + end) // 2
            else:  # the largest candidate the ratio just measured says fits, inside the open range
                ratio = max(chars(probe), 1) / max(tokens, 1)
                probe = min(self._first_estimated_fit(over + 1, end, chars, ratio), end - 1)
                if best is not None and chars(probe) / ratio > self.budget * (1 + margin):
                    return best  # measured on this very text, no larger candidate fits: not worth a count
        raise AssertionError("unreachable: every probe narrows the open range")  # pragma: no cover

    def _first_estimated_fit(self, start: int, end: int, chars: Callable[[int], int], ratio: float) -> int:
        """The first index in [start, end) whose estimate fits, else the last one; `end` when the range is empty."""
        if start >= end:
            return end
        lo, hi = start, end - 1
        while lo < hi:  # estimates are non-increasing in the index: binary search
            mid = (lo + hi) // 2
            if chars(mid) / ratio <= self.budget:
                hi = mid
            else:
                lo = mid + 1
        return lo
