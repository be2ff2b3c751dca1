"""NER pre- and post-processing: the text spaCy's NER reads (`_for_ner`) and how its PERSON / LOCATION
spans are made to fit the text (`_tidy`: line breaks, first names and initials, a place's postcode).

NER reads a copy of the text in which ALL-CAPS words of four letters or more are capitalised
(`HELSINKI` -> `Helsinki`, same length, same offsets): the small English model misses most uppercase names.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from mcp_server.masking.recognizers.addresses import NAME_PARTICLES

# Words NER reads capitalised (see `_for_ner`): ALL-CAPS words of 4+ letters, lower-case words of 3+.
_CAPS_WORD = re.compile(r"\b[^\W\d_]{4,}\b")
_LOWER_WORD = re.compile(r"(?<![\w@./:#-])[^\W\d_A-Z]{3,}(?![\w@/-]|\.\w)")


def _for_ner(text: str, english: frozenset[str] = frozenset()) -> str:
    """The text NER reads, same length and offsets: ALL-CAPS words of 4+ letters capitalised (`HELSINKI`),
    and lower-case words of 3+ letters that are not English words capitalised too (`borna jerković`):
    the small English model finds names by their capital letter."""
    if any(ch.isupper() for ch in text):
        text = _CAPS_WORD.sub(_capitalise, text)
    if english:
        text = _LOWER_WORD.sub(lambda m: _unknown_capitalised(m, english), text)
    return text


def _capitalise(match: re.Match[str]) -> str:
    word = match.group(0)
    if not word.isupper():
        return word
    fixed = word.capitalize()
    return fixed if len(fixed) == len(word) else word


def _unknown_capitalised(match: re.Match[str], english: frozenset[str]) -> str:
    word = match.group(0)
    if word in english or word in STOP_WORDS or _inflected(word, english):
        return word
    fixed = word[0].upper() + word[1:]
    return fixed if len(fixed) == len(word) else word


def _inflected(word: str, english: frozenset[str]) -> bool:
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and word[: -len(suffix)] + repl in english:
            return True
    return False


# Recognizers whose spans `_tidy` fits to the text: spaCy's NER and the names pipeline (`names_model.py`).
NER_RECOGNIZERS = frozenset({"SpacyRecognizer", "NamesModelRecognizer"})
# Recognizers of names and places without a pattern, cue word or known value behind them: NER, capitalised
# runs, the country list (`Finding.bare_name`).
BARE_NAME_RECOGNIZERS = NER_RECOGNIZERS | {"UnknownNameRun", "CountryRecognizer"}
_TOKEN = re.compile(r"\S+")
# Capitalised words that are not the first name of the name they precede.
_NOT_FIRST_NAMES = frozenset(
    [
        "dear",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "regards",
        "best",
        "cheers",
        "sincerely",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "sir",
        "madam",
        "ask",
        "call",
        "contact",
        "customer",
        "client",
        "user",
        "agent",
        "manager",
        "director",
        "president",
        "ceo",
        "cto",
        "cfo",
        "professor",
        "doctor",
        "judge",
        "officer",
        "saint",
        "st",
    ]
)


_POSTCODE_AFTER = re.compile(r",? (?P<code>\d{4,5}(?:-\d{3,4})?|\d{3} \d{2}|\d{2}-\d{3})(?![\w-])")
_POSTCODE_BEFORE = re.compile(r"(?<![\w-])(?P<code>\d{4,5}) $")
_LINE = re.compile(r"[^\n]*[^\s][^\n]*")
# A full stop after a word of four letters or more, then a capital: the end of a sentence (not `Dr. Smith`,
# `St. Louis`, `J. R. R.`).
_SENTENCE_END = re.compile(r"(?<=[^\W\d_]{4})\.\s+(?=[A-Z])")
_FIELD_SEPARATOR = re.compile(r"[;=&|{}\[\]]")
_ALPHA_WORD = re.compile(r"(?<![\w-])[^\W\d_]{2,}(?![\w-])")
_PREV_WORD = re.compile(r"([^\W\d_]+(?:-[^\W\d_]+)*\.?) $")


def _first_names(text: str, start: int, english: frozenset[str] = frozenset()) -> int:
    """Move a name's start over an initial (`A` of `Juliusz A Kwiatkowski`) and the capitalised word before
    it, over the given name before a particle (`Maika` of `Maika van de Noort`), or over a capitalised word
    that is not an English word (`Cormac` of `Cormac Allan`, when NER found only `Allan`)."""
    pulled = text[start : start + 4].split(" ")[0].lower() in NAME_PARTICLES
    for _ in range(3):
        m = _PREV_WORD.search(text, max(0, start - 40), start)
        if not m:
            break
        word = m.group(1)
        initial = len(word.rstrip(".")) == 1 and word[0].isupper()
        if initial:
            start, pulled = m.start(), True
            continue
        low = word.rstrip(".").lower()
        if not word[0].isupper() or low in STOP_WORDS or low in _NOT_FIRST_NAMES:
            break
        if not pulled and not (english and _unknown_name_word(word, english)):
            break
        start, pulled = m.start(), False
    return start


_NEXT_WORD = re.compile(r" ([^\W\d_]+(?:['’-][^\W\d_]+)*\.?)(?![\w'’-])")


def _last_names(text: str, end: int, english: frozenset[str]) -> int:
    """Move a name's end over initials and capitalised words that are not English words after it
    (`P Costa` of `Ryan P Costa`, when NER found only `Ryan`); an initial only with such a word after it."""
    if not english:
        return end
    for _ in range(3):
        m = _NEXT_WORD.match(text, end)
        if not m:
            break
        word = m.group(1)
        if len(word.rstrip(".")) == 1 and word[0].isupper():  # an initial: `Ryan P Costa`, whatever `Costa` is
            after = _NEXT_WORD.match(text, m.end())
            if after is None or not _name_word(after.group(1)):
                break
            end = after.start(1) + len(after.group(1).rstrip("."))
            continue
        if not _unknown_name_word(word, english):
            break
        end = m.start(1) + len(word.rstrip("."))
    return end


def _name_word(word: str) -> bool:
    """A capitalised word of two or more letters that is not a stop word or a title."""
    bare = word.rstrip(".")
    low = bare.lower()
    return len(bare) > 1 and bare[0].isupper() and low not in STOP_WORDS and low not in _NOT_FIRST_NAMES


def _unknown_name_word(word: str, english: frozenset[str]) -> bool:
    """A name word (`_name_word`) that is not an English word either."""
    low = word.rstrip(".").lower()
    return _name_word(word) and low not in english and not _inflected(low, english)


def _tidy(text: str, result: RecognizerResult, english: frozenset[str] = frozenset()) -> list[RecognizerResult]:
    """NER spans made to fit: a name does not run over a line break, does not start with a lower-case word
    when a capitalised one follows (`ex-Zombie Ahtisaari`), and leaves out a possessive `'s`. A PERSON
    span takes in capitalised words just before it on the same line (`Maika` of `Maika van de Noort`)."""
    if (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY) not in NER_RECOGNIZERS:
        return [result]
    pieces = [
        (result.start + m.start(), result.start + m.end()) for m in _LINE.finditer(text[result.start : result.end])
    ]
    if len(pieces) > 1:  # a name does not run over a line break: each line is tidied on its own
        out = []
        metadata = result.recognition_metadata or {}
        for a, b in pieces:
            part = RecognizerResult(result.entity_type, a, b, result.score, result.analysis_explanation, dict(metadata))
            out.extend(_tidy(text, part, english))
        return out
    start, end = result.start, result.end
    words = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text, start, end)]
    if len(words) > 1 and not words[0][2][:1].isupper() and words[0][2] not in NAME_PARTICLES:
        start = next((a for a, _, w in words if w[:1].isupper() or w in NAME_PARTICLES), start)
    cut = _FIELD_SEPARATOR.search(text, start, end)
    if cut is not None:  # `Kofi Annan;email=...`: a name ends where a field of structured text does
        end = cut.start()
    stop = _SENTENCE_END.search(text, start, end)
    if stop is not None:  # `Caglio. Tel. +39`: an entity does not run over the end of a sentence
        end = stop.start() + 1
    while end > start and text[end - 1] in " \t.,;:":
        end -= 1
    for suffix in ("'s", "’s"):
        if text[start:end].endswith(suffix):
            end -= len(suffix)
    postcodes: list[RecognizerResult] = []
    if result.entity_type == "PERSON":
        code = _POSTCODE_AFTER.search(text, start, end)  # NER's `Costamezzana 43015`: a name has no postcode
        if code is not None and code.end() == end and code.start() > start:
            postcodes.append(_part(result, "POSTAL_CODE", code.start("code"), end))
            end = code.start()
        piece = _name_piece(text, start, end)
        if piece is None:
            return postcodes
        start, end = piece
        start = _first_names(text, start, english)
        end = _last_names(text, end, english)
    elif _lone_word_or_label(text[start:end]):
        return []
    else:  # a place with its postcode: "Costamezzana 43015", "75001 Paris"
        after = _POSTCODE_AFTER.match(text, end)
        before = _POSTCODE_BEFORE.search(text, max(0, start - 12), start)
        for match in (m for m in (after, before) if m):
            postcodes.append(_part(result, "POSTAL_CODE", match.start("code"), match.end("code")))
    if end - start < 2 or not _ALPHA_WORD.search(text, start, end):
        return []  # no word of letters: `ORD-2024000019` is not a place
    if (start, end) != (result.start, result.end):
        result.start, result.end = start, end
    return [result, *postcodes]


# Contact labels that NER reads as names or places (`Tel. +49`, `Phone`).
_LABEL_WORDS = frozenset(["tel", "tél", "phone", "fax", "mobile", "mob", "cell", "email", "e-mail", "courriel"])
# A word with a digit or a symbol is no part of a name (`zg7&Hn$D9`, `ORD-2024`).
_NOT_NAME_WORD = re.compile(r"[\d$&@#%^*+=!?<>{}\[\]|`~\\/]")


def _name_piece(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name inside a PERSON span of NER. The span is cut at words that are no part of a name (a
    lower-case word that is not a particle, a word with a digit or a symbol, a contact label) and after a
    comma that follows two words or more (`Ennio Salgari, Canale Caterina`); the longest piece with a
    capitalised word is kept, the last of equals (`Rechnung an Urban Rose` -> `Urban Rose`). A span all in
    lower case (`borna jerković`) of two words or more is kept whole; one lower-case word (`admin`) is not
    a name."""
    words = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text, start, end)]
    if not words:
        return None
    if all(w[2].islower() for w in words):
        return (start, end) if len(words) > 1 and not any(_NOT_NAME_WORD.search(w[2]) for w in words) else None
    pieces: list[list[tuple[int, int, str]]] = [[]]
    for a, b, word in words:
        bare = word.strip(".,;:'’()")
        low = bare.lower()
        if (word[:1].islower() and low not in NAME_PARTICLES) or _NOT_NAME_WORD.search(bare) or low in _LABEL_WORDS:
            pieces.append([])
            continue
        pieces[-1].append((a, b, word))
        if word.endswith(",") and len(pieces[-1]) >= 2:
            pieces.append([])
    best: tuple[int, int] | None = None
    size = 0
    for k, piece in enumerate(pieces):
        capitals = sum(1 for w in piece if w[2][:1].isupper())
        while piece and piece[0][2].lower() in NAME_PARTICLES and (k > 0 or capitals >= 2):
            piece = piece[1:]  # `wegen der Lieferung`, `de Thierry Maury`: a preposition (`van de Noort` stays)
        while piece and piece[-1][2].strip(".,;:").lower() in NAME_PARTICLES:
            piece = piece[:-1]
        if not piece or not any(w[2][:1].isupper() and len(w[2].strip(".,;:")) > 1 for w in piece):
            continue
        if len(piece) >= size:
            a, b = piece[0][0], piece[-1][1]
            while b > a and text[b - 1] in ".,;:":
                b -= 1
            best, size = (a, b), len(piece)
    return best


