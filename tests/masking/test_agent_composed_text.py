"""Text the agent composed (an error echoing its names, a plan echoing its literals) is scanned without the
known values of the data: masking only what equals a stored value would tell which guesses are stored."""

from __future__ import annotations

from mcp_server.masking.detector import Detector
from mcp_server.masking.masker import MaskCounts, Masker
from mcp_server.masking.pseudonyms import Pseudonymizer


def test_errors_and_plans_treat_stored_and_unstored_guesses_alike(detector: Detector) -> None:
    detector.known_values.add("USERNAME", ["zqvx4417"])
    detector.known_values.add("DATE_OF_BIRTH", ["1933-02-17"])
    masker = Masker(detector, Pseudonymizer(b"k" * 32))
    stored = masker.scan_message("no such column: zqvx4417", frozenset())
    unstored = masker.scan_message("no such column: zqvx4418", frozenset())
    assert stored.replace("17", "18") == unstored  # the same answer, whether or not the guess is stored

    plan = "Filter: (status = ANY ('{1933-02-17,1933-02-18,zqvx4417,zqvx4418}'::text[]))"
    [(explained, _)] = masker.scan_texts([plan], stable=False)
    for stored_value, other in (("1933-02-17", "1933-02-18"), ("zqvx4417", "zqvx4418")):
        assert (stored_value in explained) == (other in explained), explained

    # data the database returns is still scanned with them
    masked = masker.apply("ticket from zqvx4417", detector.analyze("ticket from zqvx4417"), MaskCounts())
    assert "zqvx4417" not in masked
