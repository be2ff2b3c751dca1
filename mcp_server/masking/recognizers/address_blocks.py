"""The end of an address block in free text: `..., <street line>, <postcode> <place>` or `..., <place>
<postcode>`, found by its structure rather than by a street type word, so that it holds for street names
that no list knows (`Canale Caterina, 89, 84121 Forme`, `Morro de Cardoso, 89779555 Cunha`).

A postcode in one of the national shapes (five digits; `12345-678`, `12345678` and `1234-567`; `1234 AB`;
British `SW1A 2AA`), right after a comma, next to a place (one to five capitalised words, particles such as
`de`, `da`, `di` inside or first, up to a full stop, comma, semicolon, line break or lower-case word), counts
only when the comma-separated part before it is a street line: it has a house number and a word and does
not end in a lower-case word (`577 Joseph Station`, `Hermannweg 4/9`; not `shipped 17 boxes`), or it is a
house number after a named line (`Canale Caterina, 89`), or two to six words that start with a capital
(`avenue de Lévy` counts through its particle). The street line, the postcode and the place are reported
apart (STREET_ADDRESS, POSTAL_CODE, LOCATION), as the street recognizer reports them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from presidio_analyzer import RecognizerResult

from ._results import TextRecognizer, result
from .addresses import NAME_PARTICLES

_CODE = (
    r"(?:[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}"  # British
    r"|[1-9]\d{3} ?[A-Z]{2}"  # Dutch
    r"|\d{5}-\d{3,4}|\d{4}-\d{3}|\d{8}|\d{5})"  # Brazilian, US ZIP+4, Portuguese, five digits
)
_WORD = r"[^\W\d_]+(?:['’\-][^\W\d_]+)*'?"
_PARTICLE = "|".join(sorted((re.escape(p) for p in NAME_PARTICLES), key=len, reverse=True))
_PLACE = rf"(?:(?:{_PARTICLE}) )?[A-ZÀ-ÖØ-Þ]{_WORD}(?: (?:(?:{_PARTICLE}) )*[A-ZÀ-ÖØ-Þ]{_WORD}){{0,4}}"
# after the place: punctuation (French puts a space before `;`, `:`, `!` and `?`), a lower-case word, the end
_END = r"(?=\s?[.,;:!?)\n]|\s+[^\W\d_]*[a-zß-ÿ]|\s*$)"
# `, 84121 Forme` / `, Port Rachelton 27300`
_CODE_PLACE = re.compile(rf",\s+(?P<code>{_CODE}) (?P<place>{_PLACE}){_END}")
_PLACE_CODE = re.compile(rf",\s+(?P<place>{_PLACE}),? (?P<code>{_CODE})(?=[.,;:!?)\s]|$)")
_HOUSE_NUMBER = re.compile(r"(?<![\w-])\d{1,5}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?(?![\w-])")
# Where the street line cannot start before: a line break, a semicolon, the end of a sentence (a full stop after
# a word of four letters or more: `Apt. 934` and `St. Mary` go on)
_LINE_BREAK = re.compile(r"[;\n]|(?<=[^\W\d_]{4})[.!?]\s|[!?]\s")


class AddressBlockRecognizer(TextRecognizer):
    """Street line, postcode and place at the end of an address block (see the module docstring)."""

    ENTITIES = ("STREET_ADDRESS", "POSTAL_CODE", "LOCATION")
    # The structure outweighs NER's guess (`Canale Caterina` as a PERSON) and a street line that took in the
    # postcode (`rue de Toussaint, 07495`).
    SCORE = 0.95
    STREET_SCORE = 0.9

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        out: list[RecognizerResult] = []
        for pattern in (_CODE_PLACE, _PLACE_CODE):
            for m in pattern.finditer(text):
                street = _street_line(text, m.start())
                if street is None:
                    continue
                out.append(result(self, "STREET_ADDRESS", *street, self.STREET_SCORE, "street line of an address"))
                out.append(result(self, "POSTAL_CODE", *m.span("code"), self.SCORE, "postcode of an address"))
                out.append(result(self, "LOCATION", *m.span("place"), self.SCORE, "place of an address"))
        return out


def _street_line(text: str, comma: int) -> tuple[int, int] | None:
    """The street line that ends at `comma`: its last comma-separated part, with the part before it when
    the last one is only a house number; None when it does not look like one."""
    stop = max((m.end() for m in _LINE_BREAK.finditer(text, max(0, comma - 120), comma)), default=max(0, comma - 120))
    parts = [p for p in re.finditer(r"[^,]+", text[stop:comma])]
    if not parts:
        return None
    last = parts[-1]
    words = last.group(0).split()
    start, end = stop + last.start(), stop + last.end()
    if not words:
        return None
    if _HOUSE_NUMBER.fullmatch(last.group(0).strip()):  # `Canale Caterina, 89`
        if len(parts) < 2:
            return None
        start = _after_prose(text, stop + parts[-2].start(), stop + parts[-2].end())
        return (start, end) if _named(text[start : stop + parts[-2].end()].split()) else None
    start = _after_prose(text, start, end)
    words = text[start:end].split()
    numbered = (
        _HOUSE_NUMBER.search(text, start, end) is not None
        and any(w[:1].isalpha() for w in words)
        and not (words and words[-1][:1].islower())  # `shipped 17 boxes` is prose
    )
    if not numbered and not _named(words):
        return None
    return start, end


def _after_prose(text: str, start: int, end: int) -> int:
    """The street line starts after the prose before it (`Edward Williams moved to 577 Joseph Station`):
    after the last lower-case word that is not the first word or a particle, and after particles."""
    words = list(re.finditer(r"\S+", text[start:end]))
    cut = 0
    for k, w in enumerate(words[:-1]):
        if k > 0 and w.group(0)[:1].islower() and w.group(0).lower() not in NAME_PARTICLES:
            cut = k + 1
    while cut < len(words) - 1 and words[cut].group(0).lower() in NAME_PARTICLES:
        cut += 1
    return start + words[cut].start() if words else start


def _named(words: list[str]) -> bool:
    """Two to six words, the first capitalised or a street type in lower case followed by a particle
    (`avenue de Lévy`), every word but particles capitalised."""
    if not 2 <= len(words) <= 6:
        return False
    rest = [w for w in words[1:] if w.lower() not in NAME_PARTICLES]
    first_ok = words[0][:1].isupper() or (words[1].lower() in NAME_PARTICLES and words[0].isalpha())
    return first_ok and bool(rest) and all(w[:1].isupper() for w in rest)
