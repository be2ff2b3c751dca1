"""Masking quality on data nobody tuned for: public sample databases, a generated multi-locale shop, free texts.

Every table is read through the `query` tool path (`Runtime.service.query`, as `maskwire serve` answers it) and
compared cell by cell with the database. Labels come from benchmarks/quality_labels.toml, written before tuning.

    .venv/bin/python benchmarks/quality_datasets.py [--rows N] [--columns] [--names-model MODEL] [--write-docs]

Data: see benchmarks/quality_data.py (dumps beside the clone in ../quality-data, Faker in the venv).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common as c
import quality_data as q

from mcp_server.masking.pseudonyms import TOKEN_PATTERN

LABELS = Path(__file__).resolve().parent / "quality_labels.toml"
PUBLIC_SETS = ("sakila", "classicmodels", "world", "northwind", "chinook")
NOT_SCORED = {"text", "public", "ignore"}
# Values that must never come out raw, whatever the share.
STRUCTURED = {
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "US_SSN",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "SECRET",
    "USERNAME",
}
MARKER = "<!-- data sets nobody tuned for: written by benchmarks/quality_datasets.py --write-docs -->"
END_MARKER = "<!-- end of the data sets nobody tuned for -->"


@dataclass
class ColumnScore:
    dataset: str
    table: str
    column: str
    label: str
    classified: str
    cells: int = 0
    bad: int = 0  # raw (personal) or altered (business)
    examples: list[str] = field(default_factory=list)

    @property
    def personal(self) -> bool:
        return self.label not in NOT_SCORED and self.label != "business"


def _raw(original: Any, masked: Any) -> bool:
    if original is None or str(original).strip() == "":
        return False
    shown = TOKEN_PATTERN.sub(" ", str(masked))
    return str(original).strip().casefold() in shown.casefold()


def _same(original: Any, masked: Any) -> bool:
    if original is None:
        return masked is None
    if isinstance(original, bytes | bytearray):
        return True
    return str(masked) == str(original) or (
        isinstance(original, float) and isinstance(masked, int | float) and float(masked) == original
    )


def score_tables(
    runtime: Any, name: str, path: Path, labels: dict[str, dict[str, str]], rows: int
) -> list[ColumnScore]:
    catalog = runtime.service.catalogs[name]
    out: list[ColumnScore] = []
    with sqlite3.connect(path) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in sorted(t for t in tables if not t.startswith("sqlite_")):
            columns = [d[1] for d in conn.execute(f'PRAGMA table_info("{table}")')]
            classes = catalog.classify_table(table)
            sql = f'SELECT * FROM "{table}"{_row_order(columns, classes)} LIMIT {rows}'
            originals = conn.execute(sql).fetchall()
            if not originals:
                continue
            try:
                _, masked = c.query_all(runtime, name, sql)
            except Exception as exc:  # a refused query is a finding, not a crash
                masked = None
                refusal = type(exc).__name__
            for k, column in enumerate(columns):
                label = labels.get(table, {}).get(column, "business")
                cls = classes.get(column)
                score = ColumnScore(name, table, column, label, f"{cls.label} ({cls.reason})" if cls else "?")
                for i, row in enumerate(originals):
                    value = row[k]
                    if value is None or (isinstance(value, str) and not value.strip()):
                        continue
                    if label in NOT_SCORED:
                        continue
                    score.cells += 1
                    if masked is None:
                        shown: Any = f"<refused: {refusal}>"
                    else:
                        shown = masked[i][k]
                    bad = _raw(value, shown) if score.personal else not _same(value, shown)
                    if bad:
                        score.bad += 1
                        if len(score.examples) < 3:
                            score.examples.append(str(shown)[:40])
                out.append(score)
    return out


def _row_order(columns: list[str], classes: dict[str, Any]) -> str:
    """ORDER BY the clear columns, so that the masked rows pair with the database's row by row (Maskwire puts
    the rows of an unordered query in an order of its own, and ordering by a protected column is refused)."""
    clear = [f'"{col}"' for col in columns if (cls := classes.get(col)) is not None and cls.kind == "clear"]
    return f" ORDER BY {', '.join(clear)}" if clear else ""


def score_embedded(runtime: Any, shop: q.Shop) -> list[ColumnScore]:
    """Free-text cells of the shop: each seeded personal value in them must not come out raw."""
    out = []
    for (table, column), per_row in shop.embedded.items():
        key = {"clients": "c_id", "tickets": "t_id"}[table]  # in insertion order, as `embedded` lists them
        _, masked = c.query_all(runtime, "shop", f"SELECT {column} FROM {table} ORDER BY {key}")
        cls = runtime.service.catalogs["shop"].classify(table, column)
        score = ColumnScore("shop", table, column, "text values", f"{cls.label} ({cls.reason})")
        for values, row in zip(per_row, masked, strict=True):
            for value in values:
                score.cells += 1
                if _raw(value, row[0]):
                    score.bad += 1
                    if len(score.examples) < 3:
                        score.examples.append(value)
        out.append(score)
    return out


def free_text_section(runtime: Any, names_model: str | None = None) -> tuple[list[str], dict[str, Any]]:
    from mcp_server.masking.detector import shared_detector

    detector = runtime.masker.detector
    lines = [
        "### Free texts in eight locales (generated, labelled spans)",
        "",
        "Span rule of docs/quality.md (IoU >= 0.5, any reported type). `dev` texts are the ones rules may be written"
        " from; `test` texts use other templates and seeds and are only measured.",
        "",
    ]
    rows, stats = [], {}
    for split in ("dev", "test"):
        texts = q.texts(split)
        samples = [c.Sample(t.text, t.spans) for t in texts]
        predictions = c.detector_predict(detector, [t.text for t in texts])
        scores = c.evaluate(samples, predictions)
        stats[split] = scores
        rows.append(
            [split, len(texts), scores.recall(), scores.precision(), scores.token_recall(), scores.token_precision()]
        )
        for label in sorted(scores.annotated):
            found = scores.found_any[label] / scores.annotated[label]
            rows.append([f"{split} {label}", scores.annotated[label], found, "", "", ""])
    if names_model:  # the same texts with a second pipeline for names
        other = shared_detector(detector.model_name, names_model=names_model)
        for split in ("dev", "test"):
            texts = q.texts(split)
            predictions = c.detector_predict(other, [t.text for t in texts])
            scores = c.evaluate([c.Sample(t.text, t.spans) for t in texts], predictions)
            person = scores.found_any["PERSON"] / scores.annotated["PERSON"]
            rows.append(
                [
                    f"{split}, names_model {names_model}",
                    len(texts),
                    scores.recall(),
                    scores.precision(),
                    scores.token_recall(),
                    scores.token_precision(),
                ]
            )
            rows.append([f"{split} PERSON, names_model", scores.annotated["PERSON"], person, "", "", ""])
    lines += [c.table(["split / label", "texts or spans", "span R", "span P", "token R", "token P"], rows), ""]
    for split in ("dev", "test"):
        misses = Counter(label for label, _ in stats[split].misses)
        fps = stats[split].false_positives[:8]
        lines.append(f"{split}: misses by label {dict(misses)}; first false positives: {fps}")
    lines.append("")
    return lines, stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000, help="rows read per table")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the section in docs/quality.md")
    parser.add_argument("--columns", action="store_true", help="print every column, not only the failing ones")
    parser.add_argument("--names-model", help="also score the free texts with this [masking] names_model")
    args = parser.parse_args()
    labels = tomllib.loads(LABELS.read_text(encoding="utf-8"))
    workdir = Path(tempfile.mkdtemp(prefix="maskwire-quality-"))
    shop = q.shop(workdir / "shop.sqlite")
    sources = {name: q.public_database(name) for name in PUBLIC_SETS}
    sources["shop"] = shop.path
    runtime = c.start_runtime(sources, workdir)
    scores: list[ColumnScore] = []
    try:
        for name, path in sources.items():
            scores += score_tables(runtime, name, path, labels.get(name, {}), args.rows)
        scores += score_embedded(runtime, shop)
        text_lines, _ = free_text_section(runtime, args.names_model)
    finally:
        runtime.close()

    lines = [
        "### Per data set",
        "",
        f"Every table read through the query path (first {args.rows} rows of each), cell by cell against the"
        " database. Structured identifiers: e-mail, phone, national number, card, IBAN, IP, username, secret.",
        "",
    ]
    rows = []
    for name in sources:
        mine = [s for s in scores if s.dataset == name]
        personal = [s for s in mine if s.personal or s.label == "text values"]
        business = [s for s in mine if s.label == "business"]
        p_cells, p_raw = sum(s.cells for s in personal), sum(s.bad for s in personal)
        b_cells, b_bad = sum(s.cells for s in business), sum(s.bad for s in business)
        structured = sum(s.bad for s in personal if s.label in STRUCTURED)
        rows.append(
            [
                name,
                p_cells,
                p_raw,
                f"{p_raw / p_cells:.1%}" if p_cells else "-",
                structured,
                b_cells,
                f"{(b_cells - b_bad) / b_cells:.1%}" if b_cells else "-",
            ]
        )
    lines += [
        c.table(
            ["data set", "personal cells", "raw", "raw share", "structured raw", "business cells", "readable"], rows
        ),
        "",
        "### Per column" + ("" if args.columns else " (with a raw personal value or an altered business value)"),
        "",
    ]
    rows = []
    for s in scores:
        if s.cells and (s.bad or args.columns):
            share = s.bad / s.cells
            rate = f"raw {share:.0%}" if s.label != "business" else f"readable {1 - share:.0%}"
            rows.append(
                [
                    f"{s.dataset} {s.table}.{s.column}",
                    s.label,
                    s.classified[:70],
                    s.cells,
                    rate,
                    "; ".join(s.examples)[:60],
                ]
            )
    lines += [c.table(["column", "label", "classified", "cells", "rate", "examples"], rows) if rows else "(none)", ""]
    lines += text_lines
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        path = c.ROOT / "docs" / "quality.md"
        current = path.read_text(encoding="utf-8")
        if MARKER in current:
            head, rest = current.split(MARKER, 1)
            tail = rest.split(END_MARKER, 1)[1] if END_MARKER in rest else ""
        else:
            head, tail = current.rstrip() + "\n\n", ""
        path.write_text(head + MARKER + "\n\n" + text + "\n" + END_MARKER + tail, encoding="utf-8")
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
