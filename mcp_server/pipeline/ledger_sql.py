"""The SQL the ledger stores for a query: what a reviewer needs to read, nothing that could be personal.

Every literal becomes a keyed token (`mask_literals`), and so does every identifier that is not a name of the
source's schema or made of English words (an alias or a CTE name the agent chose can hold a person's name or a
username: `SELECT id AS "Quackenbush"`). Kept: small `LIMIT`/`OFFSET` amounts and a literal compared directly
with a clear column (`status = 'shipped'`, `amount > 100`, `category IN ('a', 'b')`). Such
a literal is still agent input, so it is shown only when it is an ISO date, one number of up to six digits or a few
lower-case English words, holds no word or value of the data's personal values (`personal_words.py`: not
`'hiv positive'` where that is a stored diagnosis), and the column is clear in every table of the query that has a
column of that name (and is not also the name of an alias, a CTE or a derived table, which could stand for
anything). The numbers shown in one statement hold at most six digits in all (`sqlguard/literals.py`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from sqlglot import exp

from connectors.base import ConnectorError
from connectors.engines import SqliteBackend
from mcp_server.catalog import SqlCatalog
from mcp_server.masking.english_words import NAME_PARTS, is_english, readable_parts
from mcp_server.masking.masker import Masker
from mcp_server.masking.stop_words import STOP_WORDS
from mcp_server.sqlguard.literals import mask_literals
from mcp_server.sqlguard.schema import SchemaIndex

MAX_SHOWN_CHARS = 64
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"-?\d{1,6}(?:\.\d{1,4})?")
_PHRASE = re.compile(r"[^\W\d_]+(?:[ -][^\W\d_]+){0,5}")
_MESSAGE_WORD = re.compile(r"[^\W\d_][\w$]*")
_TOKENS_IN_TEXT = re.compile(r"<[A-Z][A-Z0-9_]*(?::[0-9a-f…]+)?>")


def ledger_sql(sql: str, catalog: SqlCatalog | None, masker: Masker) -> str:
    dialect = catalog.database.dialect if catalog else SqliteBackend.dialect  # any parse masks its literals
    schema = _schema(catalog)
    english = masker.detector.english_words()  # a word list read from disk: the NLP pipeline is not loaded for it
    shown = _clear_comparison(catalog, schema, english, masker.ledger_may_show) if catalog is not None else None
    readable = _readable_identifier(schema.names, english, masker.ledger_may_show)
    return mask_literals(sql, dialect=dialect, mask=masker.literal, shown=shown, readable=readable)


def ledger_message(message: str, catalog: SqlCatalog | None, masker: Masker) -> str:
    """A query's error message as the ledger stores it: the guard and the database echo names the agent wrote
    (`no such collation sequence: Quackenbush`, `function WQUACK81()`), so every word that is not a name of the
    schema, an English word or a number becomes a keyed token, as in the stored SQL."""
    english = masker.detector.english_words() | STOP_WORDS | {"maskwire"}  # "the", "no": not in the word list
    source = {catalog.name, *catalog.name.split(".")} if catalog is not None else set()
    names = _schema(catalog).names | {name.casefold() for name in source}
    readable = _readable_identifier(names, english, masker.ledger_may_show, any_case=True)

    def word(match: re.Match[str]) -> str:
        text = match.group(0)
        return text if readable(text) else masker.literal(text)

    pieces = _TOKENS_IN_TEXT.split(message)  # tokens already in the message stay as they are
    tokens = _TOKENS_IN_TEXT.findall(message)
    out = [_MESSAGE_WORD.sub(word, pieces[0])]
    for token, piece in zip(tokens, pieces[1:], strict=True):
        out += [token, _MESSAGE_WORD.sub(word, piece)]
    return "".join(out)


_NO_SCHEMA = SchemaIndex({})


def _schema(catalog: SqlCatalog | None) -> SchemaIndex:
    """The source's tables and columns (empty when there is no source or it cannot say)."""
    if catalog is None:
        return _NO_SCHEMA
    try:
        return catalog.schema_index()
    except ConnectorError:
        return _NO_SCHEMA


def _readable_identifier(
    names: frozenset[str] | set[str],
    english: frozenset[str],
    may_show: Callable[[str], bool],
    *,
    any_case: bool = False,
) -> Callable[[str], bool]:
    """Names of the schema (`names`, case-folded), and names whose parts (split at `_` and case changes) are English
    words, numbers or at most two letters (`n`, `total_revenue`, `avgAmount`) that `may_show` lets through (not
    `bipolar_disorder` where that is a stored diagnosis); `any_case` also reads an upper-case part as a word
    (`DELETE` in a message)."""

    def readable(name: str) -> bool:
        if name.casefold() in names:
            return True
        parts = NAME_PARTS.findall(name.lower() if any_case and name.isupper() else name)
        return (
            "".join(parts).casefold() == name.replace("_", "").casefold()
            and readable_parts(parts, english)
            and may_show(" ".join(parts))
        )

    return readable


def _clear_comparison(
    catalog: SqlCatalog, schema: SchemaIndex, english: frozenset[str], may_show: Callable[[str], bool]
) -> Callable[[exp.Literal, exp.Column], bool]:
    def shown(literal: exp.Literal, column: exp.Column) -> bool:
        text = literal.name
        if len(text) > MAX_SHOWN_CHARS or not _plain_value(text, english) or not may_show(text):
            return False
        root = literal.root()
        name = column.name.casefold()
        tables = {t.name.casefold() for t in root.find_all(exp.Table)}
        derived = {node.alias.casefold() for node in root.find_all(exp.CTE, exp.Subquery) if node.alias}
        aliases = {node.alias.casefold() for node in root.find_all(exp.Alias, exp.TableAlias) if node.alias}
        if tables & derived or name in aliases or name in derived:
            return False
        owners = schema.owners(tables, name)
        return bool(owners) and all(catalog.classify(table, col).kind == "clear" for table, col in owners)

    return shown


def _plain_value(text: str, english: frozenset[str]) -> bool:
    """What a reviewer may read of a literal the agent wrote: an ISO date, one number of up to six digits, or
    lower-case English words (`shipped`, `late delivery`). Anything with a symbol (an address, a key), several
    numbers (a card, a phone) or a capitalised word (a name) stays a token."""
    if _ISO_DATE.fullmatch(text):
        return _valid_date(text)
    if _NUMBER.fullmatch(text):
        return True
    return bool(_PHRASE.fullmatch(text)) and all(_lower_english(w, english) for w in text.replace("-", " ").split())


def _valid_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _lower_english(word: str, english: frozenset[str]) -> bool:
    """A lower-case English word or an inflection of one; a capitalised word may be a name, so it is not shown."""
    return word.islower() and is_english(word, english)
