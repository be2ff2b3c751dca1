"""Document search judged on what the agent sees: a hit, its rank and its score depend only on the masked text.

A store searches its raw text (its index holds it). Searching the agent's query there as a whole would let a
term hidden in a masked value decide which documents come back and how they rank: `database_url S3cr3tPass`
finds only the document holding that password and scores it twice as high, and digit groups joined in phrases
rebuilt SSNs that every snippet showed as tokens. So each term (word or quoted phrase) is looked up on its own,
a fixed number of candidates each; the candidates are masked and indexed again in memory with the same
tokenizer; a term counts for a candidate only where the candidate's masked text matches it. Hits are the
candidates every term matches that way (or, when none does, any term), ranked by the stores' scores of the
terms that matched in masked text. A term whose every occurrence is masked matches nothing, so it changes
neither the hits nor their order.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence

from connectors.files import TOKENIZE, fts_query

CANDIDATES_PER_TERM = 2
"""Candidates asked of each store per term and per hit wanted (at most `MAX_CANDIDATES_PER_TERM`)."""
MAX_CANDIDATES_PER_TERM = 40
MAX_TERMS = 8
"""Terms past these are not searched for (a question in natural language keeps its first eight words)."""
_PIECE = re.compile(r'"([^"]*)"|(\S+)')


def query_terms(query: str) -> list[str]:
    """The query's terms as `fts_query` reads them: words, and "quoted phrases" kept whole (with quotes)."""
    terms: list[str] = []
    for phrase, word in _PIECE.findall(query):
        text = " ".join((phrase or word).replace('"', " ").split())
        if any(ch.isalnum() for ch in text):
            terms.append(f'"{text}"' if phrase else text)
    return terms


def masked_term_matches(terms: Sequence[str], texts: Sequence[tuple[str, str]]) -> list[set[int]]:
    """For each term, the indexes of the (title, body) pairs whose masked text it matches."""
    found: list[set[int]] = [set() for _ in terms]
    if not texts:
        return found
    with sqlite3.connect(":memory:") as conn:
        conn.execute(f"CREATE VIRTUAL TABLE hits USING fts5(title, body, tokenize = '{TOKENIZE}')")
        conn.executemany(
            "INSERT INTO hits(rowid, title, body) VALUES (?, ?, ?)",
            [(i, title, body) for i, (title, body) in enumerate(texts)],
        )
        for n, term in enumerate(terms):
            fts = fts_query(term)
            if fts is None:
                continue
            try:
                found[n] = {int(r) for (r,) in conn.execute("SELECT rowid FROM hits WHERE hits MATCH ?", (fts,))}
            except sqlite3.OperationalError:
                continue
    return found


def ranked_hits(matches: Sequence[set[int]], scores: Sequence[dict[int, float]]) -> list[tuple[int, float]]:
    """(candidate, score) of the hits, best first: candidates every term matched in masked text, else those
    any term matched; a candidate's score sums the stores' scores of the terms that matched it there."""
    if not matches:
        return []
    every = set.intersection(*matches)
    chosen = every if every else set.union(*matches)
    ranked = [(i, sum(scores[t].get(i, 0.0) for t, found in enumerate(matches) if i in found)) for i in chosen]
    return sorted(ranked, key=lambda item: (-item[1], item[0]))
