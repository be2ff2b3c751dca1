"""The masker fails closed: a value whose detection raises is withheld, never returned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from mcp_server.masking.findings import Finding
from mcp_server.masking.masker import WITHHELD, MaskCounts, Masker, ScanBudget
from mcp_server.masking.pseudonyms import Pseudonymizer


class BrokenDetector:
    """Raises for texts that contain "boom" (fault injection, standing in for a crashing recognizer)."""

    def analyze_batch(
        self, texts: Sequence[str], context: Sequence[str] = (), *, known: bool = True
    ) -> list[list[Finding]]:
        if any("boom" in t for t in texts):
            raise RuntimeError("recognizer crashed")
        return [[] for _ in texts]

    def analyze(self, text: str, context: Sequence[str] = (), *, known: bool = True) -> list[Finding]:
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


def test_a_column_is_masked_like_its_cells_one_by_one() -> None:
    masker = Masker(BrokenDetector(), Pseudonymizer(b"k" * 32))  # type: ignore[arg-type]
    utc, plus_two = dt.UTC, dt.timezone(dt.timedelta(hours=2))
    column = [
        *("Maria Lopez", 1, "Maria Lopez", None, b"\x00raw", True, "1", 1, "<PERSON:0123456789ab>", 2.5),
        *(dt.date(1981, 3, 14), "1981-03-14", Decimal("1.0"), Decimal("1.00"), float("nan"), bytearray(b"x")),
        # equal instants written differently: the text decides the token, as it does cell by cell
        *(dt.datetime(2020, 1, 1, 12, tzinfo=utc), dt.datetime(2020, 1, 1, 14, tzinfo=plus_two), " maria  LOPEZ "),
    ]
    for operator in (None, "hash", "partial", "redact"):
        one_by_one = []
        for value in column:
            counts = MaskCounts()
            masked = masker.mask_whole("PERSON", value, counts, operator)
            one_by_one.append((masked, next(iter(counts.by_entity), None)))
        assert masker.mask_column("PERSON", column, operator) == one_by_one, operator
    tokens = [masker.mask_whole("PERSON", value, MaskCounts()) for value in column]
    assert tokens[0] == tokens[2] == tokens[-1] and "Maria" not in str(tokens[0])
    assert tokens[1] != tokens[5]  # 1 and True are different values
    kept = masker.with_operators({"PERSON": "keep"}).mask_column("PERSON", ["Maria Lopez"])
    assert kept == [("Maria Lopez", None)]


def test_long_cells_are_cut_and_say_so() -> None:
    masker = Masker(BrokenDetector(), Pseudonymizer(b"k" * 32), max_cell_chars=100)  # type: ignore[arg-type]
    [(value, _)] = masker.scan_texts(["a" * 250])
    assert value.startswith("a" * 100) and value.endswith("…[more characters not shown]")
    [(other, _)] = masker.scan_texts(["a" * 400])
    assert other == value  # how long the hidden tail of free text is, is not told
    assert masker.clear("b" * 250).endswith("…[150 more characters not shown]")  # a clear value's length is clear
    huge = Decimal("9" * 300)  # a clear numeric column can hold numbers of thousands of digits
    for column in ([huge, huge], [huge, 7], ["b" * 250, "c"]):
        cut = masker.clear_column(column)
        assert all(not isinstance(v, str) or len(v) < 140 for v in cut), column
        assert cut[0].endswith("more characters not shown]")


def test_redact_operator() -> None:
    masker = Masker(BrokenDetector(), Pseudonymizer(b"k" * 32), operator="redact")  # type: ignore[arg-type]
    assert masker.mask_whole("EMAIL_ADDRESS", "a@b.example", MaskCounts()) == "<EMAIL_ADDRESS>"


class CountingDetector(BrokenDetector):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def analyze_batch(
        self, texts: Sequence[str], context: Sequence[str] = (), *, known: bool = True
    ) -> list[list[Finding]]:
        self.seen.extend(texts)
        return super().analyze_batch(texts, context)


def test_each_text_is_analysed_once_and_roles_share_the_cache() -> None:
    detector = CountingDetector()
    masker = Masker(detector, Pseudonymizer(b"k" * 32))  # type: ignore[arg-type]
    masker.scan_texts(["same text", "same text", "other"])
    masker.with_operators({"PERSON": "redact"}).scan_texts(["same text", "third"])
    assert sorted(detector.seen) == ["other", "same text", "third"]


def test_failed_detection_is_not_cached() -> None:
    detector = CountingDetector()
    masker = Masker(detector, Pseudonymizer(b"k" * 32))  # type: ignore[arg-type]
    assert masker.scan_texts(["boom"])[0][0] == WITHHELD
    first = detector.seen.count("boom")
    assert masker.scan_texts(["boom"])[0][0] == WITHHELD
    assert detector.seen.count("boom") == 2 * first  # tried again, not served from the cache


def test_a_clear_value_shaped_like_a_token_is_not_shown_as_one() -> None:
    masker = Masker(BrokenDetector(), Pseudonymizer(b"k" * 32))  # type: ignore[arg-type]
    shown = masker.clear("<EMAIL_ADDRESS:2a026590efb4> and <CREDIT_CARD:…1234>")
    assert "<EMAIL_ADDRESS:" not in shown and "<CREDIT_CARD:" not in shown
    assert shown == "‹EMAIL_ADDRESS:2a026590efb4› and ‹CREDIT_CARD:…1234›"
    assert masker.clear("a < b and <b>bold</b>") == "a < b and <b>bold</b>"
    assert masker.clear("stored <SECRET> marker") == "stored ‹SECRET› marker"


def test_free_text_holding_a_token_string_does_not_pass_it_on() -> None:
    masker = Masker(BrokenDetector(), Pseudonymizer(b"k" * 32))  # type: ignore[arg-type]
    planted = "forward to <US_SSN:cf7a03e66080> and <SECRET>"
    assert masker.apply(planted, [], MaskCounts()) == "forward to ‹US_SSN:cf7a03e66080› and ‹SECRET›"


class NameDetector(BrokenDetector):
    """Finds `Maria Gonzalez` wherever it is (a stand-in detector whose findings the test knows)."""

    def analyze_batch(
        self, texts: Sequence[str], context: Sequence[str] = (), *, known: bool = True
    ) -> list[list[Finding]]:
        name = "Maria Gonzalez"
        return [[Finding("PERSON", t.index(name), t.index(name) + len(name), 0.9)] if name in t else [] for t in texts]


def test_masked_text_is_remembered_per_role_and_budgeted_as_if_scanned() -> None:
    """A text masked before is served as masked before by the same role's masker, and by no other role's (their
    operators differ); it still counts against the call's scan budget, so a page is withheld alike either way."""
    masker = Masker(NameDetector(), Pseudonymizer(b"k" * 32))  # type: ignore[arg-type]
    text = "call Maria Gonzalez back"
    first, counts = masker.scan_texts([text])[0]
    assert first.startswith("call <PERSON:") and counts["PERSON"] == 1
    assert masker.scan_texts([text])[0] == (first, counts)
    assert masker.with_operators({"PERSON": "redact"}).scan_texts([text])[0][0] == "call <PERSON> back"
    tight = ScanBudget(max_chars=len(text) - 1)
    assert masker.scan_texts([text], budget=tight)[0][0] != first  # over budget: withheld, cached or not


def test_a_json_value_the_driver_parsed_is_rendered_as_json() -> None:
    """PostgreSQL's json/jsonb and arrays arrive as dicts and lists: shown (and scanned, field by field) as JSON."""
    from mcp_server.masking.masker import plain

    assert plain({"nickname": "Quen", "vip": True, "tags": ["a", None]}) == (
        '{"nickname": "Quen", "vip": true, "tags": ["a", null]}'
    )
    assert plain(["x", 1]) == '["x", 1]'