def _lone_word_or_label(span: str) -> bool:
    """A place of one lower-case word (`compte`, `fatura`: NER read them capitalised) or a contact label."""
    bare = span.strip(" .,;:")
    return (bare.islower() and " " not in bare) or bare.lower() in _LABEL_WORDS


# One to four capitalised name words (particles allowed inside) right before `, <street address>`.
_NAME_BEFORE_ADDRESS = re.compile(
    r"(?<![\w'’-])(?P<name>[A-Z][^\W\d_]+(?:['’-][^\W\d_]+)*(?:\s+(?:(?:de|da|do|dos|das|del|della|di|du|van|von|der|den|"
    r"ter|la|le|y|e)\s+)?[A-Z][^\W\d_]+(?:['’-][^\W\d_]+)*){1,3}),\s+$"
)
NAME_BEFORE_ADDRESS_SCORE = 0.7


def names_before_addresses(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """The addressee of an address block: `... an Henny Hahn, Säuberlichplatz 35, 35827 Scheinfeld` -> PERSON
    for the capitalised words just before the street, when nothing found them already."""
    added: list[RecognizerResult] = []
    for r in results:
        if r.entity_type != "STREET_ADDRESS" or r.start < 5:
            continue
        before = text[max(0, r.start - 80) : r.start]
        match = _NAME_BEFORE_ADDRESS.search(before)
        if match is None:
            continue
        start = r.start - len(before) + match.start("name")
        end = r.start - len(before) + match.end("name")
        words = [w.lower() for w in match.group("name").split()]
        if any(w in STOP_WORDS and w not in NAME_PARTICLES for w in words):
            continue
        if any(o.start < end and start < o.end for o in results if o is not r):
            continue
        added.append(_part(r, "PERSON", start, end))
        added[-1].score = NAME_BEFORE_ADDRESS_SCORE
    return added


def _part(result: RecognizerResult, entity: str, start: int, end: int) -> RecognizerResult:
    """Another finding from the same recognizer and score (a place's postcode)."""
    metadata = dict(result.recognition_metadata or {})
    return RecognizerResult(entity, start, end, result.score, result.analysis_explanation, metadata)


# Two to four capitalised words (particles inside) after a lower-case word: a run of proper nouns in a sentence.
_NAME_RUN = re.compile(
    r"(?<=[^\W\d_] )(?P<name>[A-ZÀ-ÖØ-Þ][^\W\d_]+(?:-[A-ZÀ-ÖØ-Þ][^\W\d_]+)?"
    r"(?: (?:(?:de|da|do|dos|das|del|della|di|du|van|von|der|den|ter|la|le) )*[A-ZÀ-ÖØ-Þ][^\W\d_]+"
    r"(?:-[A-ZÀ-ÖØ-Þ][^\W\d_]+)?){1,3})(?![\w-])"
)
UNKNOWN_NAME_SCORE = 0.6


def unknown_name_runs(text: str, results: list[RecognizerResult], english: frozenset[str]) -> list[RecognizerResult]:
    """PERSON for two to four capitalised words in the middle of a sentence none of which is an English word
    (`pour le compte de Thierry Maury`, `hasta que Celia Galindo-Torralba la cambie`), where nothing was
    found: the English pipeline misses names that follow words of other languages. Places and company names
    made of English words (`Canadian Rockies`, `General Hospital`) stay clear."""
    if not english:
        return []
    added: list[RecognizerResult] = []
    for m in _NAME_RUN.finditer(text):
        start, end = m.span("name")
        words = [w for w in re.split(r"[ -]", m.group("name")) if w[:1].isupper()]
        if any(not _unknown_name_word(w, english) for w in words):
            continue
        if any(r.start < end and start < r.end for r in results):
            continue
        metadata = {
            RecognizerResult.RECOGNIZER_NAME_KEY: "UnknownNameRun",
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: "UnknownNameRun",
        }
        added.append(RecognizerResult("PERSON", start, end, UNKNOWN_NAME_SCORE, recognition_metadata=metadata))
    return added
