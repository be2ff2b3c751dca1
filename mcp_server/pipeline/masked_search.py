"""Search hits judged on what the agent sees: a hit is shown only when the query matches its masked text.

A store searches the raw text (its index holds it), so without this a hit would say that a guessed value is in
some document even when every occurrence comes back masked: searching an exact AWS key, a password or a
fragment of one found its document, and a near miss found none. The hits a store returns are candidates; they
are masked, indexed again in memory with the same tokenizer, and searched again with the agent's own query
(tokens as the agent wrote them, which is how they appear in masked text), all terms first, then any. Hits
keep the stores' order (bm25 over the whole index; a rank over a handful of candidates alone says little):
that order can still weigh a term inside a masked value, which docs/security.md lists as a residual.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from connectors.files import TOKENIZE, fts_query

CANDIDATES_PER_HIT = 3
"""Candidates asked of the stores per hit shown: hits whose match was only inside masked values drop out."""


def masked_matches(query: str, texts: Sequence[tuple[str, str]]) -> list[int]:
    """Indexes of the (title, body) pairs the query matches, in their given order."""
    if not texts:
        return []
    with sqlite3.connect(":memory:") as conn:
        conn.execute(f"CREATE VIRTUAL TABLE hits USING fts5(title, body, tokenize = '{TOKENIZE}')")
        conn.executemany(
            "INSERT INTO hits(rowid, title, body) VALUES (?, ?, ?)",
            [(i, title, body) for i, (title, body) in enumerate(texts)],
        )
        for operator in ("AND", "OR"):
            fts = fts_query(query, operator)
            if fts is None:
                return []
            try:
                rows = conn.execute("SELECT rowid FROM hits WHERE hits MATCH ? ORDER BY rowid", (fts,)).fetchall()
            except sqlite3.OperationalError:
                return []
            if rows:
                return [int(rowid) for (rowid,) in rows]
    return []
