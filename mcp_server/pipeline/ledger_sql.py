"""The SQL the ledger stores for a query: what a reviewer needs to read, nothing that could be personal.

Every literal becomes a keyed token (`mask_literals`), and so does every identifier that is not a name of the
source's schema or made of English words (an alias or a CTE name the agent chose can hold a person's name or a
username: `SELECT id AS "Quackenbush"`). Kept: small `LIMIT`/`OFFSET` amounts and a literal compared directly
with a clear column (`status = 'shipped'`, `amount > 100`, `category IN ('a', 'b')`). Such
a literal is still agent input, so it is shown only when it is short, made of lower-case English words and numbers
of up to six digits, the column is clear in every table of the query that has a column of that name (and is not
also the name of an alias, a CTE or a derived table, which could stand for anything), and the detector finds
nothing in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from connectors.base import ConnectorError
from connectors.engines import SqliteBackend
from mcp_server.catalog import SqlCatalog
from mcp_server.masking.masker import Masker
from mcp_server.sqlguard.literals import mask_literals

MAX_SHOWN_CHARS = 64
_WORDS = re.compile(r"[^\W\d_]+|\d+")
_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def ledger_sql(sql: str, catalog: SqlCatalog | None, masker: Masker) -> str:
    dialect = catalog.database.dialect if catalog else SqliteBackend.dialect  # any parse masks its literals
    shown = _clear_comparison(catalog, masker) if catalog is not None else None
    readable = _readable_identifier(catalog, masker)
    return mask_literals(sql, dialect=dialect, mask=masker.literal, shown=shown, readable=readable)


def _readable_identifier(catalog: SqlCatalog | None, masker: Masker) -> Callable[[str], bool]:
    """Names of the schema, and names whose parts (split at `_` and case changes) are English words, numbers
    or at most two letters (`n`, `total_revenue`, `avgAmount`)."""
    names: set[str] = set()
    if catalog is not None:
        try:
            for table, columns in catalog.database.column_map().items():
                names.add(table.casefold())
                names.update(part.casefold() for part in table.split("."))
                names.update(c.casefold() for c in columns)
        except ConnectorError:
            pass
    english = masker.detector.english_words()

    def readable(name: str) -> bool:
        if name.casefold() in names:
            return True
        parts = _PARTS.findall(name)
        return (
            bool(parts)
            and "".join(parts) == name.replace("_", "")
            and all(p.isdigit() or len(p) <= 2 or p.casefold() in english for p in parts)
        )

    return readable


def _clear_comparison(catalog: SqlCatalog, masker: Masker) -> Callable[[exp.Literal, exp.Column], bool]:
    def shown(literal: exp.Literal, column: exp.Column) -> bool:
        text = literal.name
        if len(text) > MAX_SHOWN_CHARS or not text.isprintable():
            return False
        root = literal.root()
        name = column.name.casefold()
        tables = {t.name.casefold() for t in root.find_all(exp.Table)}
        derived = {node.alias.casefold() for node in root.find_all(exp.CTE, exp.Subquery) if node.alias}
        aliases = {node.alias.casefold() for node in root.find_all(exp.Alias, exp.TableAlias) if node.alias}
        if tables & derived or name in aliases or name in derived:
            return False
        owners = [
            (table, col)
            for table, cols in catalog.database.column_map().items()
            if table.casefold().rsplit(".", 1)[-1] in tables
            for col in cols
            if col.casefold() == name
        ]
        if not owners or any(catalog.classify(table, col).kind != "clear" for table, col in owners):
            return False
        english = masker.detector.english_words()
        plain = all((w.isdigit() and len(w) <= 6) or _lower_english(w, english) for w in _WORDS.findall(text))
        return plain and not masker.detector.analyze(text)

    return shown


def _lower_english(word: str, english: frozenset[str]) -> bool:
    """A lower-case English word or an inflection of one (`shipped`, `refunded`, `pending`); a capitalised word
    may be a name, so it is not shown."""
    if not word.islower():
        return False
    stems = [word] + [word[: -len(end)] for end in ("ed", "d", "ing", "es", "s") if word.endswith(end)]
    return any(stem in english for stem in stems)
