"""The masker fails closed: a value whose detection raises is withheld, never returned."""

from __future__ import annotations

from collections.abc import Sequence

from mcp_server.masking.detector import Finding
from mcp_server.masking.masker import WITHHELD, MaskCounts, Masker
from mcp_server.masking.pseudonyms import Pseudonymizer


class BrokenDetector:
    """Raises for texts that contain "boom" (fault injection, standing in for a crashing recognizer)."""

    def analyze_batch(self, texts: Sequence[str], context: Sequence[str] = ()) -> list[list[Finding]]:
        if any("boom" in t for t in texts):
            raise RuntimeError("recognizer crashed")
        return [[] for _ in texts]

    def analyze(self, text: str, context: Sequence[str] = ()) -> list[Finding]:
        return self.analyze_batch([text], context)[0]


def test_detection_error_withholds_only_the_failing_value() -> None:
    masker = Masker(BrokenDetector(), Pseudonymizer(b"k" * 32))  # type: ignore[arg-type]
    out = masker.scan_texts(["fine text", "boom: Maria Gonzalez 123-45-6789", None])
    assert out[0][0] == "fine text"
    assert out[1][0] == WITHHELD and out[1][1]["WITHHELD"] == 1
    assert out[2][0] is None


def test_binary_and_whole_values() -> None:
    masker = Masker(BrokenDetector(), Pseudonymizer(b"k" * 32))  # type: ignore[arg-type]
    counts = MaskCounts()
    assert masker.mask_whole("PERSON", b"\x00\x01raw", counts) == "<BINARY:5 bytes>"
    assert masker.clear(b"\xff\xfe") == "<BINARY:2 bytes>"
    token = masker.mask_whole("PERSON", "Maria", counts)
    assert token.startswith("<PERSON:") and "Maria" not in token
    assert counts.as_dict() == {"BINARY": 1, "PERSON": 1}
    assert masker.mask_whole("PERSON", None, counts) is None


def test_long_cells_are_cut_and_say_so() -> None:
    masker = Masker(BrokenDetector(), Pseudonymizer(b"k" * 32), max_cell_chars=100)  # type: ignore[arg-type]
    [(value, _)] = masker.scan_texts(["a" * 250])
    assert value.startswith("a" * 100) and "150 more characters not shown" in value


def test_redact_operator() -> None:
    masker = Masker(BrokenDetector(), Pseudonymizer(b"k" * 32), operator="redact")  # type: ignore[arg-type]
    assert masker.mask_whole("EMAIL_ADDRESS", "a@b.example", MaskCounts()) == "<EMAIL_ADDRESS>"
