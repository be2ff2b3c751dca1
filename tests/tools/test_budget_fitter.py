"""The one budget fitter: the largest candidate that fits, counted exactly as few times as it can."""

from __future__ import annotations

import random

import pytest

from mcp_server.pipeline.budget import BudgetFitter
from mcp_server.tokens import TokenCounter


class CountingCounter(TokenCounter):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def count(self, text: str) -> int:
        self.calls += 1
        return super().count(text)


def _lines(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    words = ["invoice", "<EMAIL_ADDRESS:9e25310b04e9>", "42", "refund", "Zürich", "🙂", "a" * 30, "|", "NULL"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) for _ in range(n)]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("budget", [50, 400, 3_000])
def test_the_largest_fitting_prefix_is_found_and_never_over(seed: int, budget: int) -> None:
    lines = _lines(seed, 200)
    counter = CountingCounter()

    def render(i: int) -> str:
        return "\n".join(["header", *lines[: len(lines) - i]])

    fitted = BudgetFitter(counter, budget).largest(len(lines) + 1, render, lambda i: len(render(i)))
    exact = TokenCounter()
    assert fitted.text == render(fitted.index) and fitted.tokens == exact.count(fitted.text)
    if fitted.fits:
        assert fitted.tokens <= budget
        if fitted.index >= 2:  # at most a row short of the largest prefix that fits
            assert exact.count(render(fitted.index - 2)) > budget
    else:
        assert fitted.index == len(lines)
    assert counter.calls <= 12


def test_a_candidate_that_fits_at_once_is_counted_once() -> None:
    counter = CountingCounter()
    fitted = BudgetFitter(counter, 1_000).largest(3, lambda i: "short text " * (3 - i), lambda i: 11 * (3 - i))
    assert (fitted.index, fitted.fits, counter.calls) == (0, True, 1)


def test_nothing_fits_returns_the_smallest_candidate_marked_over() -> None:
    fitted = BudgetFitter(TokenCounter(), 5).largest(3, lambda i: "word " * (300 - 100 * i), lambda i: 1500 - 500 * i)
    assert (fitted.index, fitted.fits) == (2, False) and fitted.tokens > 5
