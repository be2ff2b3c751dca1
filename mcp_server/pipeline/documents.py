"""The document side of the read pipeline: search and read over every document source (files, pgdocs, ...).

Document refs handed to agents are opaque keyed tokens (`<DOC:…>`), because file names and row ids can
themselves carry personal data (`welcome-letter-gonzalez.md`). A snippet is cut from the text as `read` masks
it (the document's paragraph pieces, each masked whole), so no fragment of a value escapes at a snippet edge and
a snippet never shows what `read` hides. Pages of `read` are cut from masked text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from connectors.base import ConnectorError, DocumentNotFound, DocumentSource, IndexedSource, InvalidRequest, RefDenied
from connectors.documents import DocumentHit
from mcp_server.config import Config
from mcp_server.masking.masker import MaskCounts, Masker
from mcp_server.masking.operators import MASK_MARK
from mcp_server.masking.pseudonyms import TOKEN_PATTERN
from mcp_server.pipeline import cursors
from mcp_server.pipeline.budget import BudgetFitter
from mcp_server.pipeline.errors import source_errors, source_problem
from mcp_server.pipeline.masked_search import (
    CANDIDATES_PER_TERM,
    MAX_CANDIDATES_PER_TERM,
    MAX_TERMS,
    masked_term_matches,
    query_terms,
    ranked_hits,
)
from mcp_server.pipeline.sources import SourceSet
from mcp_server.policy import Policy
from mcp_server.tokens import TokenCounter
from mcp_server.tools.models import DocumentStats, ReadResult, SearchHit, SearchResult
from mcp_server.tools.problems import ToolOutput, ToolProblem

DOC_REF = re.compile(r"<DOC:([0-9a-f]{16})>")
SNIPPET_WORDS = 60
SNIPPET_SIZES = (SNIPPET_WORDS, 35, 20, 10)
PIECE_CHARS = 4_000
MAX_QUERY_CHARS = 1_000
MAX_LIMIT = 50
REFRESH_CHECK_SECONDS = 5.0
MAX_DOCUMENTS_TRIED = 3
"""Per hit wanted: documents whose best chunk is checked against what `read` shows before a search stops."""

Store = DocumentSource


@dataclass(frozen=True)
class MaskedDocument:
    title: str
    media_type: str
    pieces: tuple[tuple[str, Counter[str]], ...]
    """Masked text in order, with the entities masked in each piece."""


class DocumentTools:
    """search and read. `sources` are shared with the SQL side; without them, the document sources are opened here."""

    def __init__(self, config: Config, masker: Masker, counter: TokenCounter, sources: SourceSet | None = None) -> None:
        self.config = config
        self.masker = masker
        self.counter = counter
        self._owns_sources = sources is None
        self.sources = sources if sources is not None else SourceSet(config, masker.detector, shapes=("document",))
        self._refs: dict[str, tuple[str, str]] = {}
        self._refs_lock = threading.Lock()
        self._checked: dict[str, float] = {}
        self._masked: OrderedDict[tuple[str, str, str, str], MaskedDocument] = OrderedDict()

    @property
    def stores(self) -> Mapping[str, Store]:
        return self.sources.stores

    def close(self) -> None:
        if self._owns_sources:
            self.sources.close()

    # -- refs ------------------------------------------------------------------------------------

    def ref_token(self, source: str, ref: str) -> str:
        """An opaque, stable reference keyed by source and path; remembered (encrypted, in the token vault)
        so that it still works after a restart."""
        key = self.masker.pseudonyms.key
        digest = hmac.new(key, f"doc\0{source}\0{ref}".encode(), hashlib.sha256).hexdigest()[:16]
        token = f"<DOC:{digest}>"
        with self._refs_lock:
            known = token in self._refs
            self._refs[token] = (source, ref)
        if not known:
            self.masker.pseudonyms.remember(digest, f"{source}\0{ref}")
        return token

    def issued_ref(self, token: str) -> bool:
        """Whether `token` is a document ref Maskwire issued (in this process, or in an earlier one the vault
        remembers): only those are stored in the ledger as sent; a ref-shaped string an agent made up is input."""
        match = DOC_REF.fullmatch(token)
        if match is None:
            return False
        with self._refs_lock:
            if token in self._refs:
                return True
        remembered = self.masker.pseudonyms.recall(match.group(1))
        return remembered is not None and "\0" in remembered

    def resolve_ref(self, source: str, token: str) -> str:
        match = DOC_REF.fullmatch(token.strip()) if isinstance(token, str) else None
        if match is None:
            raise ToolProblem("`ref` must be a document reference like <DOC:0123456789abcdef> from search")
        with self._refs_lock:
            known = self._refs.get(match.group(0))
        if known is None:  # issued by an earlier process: the vault remembers it
            remembered = self.masker.pseudonyms.recall(match.group(1))
            if remembered and "\0" in remembered:
                name, _, ref = remembered.partition("\0")
                known = (name, ref)
        store = self.stores.get(source)
        if known is None and isinstance(store, IndexedSource):  # no vault: a folder's index lists every ref
            for ref in store.indexed_refs():
                self.ref_token(source, ref)
            with self._refs_lock:
                known = self._refs.get(match.group(0))
        if known is None or known[0] != source:
            raise ToolProblem(f'unknown document reference for source "{source}": search again to get a fresh one')
        return known[1]

    # -- sources ---------------------------------------------------------------------------------

    def store(self, source: str, policy: Policy) -> Store:
        return self.sources.store(source, policy)

    def refresh_if_needed(self, store: Store) -> None:
        """Re-index changed files, checking a folder at most every REFRESH_CHECK_SECONDS (the check walks it)."""
        if not isinstance(store, IndexedSource):
            return
        now = time.monotonic()
        if now - self._checked.get(store.name, -REFRESH_CHECK_SECONDS) < REFRESH_CHECK_SECONDS:
            return
        if store.needs_refresh():
            store.refresh()
        self._checked[store.name] = time.monotonic()

    def stats(self, source: str, policy: Policy) -> DocumentStats:
        store = self.store(source, policy)
        with source_errors():
            self.refresh_if_needed(store)
            raw = store.stats()
        return DocumentStats(
            documents=raw.documents,
            chunks=raw.chunks,
            skipped=raw.skipped or 0,
            types=dict(raw.types),
            last_refresh=raw.last_refresh,
        )

    # -- search ----------------------------------------------------------------------------------

    def search(self, query: str, sources: Sequence[str] | None, limit: int | None, policy: Policy) -> ToolOutput:
        """Hits for `query`, answered no sooner than `[server] search_floor_ms` after the call began: a term that
        occurs only inside masked values makes the stores return candidates that are masked and then dropped,
        which costs time that a term found nowhere does not; the answers are the same, so only the time could
        tell that the store holds the word."""
        started = time.monotonic()
        try:
            return self._search(query, sources, limit, policy)
        finally:
            left = started + self.config.server.search_floor_ms / 1000 - time.monotonic()
            if left > 0:
                time.sleep(left)

    def _search(self, query: str, sources: Sequence[str] | None, limit: int | None, policy: Policy) -> ToolOutput:
        if not isinstance(query, str) or not query.strip():
            raise ToolProblem("`query` is empty: send some words to look for")
        if len(query) > MAX_QUERY_CHARS:
            raise ToolProblem(f"`query` is {len(query):,} characters; the limit is {MAX_QUERY_CHARS:,}")
        limit = 10 if limit is None else limit
        if not 1 <= limit <= MAX_LIMIT:
            raise ToolProblem(f"`limit` must be between 1 and {MAX_LIMIT}")
        names = list(sources) if sources else sorted(n for n in self.stores if policy.may_use_source(n))
        if not names:
            raise ToolProblem("no document sources are available to this role")
        stores = [(name, self.store(name, policy)) for name in names]
        query_words = query_terms(query)[:MAX_TERMS]
        if not query_words:
            raise ToolProblem("`query` has no words to search for")

        # Each term on its own, a fixed number of candidates each (`masked_search.py`).
        per_term = min(limit * CANDIDATES_PER_TERM, MAX_CANDIDATES_PER_TERM)
        candidates_found: list[tuple[str, DocumentHit]] = []
        index: dict[tuple[str, str, int], int] = {}
        scores: list[dict[int, float]] = []
        for _, store in stores:
            try:
                self.refresh_if_needed(store)
            except ConnectorError as exc:
                raise source_problem(exc) from None
        for term in query_words:
            raw_term = self._resolve_tokens(term)
            term_scores: dict[int, float] = {}
            for name, store in stores:
                try:
                    hits = store.search(raw_term, per_term)
                except InvalidRequest:
                    hits = []
                except ConnectorError as exc:
                    raise source_problem(exc) from None
                for hit in hits:
                    key = (name, hit.ref, hit.chunk_index)
                    if key not in index:
                        index[key] = len(candidates_found)
                        candidates_found.append((name, hit))
                    term_scores[index[key]] = hit.score
            scores.append(term_scores)

        all_chunks = policy.masker.scan_texts([hit.chunk for _, hit in candidates_found])
        all_titles = policy.masker.scan_texts([_title(hit.title, hit.ref) for _, hit in candidates_found])
        pairs = [(str(t), str(c)) for (t, _), (c, _) in zip(all_titles, all_chunks, strict=True)]
        # a term counts for a candidate only where the candidate's own pool found it and its masked text matches
        matches = [
            found & set(term_scores)
            for found, term_scores in zip(masked_term_matches(query_words, pairs), scores, strict=True)
        ]
        # The best chunk of each document, best first, as `read` shows it: its text masked the way `read` masks
        # the document (paragraph pieces, each alone), and kept only if every term that counted for it still
        # matches there, so that a snippet, a hit and a rank never tell what `read` hides.
        by_name = dict(stores)
        best: dict[tuple[str, str], tuple[int, float]] = {}
        shown_text: dict[int, str] = {}
        tried: set[tuple[str, str]] = set()
        for i, score in ranked_hits(matches, scores):
            if len(best) == limit or len(tried) >= MAX_DOCUMENTS_TRIED * limit:
                break
            name, hit = candidates_found[i]
            if (name, hit.ref) in best:
                continue
            tried.add((name, hit.ref))
            region = self._as_read_shows(by_name[name], hit, policy)
            counted = [t for t, term_found in enumerate(matches) if i in term_found]
            if region is None or not _all_match([query_words[t] for t in counted], pairs[i][0], region):
                continue
            best[(name, hit.ref)] = (i, score)
            shown_text[i] = region
        shown = list(best.values())
        found = [(candidates_found[i][0], replace(candidates_found[i][1], score=score)) for i, score in shown]
        masked = [(shown_text[i], None) for i, _ in shown]
        titles = [all_titles[i] for i, _ in shown]
        terms = _terms(query)
        refs = [self.ref_token(name, hit.ref) for name, hit in found]
        # Over budget: shorter snippets first, then fewer hits (the lowest ranked go first).
        candidates: list[tuple[int, int]] = [(words, len(found)) for words in SNIPPET_SIZES]
        candidates += [(SNIPPET_SIZES[-1], n) for n in range(len(found) - 1, 0, -1)]
        outputs: dict[int, ToolOutput] = {}

        def render(i: int) -> str:
            if i not in outputs:
                words, keep = candidates[i]
                hits = [
                    SearchHit(
                        source=name,
                        ref=ref,
                        title=str(title),
                        score=round(hit.score, 4),
                        snippet=cut_snippet(str(chunk), terms, words),
                    )
                    for (name, hit), ref, (chunk, _), (title, _) in zip(found, refs, masked, titles, strict=True)
                ][:keep]
                outputs[i] = self._search_output(hits, len(found), names)
            return outputs[i].text

        fitted = BudgetFitter(self.counter, self.config.tokens.max_output_tokens).largest(
            len(candidates), render, lambda i: len(render(i))
        )
        output = outputs[fitted.index]
        output.tokens = fitted.tokens
        return output

    def _as_read_shows(self, store: Store, hit: DocumentHit, policy: Policy) -> str | None:
        """The masked text `read` shows where the chunk is: the document's pieces that hold it (`split_pieces`),
        each scanned alone as `read` scans them. None when the document no longer holds the chunk (changed since
        it was indexed) or cannot be read: the hit is not shown."""
        try:
            text = store.read(hit.ref).text
        except (DocumentNotFound, RefDenied):
            return None
        except ConnectorError as exc:
            raise source_problem(exc) from None
        start = text.find(hit.chunk)
        if start < 0 or not hit.chunk:
            return None
        end, offset, holding = start + len(hit.chunk), 0, []
        for piece in split_pieces(text):
            if offset < end and offset + len(piece) > start:
                holding.append(piece)
            offset += len(piece)
        return "".join(str(masked) if masked is not None else "" for masked, _ in policy.masker.scan_texts(holding))

    def _search_output(self, hits: list[SearchHit], total: int, names: Sequence[str]) -> ToolOutput:
        counts = MaskCounts()
        for hit in hits:
            counts.by_entity.update(_tokens_in(hit.title) + _tokens_in(hit.snippet))
        result = SearchResult(hits=hits, truncated=len(hits) < total, entities_masked=counts.as_dict())
        return ToolOutput(result, render_search(result), source=",".join(names), rows=len(hits), counts=counts)

    def _resolve_tokens(self, query: str) -> str:
        """Tokens the agent was given match the values they stand for."""

        def resolve(match: re.Match[str]) -> str:
            value = self.masker.pseudonyms.resolve(match.group(0))
            if value is None:
                raise ToolProblem(f"unknown or expired token {match.group(0)} in `query`")
            return f'"{value}"'

        return TOKEN_PATTERN.sub(resolve, query)

    # -- read ------------------------------------------------------------------------------------

    def read(self, source: str, ref: str, cursor: str | None, policy: Policy) -> ToolOutput:
        store = self.store(source, policy)
        path = self.resolve_ref(source, ref)
        start_piece, start_char = (
            cursors.decode(cursor, "r", ref, ("p", "c"), tool="read", belongs="document: send the same ref with it")
            if cursor
            else (0, 0)
        )
        document = self._masked_document(source, store, path, policy)

        budget = self.config.tokens.max_output_tokens - 120
        parts: list[str] = []
        counts = MaskCounts()
        used = 0
        piece, char = start_piece, start_char
        while piece < len(document.pieces):
            text, found = document.pieces[piece]
            rest = text[char:]
            cost = self.counter.count(rest)
            if used + cost <= budget:
                parts.append(rest)
                if char == 0:
                    counts.by_entity.update(found)
                else:
                    counts.by_entity.update(_tokens_in(rest))
                used += cost
                piece, char = piece + 1, 0
                continue
            room = budget - used
            if room > 50 or not parts:  # fill the page with part of this piece (masked text: safe to cut)
                cut = self.counter.truncate(rest, max(room, 50))
                parts.append(cut)
                counts.by_entity.update(_tokens_in(cut))
                char += len(cut)
            break
        more = piece < len(document.pieces)
        next_cursor = cursors.encode({"r": ref, "p": piece, "c": char}) if more else None
        result = ReadResult(
            source=source,
            ref=ref,
            title=document.title,
            media_type=document.media_type,
            text="".join(parts),
            more=more,
            cursor=next_cursor,
            entities_masked=counts.as_dict(),
        )
        text = render_read(result)
        return ToolOutput(result, text, source=source, rows=1, counts=counts, tokens=self.counter.count(text))

    def _masked_document(self, source: str, store: Store, path: str, policy: Policy) -> MaskedDocument:
        try:
            document = store.read(path)
        except (DocumentNotFound, RefDenied):
            raise ToolProblem(f'that document is no longer readable in source "{source}"; search again') from None
        except ConnectorError as exc:
            raise source_problem(exc) from None
        fingerprint = hashlib.sha256(document.text.encode("utf-8", "surrogatepass")).hexdigest()
        key = (source, path, fingerprint, policy.role)
        cached = self._masked.get(key)
        if cached is not None:
            self._masked.move_to_end(key)
            return cached
        pieces = split_pieces(document.text)
        masked = policy.masker.scan_texts(pieces)
        title_text, _ = policy.masker.scan_texts([_title(document.title, path)])[0]
        result = MaskedDocument(
            title=str(title_text),
            media_type=document.media_type,
            pieces=tuple((str(text) if text is not None else "", found) for text, found in masked),
        )
        self._masked[key] = result
        if len(self._masked) > 64:
            self._masked.popitem(last=False)
        return result


def split_pieces(text: str, limit: int = PIECE_CHARS) -> list[str]:
    """Paragraph-sized pieces for NER, cut at blank lines, then lines, then spaces; never inside a word."""
    pieces: list[str] = []
    for block in re.split(r"(?<=\n\n)", text):
        while len(block) > limit:
            cut = block.rfind("\n", 0, limit)
            if cut < limit // 2:
                cut = block.rfind(" ", 0, limit)
            if cut < limit // 2:
                cut = limit
            pieces.append(block[: cut + 1])
            block = block[cut + 1 :]
        if block:
            pieces.append(block)
    return pieces


def _title(title: str, ref: str) -> str:
    """A file name is not shown as a title: names of files can carry personal data."""
    if not title or title == PurePosixPath(ref).name or title == ref:
        suffix = PurePosixPath(ref).suffix.lower()
        return f"untitled {suffix.lstrip('.') or 'text'} document"
    return title


def _terms(query: str) -> list[str]:
    """Words to centre a snippet on; a token in the query is also in the masked chunk."""
    tokens = [m.group(0).casefold() for m in TOKEN_PATTERN.finditer(query)]
    return tokens + [t.casefold() for t in re.findall(r"\w{3,}", TOKEN_PATTERN.sub(" ", query))]


def _tokens_in(text: str) -> Counter[str]:
    """Entities masked in a piece of masked text, counted by their stand-ins (every operator but `generalize`
    and `keep` leaves a `<ENTITY…>` mark)."""
    return Counter(m.group(1) for m in MASK_MARK.finditer(text))


def _all_match(terms: Sequence[str], title: str, body: str) -> bool:
    """Every term matches the masked title or body, tokenised as the stores tokenise."""
    return all(0 in found for found in masked_term_matches(terms, [(title, body)]))


def cut_snippet(masked_chunk: str, terms: Sequence[str], words: int = SNIPPET_WORDS) -> str:
    """About `words` words of an already masked chunk around the first query term."""
    tokens = masked_chunk.split()
    if len(tokens) <= words:
        return " ".join(tokens)
    folded = [t.casefold() for t in tokens]
    hit = next((i for i, t in enumerate(folded) if any(term in t for term in terms)), 0)
    start = max(0, min(hit - words // 3, len(tokens) - words))
    snippet = " ".join(tokens[start : start + words])
    return ("… " if start else "") + snippet + (" …" if start + words < len(tokens) else "")


def render_search(result: SearchResult) -> str:
    if not result.hits:
        return "No matching documents."
    lines = []
    for n, hit in enumerate(result.hits, 1):
        lines.append(f"{n}. [{hit.source}] {hit.title} ref={hit.ref} score={hit.score}")
        lines.append(f"   {hit.snippet}")
    masked = ", ".join(f"{k} {v}" for k, v in result.entities_masked.items())
    cut = "; more hits did not fit in the output budget: narrow the query or lower `limit`" if result.truncated else ""
    lines.append(
        f"({len(result.hits)} hits; {'masked: ' + masked if masked else 'nothing masked'}{cut}; "
        "read(source, ref) returns the whole document)"
    )
    return "\n".join(lines)


def render_read(result: ReadResult) -> str:
    header = f"[{result.source}] {result.title} ({result.media_type})"
    footer = (
        f'(more follows: call read again with the same ref and cursor="{result.cursor}")'
        if result.more
        else "(end of document)"
    )
    return f"{header}\n{result.text}\n{footer}"
