"""Street addresses and country names in free text, which Presidio's defaults mostly miss (its NER sees a
street name as a PERSON). Neither recognizer needs NLP artifacts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from presidio_analyzer import RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from ._results import TextRecognizer, result

if TYPE_CHECKING:
    pass

_DIGIT = re.compile(r"\d")

# British and Canadian postcodes (`SW1A 2AA`, `K1A 0B1`) are one token each.
_UK_CA_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[A-Z]\d[A-Z] ?\d[A-Z]\d"
# Dutch postcodes (`7312 CU`, `1017AB`) are one token too.
_NL_POSTCODE = r"[1-9]\d{3} ?[A-Z]{2}"
_ADDR_TOKEN = re.compile(
    rf"(?<![\w-])(?:{_UK_CA_POSTCODE}|{_NL_POSTCODE})(?![\w-])"
    r"|\d+(?:[-/]\d+)*[A-Za-z]?\.?|[^\W\d_]+(?:['’.\-][^\W\d_]+)*\.?|\n|[,#]"
)
# Street types, any language: a word that is one, or ends with one of the compound suffixes, makes a
# number next to it a house number.
STREET_WORDS = frozenset(
    [
        "street", "st", "st.", "str", "str.", "road", "rd", "rd.", "avenue", "ave", "ave.", "av", "av.", "avda",
        "avenida", "boulevard", "blvd", "blvd.", "bd", "drive", "dr", "dr.", "lane", "ln", "ln.", "way", "court", "ct",
        "ct.", "place", "pl", "pl.", "plaza", "square", "sq", "sq.", "terrace", "terr", "terrasse", "trail", "trl",
        "parkway", "pkwy", "highway", "hwy", "circle", "cir", "crescent", "cres", "close", "row", "walk", "path",
        "pike", "alley", "mews", "grove", "gardens", "gdns", "green", "hill", "hills", "park", "view", "heights",
        "ridge", "flat", "flats", "forks", "fork", "junction", "loop", "extension", "extensions", "meadow", "meadows",
        "point", "landing", "manor", "village", "estates", "crossing", "crossroad", "bypass", "causeway", "expressway",
        "freeway", "cove", "bend", "bluff", "brook", "burg", "center", "centre", "common", "commons", "creek", "dale",
        "dam", "divide", "estate", "falls", "ferry", "field", "fields", "ford", "forest", "garden", "gateway", "glen",
        "harbor", "harbour", "haven", "island", "isle", "key", "knoll", "lake", "lakes", "mall", "mill", "mills",
        "mount", "mountain", "orchard", "oval", "pass", "passage", "pine", "pines", "plain", "plains", "port",
        "prairie", "ranch", "rapids", "rest", "river", "shore", "shores", "spring", "springs", "square", "stream",
        "summit", "trace", "track", "turnpike", "underpass", "union", "valley", "vista", "wall", "wells", "wharf",
        "wood", "woods", "rue", "via", "viale", "vicolo", "piazza", "piazzale", "corso", "largo", "strada", "calle",
        "carrera", "camino", "paseo", "plazuela", "rua", "travessa", "praça", "praca", "largo", "estrada", "ulica",
        "ul", "ul.", "aleja", "al.", "utca", "út", "tér", "körút", "krt", "sokak", "sokağı", "cadde", "caddesi", "odos",
        "leoforos", "straße", "strasse", "gasse", "weg", "platz", "allee", "ring", "damm", "ufer", "chaussee", "laan",
        "straat", "gracht", "plein", "kade", "steeg", "singel", "vej", "vei", "veien", "gade", "gata", "gatan", "gränd",
        "vägen", "väg", "stig", "tie", "katu", "kuja", "polku", "ranta", "tori", "bulevar", "bulevardul", "strada",
        "trg", "náměstí", "namesti", "nábřeží", "route", "rte", "chemin", "rúa", "tee", "põik", "útja",
    ]
)  # fmt: skip
STREET_SUFFIXES = (
    "strasse", "straße", "str.", "weg", "gasse", "platz", "allee", "laan", "straat", "gracht", "vej", "vei",
    "veien", "gade", "gata", "gatan", "vägen", "väg", "tie", "katu", "kuja", "polku", "ranta", "stræde", "vegen",
    "veg", "gränd", "utca", "street", "road", "avenue", "ulica", "sokak", "caddesi", "plein", "kade", "singel",
    "dijk", "baan", "dreef", "markt", "steeg", "steig", "pfad",
)  # fmt: skip
# A street named after the type: "Rue de Tanger 12", "Via dei Fiorentini 1", "ul. Cicha 86".
STREET_FIRST = frozenset(
    [
        "rue",
        "rúa",
        "chemin",
        "via",
        "viale",
        "vicolo",
        "piazza",
        "corso",
        "strada",
        "calle",
        "carrera",
        "camino",
        "paseo",
        "rua",
        "travessa",
        "avenida",
        "avda",
        "praça",
        "ulica",
        "ul",
        "ul.",
        "aleja",
        "al.",
        "plac",
        "bulevar",
        "bulevardul",
        "trg",
        "odos",
        "leoforos",
        # French, Spanish, Italian and Portuguese street types that come before the name
        "avenue",
        "boulevard",
        "allée",
        "impasse",
        "place",
        "quai",
        "route",
        "cours",
        "passage",
        "faubourg",
        "plaza",
        "pasaje",
        "ronda",
        "travesía",
        "rambla",
        "carretera",
        "glorieta",
        "callejón",
        "vía",
        "piazzale",
        "borgo",
        "contrada",
        "lungomare",
        "vico",
        "traversa",
        "salita",
        "alameda",
        "rodovia",
        "estrada",
        "largo",
        "viela",
        "ladeira",
        "beco",
        "quadra",
    ]
)
UNIT_WORDS = frozenset(
    [
        "apt",
        "apt.",
        "apartment",
        "suite",
        "ste",
        "ste.",
        "unit",
        "flat",
        "floor",
        "fl",
        "fl.",
        "room",
        "rm",
        "rm.",
        "box",
        "#",
        "no",
        "no.",
        "nr",
        "nr.",
        "bldg",
        "building",
        # floors, doors and flats in other languages (`Piano 3`, `Puerta 6`, `Apto 12`, `Andar 2`)
        "piano",
        "interno",
        "int.",
        "scala",
        "puerta",
        "piso",
        "escalera",
        "esc.",
        "apto",
        "apto.",
        "andar",
        "bloco",
        "étage",
        "etage",
    ]
)
# Lowercase words that may sit inside a street name ("Rua do Arenque") or a place name ("Frankfurt am Main").
NAME_PARTICLES = frozenset(
    [
        "de",
        "del",
        "della",
        "delle",
        "dello",
        "dei",
        "degli",
        "di",
        "da",
        "do",
        "dos",
        "das",
        "du",
        "des",
        "la",
        "le",
        "les",
        "van",
        "von",
        "der",
        "den",
        "het",
        "ter",
        "z",
        "u",
        "na",
        "nad",
        "pod",
        "y",
        "e",
        "el",
        "al",
    ]
)
# ...and the words that may join the parts of a place name (`Stratford upon Avon`, `Isle of Man`).
CONNECTORS = NAME_PARTICLES | frozenset(["upon", "on", "am", "an", "im", "in", "of", "the", "and"])
# Capitalised words that end an address rather than continue it (a signature line, a label).
_NOT_PLACE = frozenset(
    [
        "thanks",
        "thank",
        "regards",
        "best",
        "sincerely",
        "cheers",
        "mobile",
        "phone",
        "tel",
        "telephone",
        "tél",
        "telefon",
        "telefone",
        "teléfono",
        "telefono",
        "tfno",
        "tlf",
        "fone",
        "fax",
        "email",
        "e-mail",
        "desk",
        "office",
        "website",
        "web",
        "cell",
        "home",
        "work",
        "note",
        "notes",
        "please",
        "dear",
        "hi",
        "hello",
        "order",
        "invoice",
        "total",
        "date",
        "ref",
        "reference",
    ]
)
_POSTCODE = re.compile(
    r"\d{3,6}(?:-\d{3,4})?|\d{8}|[A-Z]\d[A-Z]|\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]?|\d[A-Z]{2}|"
    + _UK_CA_POSTCODE
    + "|"
    + _NL_POSTCODE
)
_MILITARY = re.compile(
    r"\b(?:(?:PSC|CMR|Unit)\s+\d{3,5},?\s+Box\s+\d{1,5}|(?:USNS|USNV|USS|USCGC)\s+[A-Z][a-z]+)"
    r"\s*\n?\s*[FAD]PO\s+A[AEP]\s+\d{5}\b",
    re.IGNORECASE,
)
_PO_BOX = re.compile(r"\b(?:P\.?\s?O\.?|Post\s+Office)\s*Box\s+\d{1,6}\b", re.IGNORECASE)


def _is_cap(word: str) -> bool:
    return word[:1].isupper()


def _street_word(word: str) -> bool:
    low = word.lower().rstrip(".")
    if low in STREET_WORDS or word.lower() in STREET_WORDS or (len(low) > 5 and low.endswith(STREET_SUFFIXES)):
        return True
    return len(low) > 4 and low.endswith("s") and low[:-1] in STREET_WORDS  # `Greens`, `Points`


class StreetAddressRecognizer(TextRecognizer):
    """Street addresses: `24 Clarke Avenue`, `Wingertweg 126`, `Via dei Fiorentini 1`, `PO Box 242`, with
    their `Apt. 5` / `Suite 300` (STREET_ADDRESS) and the city, region and country (LOCATION) and postcode
    (POSTAL_CODE) parts that follow, each reported on its own so that a role may see some of them.

    A house number next to a street type word (any of ~200, in a dozen languages, or a compound such as
    `...strasse`, `...katu`, `...vej`) scores 0.9; a number, capitalised words and a number with no street
    type (`333 Golfskálinn 78`) scores 0.55, or 0.85 with an apartment or suite after it.
    """

    ENTITY = "STREET_ADDRESS"
    ENTITIES = (ENTITY, "LOCATION", "POSTAL_CODE")
    STRONG = 0.9
    WEAK = 0.55
    WEAK_WITH_UNIT = 0.85
    UNIT_ONLY = 0.6

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        if not _DIGIT.search(text):
            return []
        toks = [(m.start(), m.end(), m.group(0)) for m in _ADDR_TOKEN.finditer(text)]
        found: list[tuple[int, int, str, float]] = []
        for pattern in (_MILITARY, _PO_BOX):
            for m in pattern.finditer(text):
                found.append((m.start(), m.end(), self.ENTITY, self.STRONG))
                parts = self._extend(text, toks, self._index_after(toks, m.end()))
                found.extend((a, b, entity, self.STRONG) for a, b, entity in parts if a >= m.end())
        i = 0
        while i < len(toks):
            span = self._street_at(text, toks, i)
            if span is None:
                i += 1
                continue
            first, last, strong = span
            after = last + 1
            unit_end, after = self._unit(text, toks, after)
            start, end = toks[first][0], max(toks[last][1], unit_end)
            score = self.STRONG if strong else (self.WEAK_WITH_UNIT if unit_end else self.WEAK)
            found.append((start, end, self.ENTITY, score))
            if strong or unit_end:
                parts = self._extend(text, toks, after)
                found.extend((a, b, entity, score) for a, b, entity in parts)
                if parts:  # the city and postcode are not the start of another street
                    after = max(after, self._index_after(toks, parts[-1][1]))
            i = max(after, i + 1)
        for k, (s, _, word) in enumerate(toks):  # a lone "Apt. 117" / "Suite 464"
            if word.lower() in ("apt", "apt.", "apartment", "suite", "ste.") and k + 1 < len(toks):
                nxt = toks[k + 1]
                if nxt[2][0].isdigit() and _gap_ok(text, toks[k][1], nxt[0]):
                    found.append((s, nxt[1], self.ENTITY, self.UNIT_ONLY))
        return [
            result(self, entity, s, e, sc, "street address" if entity == self.ENTITY else "part of an address")
            for s, e, entity, sc in found
            if not entities or entity in entities
        ]

    @staticmethod
    def _index_after(toks: list[tuple[int, int, str]], pos: int) -> int:
        return next((k for k, t in enumerate(toks) if t[0] >= pos), len(toks))

    def _street_at(self, text: str, toks: list[tuple[int, int, str]], i: int) -> tuple[int, int, bool] | None:
        """(first token, last token, has a street type) of a street line starting at token i, or None."""
        word = toks[i][2]
        if toks[i][0] > 0 and text[toks[i][0] - 1].isalnum():
            return None  # inside a word: `ffaddf22cbd0`, `ab12`
        if word[0].isdigit():  # number first: "24 Clarke Avenue", "50345 Wingertweg 126", "8116 56 rue La Boétie"
            if len(word.rstrip(".")) > 6:
                return None
            j = i + 1
            if j < len(toks) and toks[j][2][0].isdigit() and _gap_ok(text, toks[i][1], toks[j][0]):
                j += 1
            if (  # "80, boulevard Patrick Poirier", "171, rue Dubois": the French comma after the number
                j + 1 < len(toks)
                and toks[j][2] == ","
                and _street_word(toks[j + 1][2])
                and _gap_ok(text, toks[j][1], toks[j + 1][0])
                and toks[j][0] == toks[j - 1][1]
            ):
                j += 1
            words = self._street_words(text, toks, j)
            if not words:
                return None
            if toks[words[-1]][2].lower() in STREET_FIRST:  # "8116 56 rue de pologne": the name follows the type
                words += _name_after_type(text, toks, words[-1] + 1)
            typed = any(_street_word(toks[k][2]) for k in words)
            last = words[-1]
            trailing = (
                last + 1 < len(toks)
                and _house_number(toks[last + 1][2])
                and _gap_ok(text, toks[last][1], toks[last + 1][0])
            )
            if trailing:
                last += 1
            if typed:
                return i, self._second_street(text, toks, last), True
            plain = not any(toks[k][2].lower() in STOP_WORDS for k in words)  # not "5 Musicians Of The 70s"
            if trailing and _is_cap(toks[words[0]][2]) and len(words) <= 3 and plain:
                return i, last, False
            return None
        if not word[0].isalpha():
            return None
        low = word.lower()
        # street first: "Via dei Fiorentini 1", "ul. Cicha 86"; a compound street name: "Wingertweg 126"
        compound = len(low) > 5 and low.endswith(STREET_SUFFIXES) and low not in STREET_WORDS
        if low in STREET_FIRST or compound:
            j = i + 1
            while j < len(toks) and j - i <= (1 if compound else 5) and _gap_ok(text, toks[j - 1][1], toks[j][0]):
                w = toks[j][2]
                if w == "," and j > i + 1 and j + 1 < len(toks) and _house_number(toks[j + 1][2]):
                    j += 1  # "Viale Ficino, 5", "Piazza Pratesi, 292": the number after a comma
                    w = toks[j][2]
                if _house_number(w) and (compound or j > i + 1):  # a name between: not "Place 12 orders"
                    more = self._street_words(text, toks, j + 1)  # "Tungata 11 Rott Crossroad"
                    if more and any(_street_word(toks[k][2]) for k in more):
                        j = more[-1]
                    return i, self._second_street(text, toks, j), True
                if not w[0].isalpha() or not (_is_cap(w) or w.lower() in NAME_PARTICLES or _street_word(w)):
                    break
                j += 1
        return None

    @staticmethod
    def _street_words(text: str, toks: list[tuple[int, int, str]], j: int) -> list[int]:
        """Indices of up to six street-name words from token j on: capitalised words, street types, and
        particles (`de`, `van`, `do`) between capitalised words."""
        words: list[int] = []
        while j < len(toks) and len(words) < 6 and _gap_ok(text, toks[j - 1][1], toks[j][0]):
            w = toks[j][2]
            low = w.lower()
            if w[0].isdigit() or not w[0].isalpha():
                break
            if not (_is_cap(w) or _street_word(w) or (low in NAME_PARTICLES and words)):
                break
            if not words and low in STOP_WORDS and not _street_word(w):
                break  # "Chapter 5 The Way Forward"
            words.append(j)
            j += 1
        while words and toks[words[-1]][2].lower() in NAME_PARTICLES:
            words.pop()
        return words

    def _second_street(self, text: str, toks: list[tuple[int, int, str]], last: int) -> int:
        """`... and Leokadia Trail` after a street: the corner of two streets is one address."""
        k = last + 1
        if k < len(toks) and toks[k][2].lower() == "and" and _gap_ok(text, toks[last][1], toks[k][0]):
            more = self._street_words(text, toks, k + 1)
            if more and _street_word(toks[more[-1]][2]):
                return more[-1]
        return last

    def _unit(self, text: str, toks: list[tuple[int, int, str]], k: int) -> tuple[int, int]:
        """End of an `Apt. 5` / `Suite 300` part starting at token k (0 when none), and the next token."""
        end = 0
        for _ in range(2):
            j = k
            while j < len(toks) and j - k < 2 and toks[j][2] in (",", "\n"):
                j += 1
            if (
                j + 1 < len(toks)
                and toks[j][2].lower() in UNIT_WORDS
                and toks[j + 1][2][0].isdigit()
                and _gap_ok(text, toks[j - 1][1], toks[j][0], lines=True)
            ):
                end, k = toks[j + 1][1], j + 2
                continue
            break
        return end, k

    def _extend(self, text: str, toks: list[tuple[int, int, str]], k: int) -> list[tuple[int, int, str]]:
        """The city / region / postcode / country parts that follow an address, from token k on:
        (start, end, LOCATION or POSTAL_CODE) each."""
        parts: list[tuple[int, int, str]] = []
        end = 0
        for _ in range(4):
            if k >= len(toks) or toks[k][2] not in (",", "\n"):
                if k < len(toks) and end and _POSTCODE.fullmatch(toks[k][2]) and _gap_ok(text, end, toks[k][0]):
                    parts += _place_parts(toks, k, k + 1)  # "Norway 95441"
                break
            while k < len(toks) and toks[k][2] in (",", "\n"):
                k += 1
            j, words, sentence_end = k, 0, False
            while j < len(toks) and toks[j][2] not in (",", "\n") and j - k < 6:
                w = toks[j][2]
                low = w.lower().rstrip(".")
                if w[0].isdigit():
                    if not _POSTCODE.fullmatch(w.rstrip(".")):
                        break
                elif _is_cap(w):
                    if low in _NOT_PLACE or ((low in UNIT_WORDS or low in STOP_WORDS) and not _region_code(w)):
                        break
                elif not (low in CONNECTORS and words):
                    break
                words += 1
                j += 1
                if w.endswith(".") and len(low) > 3 and j < len(toks) and _is_cap(toks[j][2]):
                    sentence_end = True  # "..., 23982 Fournier-sur-Roussel. Tél. ...": the address ends here
                    break
            if j == k:
                break
            if sentence_end:
                parts += _place_parts(toks, k, j)
                break
            if j < len(toks) and toks[j][2] not in (",", "\n"):
                # the line goes on with something that is not a place: keep it only up to a postcode or country
                last = toks[j - 1][2].rstrip(".")
                if _POSTCODE.fullmatch(last) or _COUNTRY.fullmatch(text, toks[k][0], toks[j - 1][1]):
                    parts += _place_parts(toks, k, j)
                break
            if text[toks[j - 1][1] : toks[j - 1][1] + 2].lstrip(" ").startswith(":"):
                break
            parts += _place_parts(toks, k, j)
            end, k = toks[j - 1][1], j
        return parts


def _place_parts(toks: list[tuple[int, int, str]], k: int, j: int) -> list[tuple[int, int, str]]:
    """Tokens k..j-1 of one part of an address, as runs of place words (LOCATION) and postcodes
    (POSTAL_CODE): `Aalborg NO 9100` -> `Aalborg NO`, `9100`; `London SW1A 1AA` -> `London`, `SW1A 1AA`."""
    runs: list[tuple[int, int, str]] = []
    for start, end, word in toks[k:j]:
        end -= word.endswith(".") and len(word) > 3  # the full stop of a sentence is not part of the place
        entity = "POSTAL_CODE" if _DIGIT.search(word) and _POSTCODE.fullmatch(word.rstrip(".")) else "LOCATION"
        if runs and runs[-1][2] == entity:
            runs[-1] = (runs[-1][0], end, entity)
        else:
            runs.append((start, end, entity))
    return runs


def _name_after_type(text: str, toks: list[tuple[int, int, str]], j: int) -> list[int]:
    """Up to four words of a street's name after its type word, in any case (`rue de pologne`,
    `rue des lieutemants Thomazo`): particles and words that are not stop words, on the same line."""
    words: list[int] = []
    while j < len(toks) and len(words) < 4 and _gap_ok(text, toks[j - 1][1], toks[j][0]):
        w = toks[j][2]
        low = w.lower()
        if not w[0].isalpha() or (low in STOP_WORDS and low not in NAME_PARTICLES) or low.rstrip(".") in UNIT_WORDS:
            break
        words.append(j)
        j += 1
    while words and toks[words[-1]][2].lower() in NAME_PARTICLES:
        words.pop()
    return words


def _region_code(word: str) -> bool:
    """`CO`, `NO`, `IN`: two capitals after a city are a region or country code, not a stop word."""
    return len(word) == 2 and word.isupper()


def _gap_ok(text: str, a: int, b: int, lines: bool = False) -> bool:
    """Two tokens of one address: apart by a few blanks (or line marks), never glued into one word (`ffaddf22cbd0`)."""
    gap = text[a:b]
    if not gap and text[a - 1 : a].isalnum() and text[b : b + 1].isalnum():
        return False
    return len(gap) <= (6 if lines else 3) and (gap.strip(" \t") == "" or (lines and gap.strip(" \t\n>?*|-") == ""))


def _house_number(word: str) -> bool:
    """`12`, `12a`, `12-14`, `13.` (Hungarian), not a year-like long number."""
    w = word.rstrip(".")
    if w.isdigit():
        return len(w) <= 5
    return len(w) <= 7 and _HOUSE.fullmatch(w) is not None


_HOUSE = re.compile(r"\d{1,5}[A-Za-z]?|\d{1,4}[-/]\d{1,4}[A-Za-z]?")


COUNTRIES = (
    "Afghanistan|Albania|Algeria|Andorra|Angola|Argentina|Armenia|Australia|Austria|Azerbaijan|Bahamas|Bahrain|"
    "Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bhutan|Bolivia|Bosnia and Herzegovina|Botswana|Brazil|Brunei|"
    "Bulgaria|Burkina Faso|Burundi|Cambodia|Cameroon|Canada|Cape Verde|Central African Republic|Chad|Chile|China|"
    "Colombia|Comoros|Congo|Costa Rica|Croatia|Cuba|Cyprus|Czech Republic|Czechia|Denmark|Djibouti|Dominica|"
    "Dominican Republic|Ecuador|Egypt|El Salvador|Equatorial Guinea|Eritrea|Estonia|Eswatini|Ethiopia|Fiji|Finland|"
    "France|Gabon|Gambia|Georgia|Germany|Ghana|Greece|Greenland|Grenada|Guatemala|Guinea|Guyana|Haiti|Honduras|"
    "Hong Kong|Hungary|Iceland|India|Indonesia|Iran|Iraq|Ireland|Israel|Italy|Ivory Coast|Jamaica|Japan|Jordan|"
    "Kazakhstan|Kenya|Kiribati|Kosovo|Kuwait|Kyrgyzstan|Laos|Latvia|Lebanon|Lesotho|Liberia|Libya|Liechtenstein|"
    "Lithuania|Luxembourg|Madagascar|Malawi|Malaysia|Maldives|Mali|Malta|Mauritania|Mauritius|Mexico|Moldova|Monaco|"
    "Mongolia|Montenegro|Morocco|Mozambique|Myanmar|Namibia|Nepal|Netherlands|New Zealand|Nicaragua|Niger|Nigeria|"
    "North Korea|North Macedonia|Norway|Oman|Pakistan|Palestine|Panama|Papua New Guinea|Paraguay|Peru|Philippines|"
    "Poland|Portugal|Puerto Rico|Qatar|Romania|Russia|Rwanda|Samoa|San Marino|Saudi Arabia|Senegal|Serbia|"
    "Seychelles|Sierra Leone|Singapore|Slovakia|Slovenia|Somalia|South Africa|South Korea|South Sudan|Spain|"
    "Sri Lanka|Sudan|Suriname|Sweden|Switzerland|Syria|Taiwan|Tajikistan|Tanzania|Thailand|Togo|Tonga|"
    "Trinidad and Tobago|Tunisia|Turkey|Türkiye|Turkmenistan|Uganda|Ukraine|United Arab Emirates|United Kingdom|"
    "United States|United States of America|Uruguay|Uzbekistan|Vanuatu|Venezuela|Vietnam|Yemen|Zambia|Zimbabwe"
)
# Case-sensitive (capitalised or in capitals) and without a leading lookbehind: `re` then skips quickly
# to the capital letters; the left boundary is checked in Python.
_COUNTRY = re.compile(r"(?:" + COUNTRIES + "|" + COUNTRIES.upper() + r")(?![\w-])")


class CountryRecognizer(TextRecognizer):
    """Country names (English), capitalised or in capitals: NER misses many at the end of an address."""

    ENTITY = "LOCATION"
    ENTITIES = (ENTITY,)
    SCORE = 0.85

    def find(self, text: str, entities: Sequence[str]) -> list[RecognizerResult]:
        return [
            result(self, self.ENTITY, m.start(), m.end(), self.SCORE, "country")
            for m in _COUNTRY.finditer(text)
            if m.start() == 0 or not (text[m.start() - 1].isalnum() or text[m.start() - 1] in "_-")
        ]
