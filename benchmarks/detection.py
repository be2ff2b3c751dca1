"""Detection quality: plain Presidio (the anchor) next to Maskwire, on third-party data.

    .venv/bin/python benchmarks/detection.py [--limit N] [--write-docs]

a. presidio_synth_dataset_v2.json: per-entity and type-ignored precision / recall / F2, anchor and Maskwire
   in the same run, span-level (presidio-research SpanEvaluator rule) and token-level.
b. Column classification: chinook, and a generated table with unhelpful column names (values from the
   fake-identity CSV for the personal columns, generated order ids, amounts, SKUs... for the others).
c. Cell false positives: share of non-personal cells the full pipeline (Runtime -> ToolService.query) alters.
d. The fake-identity CSV as a SQLite table, queried through the same pipeline: share of personal values
   that come out raw, per column (with its own column names, and with the names replaced by c01, c02...).

Writes nothing outside a temporary folder unless --write-docs (then docs/quality.md is rewritten).
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import sys
import tempfile
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common as c

from mcp_server.masking.pseudonyms import TOKEN_PATTERN

# -- a. the synth dataset ------------------------------------------------------------------------


def synth_section(limit: int | None) -> tuple[list[str], dict[str, Any]]:
    from mcp_server.masking.detector import Detector

    samples = c.load_synth(limit)
    texts = [s.text for s in samples]
    anchor = c.anchor_engine()
    detector = Detector(c.MODEL)
    anchor_pred, anchor_s = c.timed(lambda: c.anchor_predict(anchor, texts))
    mw_pred, mw_s = c.timed(lambda: c.detector_predict(detector, texts))
    out = [f"### a. `presidio_synth_dataset_v2.json` ({len(samples)} sentences)", ""]
    rows = []
    summary: dict[str, Any] = {}
    for scope_name, scope in (("personal-data scope", c.OUT_OF_SCOPE), ("all 17 labels", None)):
        for name, pred in (("plain Presidio (anchor)", anchor_pred), ("Maskwire", mw_pred)):
            s = c.evaluate(samples, pred, scope=scope)
            rows.append(
                [scope_name, name, s.recall(), s.precision(), s.f(), s.token_recall(), s.token_precision(), s.token_f()]
            )
            summary[(scope_name, name)] = s
    out.append(
        c.table(
            ["labels", "detector", "span R", "span P", "span F2", "token R", "token P", "token F2"],
            rows,
        )
    )
    out += [
        "",
        f"Time for the {len(texts)} sentences: anchor one by one {anchor_s:.1f} s, Maskwire in batches {mw_s:.1f} s.",
        "",
    ]
    a_scope = summary[("personal-data scope", "plain Presidio (anchor)")]
    m_scope = summary[("personal-data scope", "Maskwire")]
    a_all = summary[("all 17 labels", "plain Presidio (anchor)")]
    m_all = summary[("all 17 labels", "Maskwire")]
    rows = []
    for label in sorted(a_all.annotated, key=lambda k: -a_all.annotated[k]):
        in_scope = label not in c.OUT_OF_SCOPE
        a, m = (a_scope, m_scope) if in_scope else (a_all, m_all)
        n = a.annotated[label]
        tok = a.gold_tokens[label] or 1
        rows.append(
            [
                label + ("" if in_scope else " (out of scope)"),
                n,
                a.found_any[label] / n,
                m.found_any[label] / n,
                a.found_typed[label] / n,
                m.found_typed[label] / n,
                a.covered_any[label] / tok,
                m.covered_any[label] / (m.gold_tokens[label] or 1),
            ]
        )
    out += [
        "Per dataset label: share of gold spans found (span rule), by a prediction of any type / of the",
        "label's own type (LABEL_TO_ENTITY), and share of gold tokens covered (token rule).",
        "",
        c.table(
            [
                "label",
                "spans",
                "anchor any",
                "Maskwire any",
                "anchor typed",
                "Maskwire typed",
                "anchor tokens",
                "Maskwire tokens",
            ],
            rows,
        ),
        "",
    ]
    rows = []
    for entity in sorted(set(a_scope.predicted) | set(m_scope.predicted)):
        rows.append(
            [
                entity,
                a_scope.predicted[entity],
                a_scope.matched[entity] / a_scope.predicted[entity] if a_scope.predicted[entity] else "-",
                m_scope.predicted[entity],
                m_scope.matched[entity] / m_scope.predicted[entity] if m_scope.predicted[entity] else "-",
            ]
        )
    out += [
        "Predicted spans by reported type (personal-data scope) and the share that matched a gold span:",
        "",
        c.table(["reported type", "anchor spans", "anchor precision", "Maskwire spans", "Maskwire precision"], rows),
        "",
    ]
    return out, {"anchor": a_scope, "maskwire": m_scope, "anchor_all": a_all, "maskwire_all": m_all}


# -- b, c, d. the table path ------------------------------------------------------------------------

CHINOOK_PERSONAL = {
    "Customer": {
        "FirstName",
        "LastName",
        "Company",
        "Address",
        "City",
        "State",
        "Country",
        "PostalCode",
        "Phone",
        "Fax",
        "Email",
    },
    "Employee": {
        "LastName",
        "FirstName",
        "BirthDate",
        "HireDate",
        "Address",
        "City",
        "State",
        "Country",
        "PostalCode",
        "Phone",
        "Fax",
        "Email",
    },
    "Invoice": {"BillingAddress", "BillingCity", "BillingState", "BillingCountry", "BillingPostalCode"},
}
# Public names of performers: a masker may treat them as names (fixtures README); reported apart.
PERFORMER_COLUMNS = {("Artist", "Name"), ("Track", "Composer")}
# Non-personal catalogue and sales columns whose cells must come out unchanged (c).
CHINOOK_CLEAR_COLUMNS = {
    "Album": ["Title"],
    "Genre": ["Name"],
    "MediaType": ["Name"],
    "Playlist": ["Name"],
    "Track": ["Name", "Milliseconds", "Bytes", "UnitPrice"],
    "InvoiceLine": ["InvoiceLineId", "InvoiceId", "TrackId", "UnitPrice", "Quantity"],
    "Invoice": ["InvoiceId", "InvoiceDate", "Total"],
}

PRODUCTS = [
    "Wireless Mouse",
    "USB-C Cable 2m",
    "Stainless Steel Water Bottle 750ml",
    "Noise Cancelling Headphones",
    "Mechanical Keyboard",
    "Laptop Stand",
    "HDMI Adapter",
    "Desk Lamp LED",
    "Yoga Mat",
    "Running Shoes",
    "Coffee Grinder",
    "French Press",
    "Cast Iron Skillet",
    "Chef Knife 8in",
    "Bluetooth Speaker",
    "Phone Case",
    "Screen Protector",
    "Backpack 30L",
    "Rain Jacket",
    "Wool Socks",
    "Hiking Boots",
    "Camping Tent 2P",
    "Sleeping Bag",
    "Headlamp",
    "Trekking Poles",
    "Water Filter",
    "Portable Charger 10000mAh",
    "Smart Watch",
    "Fitness Tracker",
    "Electric Kettle",
    "Blender",
    "Air Fryer",
    "Toaster",
    "Office Chair",
    "Standing Desk",
    "Monitor 27in",
    "Webcam HD",
    "Microphone",
    "Router",
    "Graphic Tablet",
]
COLORS = ["Black", "White", "Red", "Blue", "Green", "Grey", "Navy", "Olive"]
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "refunded", "on hold"]


def load_identities() -> list[dict[str, str]]:
    with c.FAKE_IDENTITIES.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def generated_table(path: Path, people: list[dict[str, str]], rows: int, seed: int = 7) -> dict[str, bool]:
    """A table `t` with unhelpful column names; returns {column: is personal}."""
    rng = random.Random(seed)
    start = datetime(2023, 1, 1)
    columns: dict[str, tuple[bool, Any]] = {
        # personal, with names that say nothing or are abbreviated / not English
        "col1": (True, lambda p, i: f"{p['GivenName']} {p['Surname']}"),
        "c_2": (True, lambda p, i: p["EmailAddress"]),
        "fld_x": (True, lambda p, i: p["TelephoneNumber"]),
        "data": (True, lambda p, i: p["StreetAddress"]),
        "info": (True, lambda p, i: f"{p['GivenName']} {p['Surname']}".upper()),
        "fn": (True, lambda p, i: p["GivenName"]),
        "ln": (True, lambda p, i: p["Surname"]),
        "eml": (True, lambda p, i: p["EmailAddress"]),
        "tel": (True, lambda p, i: p["TelephoneNumber"]),
        "addr1": (True, lambda p, i: p["StreetAddress"]),
        "nombre": (True, lambda p, i: p["GivenName"]),
        "apellido": (True, lambda p, i: p["Surname"]),
        "correo": (True, lambda p, i: p["EmailAddress"]),
        "telefono": (True, lambda p, i: p["TelephoneNumber"]),
        "direccion": (True, lambda p, i: f"{p['StreetAddress']}, {p['City']}"),
        "geburtsdatum": (True, lambda p, i: p["Birthday"]),
        "strasse": (True, lambda p, i: p["StreetAddress"]),
        "vorname": (True, lambda p, i: p["GivenName"]),
        "nachname": (True, lambda p, i: p["Surname"]),
        # not personal, with names that say nothing either
        "col3": (False, lambda p, i: str(10000 + i)),
        "col4": (False, lambda p, i: f"{rng.uniform(1, 900):.2f}"),
        "col5": (False, lambda p, i: f"SKU-{rng.choice('ABCDEFGH')}{rng.choice('XYZ')}-{rng.randint(1000, 9999)}"),
        "col6": (False, lambda p, i: str(uuid.UUID(int=rng.getrandbits(128), version=4))),
        "col7": (False, lambda p, i: (start + timedelta(minutes=rng.randint(0, 600_000))).isoformat(sep=" ")),
        "col8": (False, lambda p, i: f"{rng.choice(PRODUCTS)} - {rng.choice(COLORS)}"),
        "col9": (False, lambda p, i: rng.choice(STATUSES)),
        "val": (False, lambda p, i: str(rng.randint(1, 12))),
        "ref": (False, lambda p, i: f"ORD-{2024}{i:06d}"),
        "dt": (False, lambda p, i: (start + timedelta(days=rng.randint(0, 700))).date().isoformat()),
        "x": (False, lambda p, i: f"{rng.randint(1, 5)} x {rng.choice(PRODUCTS)}"),
    }
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE t ({', '.join(f'{name} TEXT' for name in columns)})")
        data = []
        for i in range(rows):
            person = people[i % len(people)]
            data.append(tuple(make(person, i) for _, make in columns.values()))
        conn.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in columns)})", data)
    return {name: personal for name, (personal, _) in columns.items()}


IDENTITY_PERSONAL = {
    "GivenName": "names",
    "Surname": "names",
    "MothersMaiden": "names",
    "StreetAddress": "addresses",
    "City": "addresses",
    "ZipCode": "addresses",
    "EmailAddress": "emails",
    "Username": "usernames",
    "Password": "passwords",
    "TelephoneNumber": "phones",
    "Birthday": "birth dates",
    "CCNumber": "card numbers",
    "CVV2": "card numbers",
    "NationalID": "national IDs",
}
TARGETS = {"emails": 0.0, "phones": 0.0, "card numbers": 0.0, "national IDs": 0.0, "usernames": 0.0}
TARGETS |= {"passwords": 0.0, "names": 0.02, "addresses": 0.02}


def identities_table(path: Path, people: list[dict[str, str]], anonymous: bool) -> dict[str, str]:
    """The CSV as table `people`; returns {column in the table: CSV column}."""
    header = [h for h in people[0] if h != "Number"]
    names = {h: (f"c{i + 1:02d}" if anonymous else h) for i, h in enumerate(header)}
    with sqlite3.connect(path) as conn:  # `id`: the order rows are compared in (Maskwire orders unordered pages)
        conn.execute(f"CREATE TABLE people (id INTEGER PRIMARY KEY, {', '.join(f'{names[h]} TEXT' for h in header)})")
        conn.executemany(
            f"INSERT INTO people VALUES (?, {', '.join('?' for _ in header)})",
            [(k, *(p[h] or None for h in header)) for k, p in enumerate(people, start=1)],
        )
    return {"id": "Number", **{names[h]: h for h in header}}


def _raw(original: Any, masked: Any) -> bool:
    """The value comes out as it went in (or is contained verbatim in what comes out)."""
    if original is None or str(original).strip() == "":
        return False
    shown = TOKEN_PATTERN.sub(" ", str(masked))  # a token's hex digits are not the value
    return str(original).strip().casefold() in shown.casefold()


def table_sections(limit: int | None) -> tuple[list[str], dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="maskwire-bench-"))
    people = load_identities()
    if limit:
        people = people[: max(limit, 200)]
    gen_path = workdir / "generated.sqlite"
    gen_personal = generated_table(gen_path, people, rows=min(len(people), 2000))
    ids_named, ids_anon = workdir / "identities.sqlite", workdir / "identities_anon.sqlite"
    named_map = identities_table(ids_named, people, anonymous=False)
    anon_map = identities_table(ids_anon, people, anonymous=True)
    runtime = c.start_runtime(
        {"chinook": c.CHINOOK, "generated": gen_path, "ids": ids_named, "idsanon": ids_anon}, workdir
    )
    out: list[str] = []
    stats: dict[str, Any] = {}
    try:
        # b. classification
        out += ["### b. Column classification", ""]
        confusion: Counter[tuple[str, str, str]] = Counter()
        wrong: list[list[Any]] = []
        catalog = runtime.service.catalogs["chinook"]
        for table in sorted(catalog.tables()):
            for column, cls in catalog.classify_table(table).items():
                expected = "personal" if column in CHINOOK_PERSONAL.get(table, set()) else "not personal"
                if (table, column) in PERFORMER_COLUMNS:
                    expected = "performer names"
                confusion[("chinook", expected, cls.kind)] += 1
                bad = (expected == "personal" and cls.kind != "pii") or (
                    expected == "not personal" and cls.kind == "pii"
                )
                if bad or expected == "performer names":
                    wrong.append([f"chinook {table}.{column}", expected, cls.label, cls.reason])
        gen = runtime.service.catalogs["generated"]
        for column, cls in gen.classify_table("t").items():
            expected = "personal" if gen_personal[column] else "not personal"
            confusion[("generated", expected, cls.kind)] += 1
            bad = (expected == "personal" and cls.kind != "pii") or (expected == "not personal" and cls.kind == "pii")
            if bad:
                wrong.append([f"generated t.{column}", expected, cls.label, cls.reason])
        rows = []
        for dataset in ("chinook", "generated"):
            for expected in ("personal", "not personal", "performer names"):
                counts = [confusion[(dataset, expected, k)] for k in ("pii", "text", "clear")]
                if sum(counts):
                    rows.append([dataset, expected, *counts])
        out += [
            c.table(["schema", "expected", "masked whole (pii)", "scanned (text)", "clear"], rows),
            "",
            "Columns not classified as expected (and the performer-name columns):",
            "",
            c.table(["column", "expected", "classified", "reason"], wrong) if wrong else "(none)",
            "",
        ]
        stats["confusion"] = confusion

        # c. cell false positives
        out += ["### c. Cells of non-personal columns altered by the full pipeline", ""]
        rows = []
        total = altered = 0
        raw_values: dict[str, list[Any]] = {}
        for table, columns in CHINOOK_CLEAR_COLUMNS.items():
            sql = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {table}Id"  # both sides in one order
            with sqlite3.connect(c.CHINOOK) as conn:
                originals = conn.execute(sql).fetchall()
            _, masked = c.query_all(runtime, "chinook", sql)
            for k, column in enumerate(columns):
                n = sum(1 for r in originals if r[k] is not None)
                changed = sum(1 for o, m in zip(originals, masked, strict=True) if o[k] is not None and m[k] != o[k])
                rows.append([f"chinook {table}.{column}", n, changed, changed / n if n else 0.0])
                total += n
                altered += changed
        for table, column in sorted(PERFORMER_COLUMNS):
            sql = f"SELECT {column} FROM {table} ORDER BY {table}Id"
            with sqlite3.connect(c.CHINOOK) as conn:
                originals = conn.execute(sql).fetchall()
            _, masked = c.query_all(runtime, "chinook", sql)
            n = sum(1 for r in originals if r[0] is not None)
            changed = sum(1 for o, m in zip(originals, masked, strict=True) if o[0] is not None and m[0] != o[0])
            raw_values[f"{table}.{column}"] = [n, changed]
        clear_cols = [col for col, personal in gen_personal.items() if not personal]
        sql = f"SELECT {', '.join(clear_cols)} FROM t ORDER BY col3"  # col3: a clear row number
        with sqlite3.connect(gen_path) as conn:
            originals = conn.execute(sql).fetchall()
        _, masked = c.query_all(runtime, "generated", sql)
        for k, column in enumerate(clear_cols):
            n = len(originals)
            changed = sum(1 for o, m in zip(originals, masked, strict=True) if str(m[k]) != str(o[k]))
            rows.append([f"generated t.{column}", n, changed, changed / n])
            total += n
            altered += changed
        out += [
            c.table(["column", "cells", "altered", "share"], rows),
            "",
            f"**All non-personal columns: {altered} of {total} cells altered ({altered / total:.2%}).**",
            "",
            "Performer names (public names; masked as names, not counted above): "
            + ", ".join(f"{k} {v[1]}/{v[0]} cells" for k, v in raw_values.items()),
            "",
        ]
        stats["fp_rate"] = altered / total

        # d. fake identities through the pipeline
        out += ["### d. Fake identities (3,000 rows) through the pipeline: personal values that come out raw", ""]
        rows = []
        worst: dict[str, dict[str, float]] = {}
        for source, mapping in (("ids", named_map), ("idsanon", anon_map)):
            columns, masked = c.query_all(runtime, source, "SELECT * FROM people ORDER BY id")
            cat = runtime.service.catalogs[source]
            classes = cat.classify_table("people")
            for k, column in enumerate(columns):
                csv_name = mapping[column]
                kind = IDENTITY_PERSONAL.get(csv_name)
                if kind is None:
                    continue
                originals = [p[csv_name] for p in people]
                n = sum(1 for v in originals if v)
                raw = sum(1 for o, m in zip(originals, masked, strict=True) if _raw(o, m[k]))
                share = raw / n if n else 0.0
                label = "own names" if source == "ids" else "c01..c29"
                rows.append([csv_name, label, kind, classes[column].label, n, raw, share])
                worst.setdefault(label, {})
                worst[label][kind] = max(worst[label].get(kind, 0.0), share)
        out += [c.table(["CSV column", "column names", "kind", "classified", "values", "raw", "raw share"], rows), ""]
        rows = []
        for kind, target in TARGETS.items():
            rows.append(
                [
                    kind,
                    f"<= {target:.0%}",
                    worst.get("own names", {}).get(kind, 0.0),
                    worst.get("c01..c29", {}).get(kind, 0.0),
                ]
            )
        out += [c.table(["kind", "target", "raw share (own names)", "raw share (c01..c29)"], rows), ""]
        stats["raw"] = worst
    finally:
        runtime.close()
    return out, stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N sentences / identities")
    parser.add_argument("--write-docs", action="store_true", help="rewrite docs/quality.md with these tables")
    args = parser.parse_args()
    c.require_fixtures(c.SYNTH, c.CHINOOK, c.FAKE_IDENTITIES)
    lines, _ = synth_section(args.limit)
    more, _ = table_sections(args.limit)
    lines += more
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        path = c.ROOT / "docs" / "quality.md"
        marker = "<!-- measured tables: written by benchmarks/detection.py --write-docs -->"
        current = path.read_text(encoding="utf-8") if path.exists() else marker + "\n"
        head = current.split(marker)[0]
        path.write_text(head + marker + "\n\n" + text + "\n", encoding="utf-8")
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
