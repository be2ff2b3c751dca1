from collections.abc import Sequence

from mcp_server.config import parse_config
from mcp_server.masking.findings import Finding
from mcp_server.masking.masker import Masker
from mcp_server.masking.pseudonyms import Pseudonymizer
from mcp_server.masking.term_lists import TermLists

TEXT = "Call Grace Hopper about Project FALCON, then thank Maria Gonzalez."


class NamesDetector:
    """Reports the two names in TEXT as PERSON (stands in for NER so the list logic is tested alone)."""

    def analyze_batch(
        self, texts: Sequence[str], context: Sequence[str] = (), *, known: bool = True
    ) -> list[list[Finding]]:
        out = []
        for text in texts:
            found = []
            for name in ("Grace Hopper", "Maria Gonzalez"):
                at = text.find(name)
                if at >= 0:
                    found.append(Finding("PERSON", at, at + len(name), 0.85))
            out.append(found)
        return out

    def analyze(self, text: str, context: Sequence[str] = (), *, known: bool = True) -> list[Finding]:
        return self.analyze_batch([text], context)[0]


def test_allow_and_deny_lists_apply_to_free_text() -> None:
    lists = TermLists(allow=["grace  HOPPER"], deny=["Project Falcon", "falcon"])
    masker = Masker(NamesDetector(), Pseudonymizer(b"k" * 32), term_lists=lists)  # type: ignore[arg-type]
    [(masked, counts)] = masker.scan_texts([TEXT])
    assert "Grace Hopper" in masked  # allowed
    assert "Maria Gonzalez" not in masked and "FALCON" not in masked
    assert counts == {"PERSON": 1, "CUSTOM": 1}  # the longest deny term wins


def test_deny_matches_whole_words_only() -> None:
    lists = TermLists(deny=["ace"])
    assert lists.apply("a place to race", []) == []
    assert [f.entity for f in lists.apply("ace of spades", [])] == ["CUSTOM"]
    assert not TermLists()


def test_config_keys() -> None:
    config = parse_config('[masking]\nallow_list = ["Trailhead Outfitters"]\ndeny_list = ["Project Falcon"]\n')
    assert config.masking.allow_list == ["Trailhead Outfitters"] and config.masking.deny_list == ["Project Falcon"]
