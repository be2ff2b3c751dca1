"""Two databases that differ only in their protected values, served by one real Maskwire runtime.

`D` holds generated people and orders; `f(D)` is the same database with every protected value replaced by
another value of the same type through one bijection per entity type (so equal values stay equal, across
columns too, and NULLs stay NULL), while lengths, characters and sort order change. A query that obeys the
inference rule gives the same answer on both, once tokens are translated back through the bijection.

Values are drawn from a seeded random generator (not from a name list): nothing here is a detection
dictionary, and the columns are declared in the config, so no classifier is involved.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mcp_server.config import parse_config
from mcp_server.runtime import Runtime
from mcp_server.tools.problems import ToolProblem

# column -> (entity, predicates); every other column is clear
PROTECTED: dict[str, tuple[str, str]] = {
    "people.name": ("PERSON", "equality"),
    "people.email": ("EMAIL_ADDRESS", "equality"),
    "people.ssn": ("US_SSN", "none"),
    "people.birth_date": ("DATE_OF_BIRTH", "equality"),
    "people.phone": ("PHONE_NUMBER", "equality"),
    "orders.contact_email": ("EMAIL_ADDRESS", "equality"),
}
CLEAR = ["people.id", "people.city", "people.status", "people.score", "orders.id", "orders.person_id"]
CLEAR += ["orders.amount", "orders.placed"]
_LITERAL_MARK = re.compile(r"⟦L:(.*?)⟧")
_TOKEN_MARK = re.compile(r"⟦T:(.*?)⟧")
PEOPLE = 30
ORDERS = 80


def _word(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(low, high)))


def _value(entity: str, rng: random.Random) -> str:
    if entity == "PERSON":
        return f"{_word(rng, 2, 9).title()} {_word(rng, 3, 11).title()}"
    if entity == "EMAIL_ADDRESS":
        return f"{_word(rng, 1, 12)}{rng.randint(0, 99)}@{_word(rng, 3, 8)}.{rng.choice(['com', 'org', 'net', 'io'])}"
    if entity == "US_SSN":
        return f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
    if entity == "DATE_OF_BIRTH":
        return f"{rng.randint(1930, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}"


@dataclass
class Renaming:
    """One bijection per entity type, from the values of D to fresh values of the same type."""

    reserved: set[str]
    """Every value of D (and of the literal pool): an image is never one of them."""
    forward: dict[str, dict[str, str]] = field(default_factory=dict)

    def of(self, entity: str, value: str | None, rng: random.Random) -> str | None:
        if value is None:
            return None
        table = self.forward.setdefault(entity, {})
        if value not in table:
            taken = self.reserved | set(table.values())
            fresh = _value(entity, rng)
            while fresh in taken:
                fresh = _value(entity, rng)
            table[value] = fresh
        return table[value]

    def all_pairs(self) -> Iterator[tuple[str, str, str]]:
        for entity, table in self.forward.items():
            for old, new in table.items():
                yield entity, old, new


def generate(seed: int) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]], Renaming]:
    """D, f(D) and f."""
    rng = random.Random(seed)
    pool = {
        entity: [_value(entity, rng) for _ in range(PEOPLE)] for entity in sorted({e for e, _ in PROTECTED.values()})
    }
    people = []
    for i in range(1, PEOPLE + 1):
        people.append(
            {
                "id": i,
                "name": rng.choice(pool["PERSON"]),  # some names repeat: equality has something to find
                "email": pool["EMAIL_ADDRESS"][i - 1] if rng.random() > 0.1 else None,
                "ssn": pool["US_SSN"][i - 1] if rng.random() > 0.1 else None,
                "birth_date": rng.choice(pool["DATE_OF_BIRTH"]),
                "phone": pool["PHONE_NUMBER"][i - 1],
                "city": rng.choice(["Lyon", "Porto", "Leeds", "Utrecht"]),
                "status": rng.choice(["active", "closed", "trial"]),
                "score": rng.randint(0, 9),
            }
        )
    emails = [p["email"] for p in people if p["email"]]
    orders = [
        {
            "id": i,
            "person_id": rng.randint(1, PEOPLE),
            "contact_email": rng.choice(emails) if rng.random() > 0.2 else _value("EMAIL_ADDRESS", rng),
            "amount": rng.randint(1, 500),
            "placed": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }
        for i in range(1, ORDERS + 1)
    ]
    reserved = {str(v) for rows in (people, orders) for row in rows for v in row.values() if v is not None}
    renaming = Renaming(reserved | {v for values in pool.values() for v in values})
    rename_rng = random.Random(seed + 1)

    def renamed(table: str, row: dict[str, Any]) -> dict[str, Any]:
        out = dict(row)
        for column, value in row.items():
            spec = PROTECTED.get(f"{table}.{column}")
            if spec is not None:
                out[column] = renaming.of(spec[0], value, rename_rng)
        return out

    d = {"people": people, "orders": orders}
    fd = {name: [renamed(name, row) for row in rows] for name, rows in d.items()}
    for entity, values in pool.items():  # literals the queries may use that D does not hold get an image too
        for value in values:
            renaming.of(entity, value, rename_rng)
    return d, fd, renaming


def literal_pool(d: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """Protected values of D by entity type (what a query may name as a literal or a token)."""
    out: dict[str, set[str]] = {}
    for key, (entity, _) in PROTECTED.items():
        table, column = key.split(".")
        out.setdefault(entity, set()).update(str(r[column]) for r in d[table] if r[column] is not None)
    return {entity: sorted(values) for entity, values in out.items()}


def load(url: str, data: dict[str, list[dict[str, Any]]]) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    people = sa.Table(
        "people",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(c, sa.String(80)) for c in ("name", "email", "ssn", "birth_date", "phone", "city", "status")),
        sa.Column("score", sa.Integer),
    )
    orders = sa.Table(
        "orders",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.Integer),
        sa.Column("contact_email", sa.String(80)),
        sa.Column("amount", sa.Integer),
        sa.Column("placed", sa.String(20)),
    )
    sa.Index("people_email", people.c.email)  # an index on a protected column, as real schemas have
    sa.Index("orders_contact", orders.c.contact_email)
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(people.insert(), data["people"])
        conn.execute(orders.insert(), data["orders"])
    engine.dispose()


@contextmanager
def databases(engine: str, root: Path, server_url: str | None) -> Iterator[tuple[str, str]]:
    """Two empty databases of the engine (SQLite files, or databases created on the server), dropped after."""
    if engine == "sqlite":
        yield f"sqlite:///{root / 'd.sqlite'}", f"sqlite:///{root / 'fd.sqlite'}"
        return
    assert server_url is not None
    base = sa.engine.make_url(server_url)
    names = [f"mw_ni_{uuid.uuid4().hex[:8]}_{side}" for side in ("d", "fd")]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield tuple(base.set(database=n).render_as_string(hide_password=False) for n in names)  # type: ignore[misc]
    finally:
        with admin.connect() as conn:
            for name in names:
                force = " WITH (FORCE)" if engine == "postgres" else ""
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()


def config_text(root: Path, d_url: str, fd_url: str) -> str:
    columns = "\n".join(
        f'"{key}" = {{ kind = "pii", entity = "{entity}", predicates = "{mode}" }}'
        for key, (entity, mode) in PROTECTED.items()
    )
    columns += "\n" + "\n".join(f'"{key}" = {{ kind = "clear" }}' for key in CLEAR)
    sources = ""
    for name, url in (("d", d_url), ("fd", fd_url)):
        sources += f'[[sources]]\nname = "{name}"\nkind = "sql"\nurl = "{url}"\nmax_rows = 200\n'
        sources += f"[sources.columns]\n{columns}\n"
    return f'[server]\nstate_dir = "{root / "state"}"\n[masking]\nner_workers = 0\n{sources}'


@dataclass(frozen=True)
class Outcome:
    """What the agent saw: refused / error (with its class) / rows (with column masking)."""

    status: str
    error_class: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    more: bool = False
    text: str = ""


def run(runtime: Runtime, source: str, sql: str) -> Outcome:
    service = runtime.service
    try:
        out = service.query(source, sql, policy=service.policy_for(None))
    except ToolProblem as problem:
        status = "refused" if (problem.error_class or "").startswith("SqlDenied") else "error"
        if problem.error_class is None:
            status = "refused"
        return Outcome(status, problem.error_class, text=str(problem))
    result = out.structured
    return Outcome(
        "ok",
        None,
        tuple((c.name, c.masking) for c in result.columns),  # type: ignore[attr-defined]
        tuple(tuple(r) for r in result.rows),  # type: ignore[attr-defined]
        bool(result.more),  # type: ignore[attr-defined]
        out.text,
    )


@dataclass
class World:
    runtime: Runtime
    d: dict[str, list[dict[str, Any]]]
    renaming: Renaming
    tokens: dict[str, str]
    """token of a value of D -> token of its image (and the image's token back to nothing)."""
    back: dict[str, str]
    """token of an image -> token of the value of D."""
    d_tokens: set[str]

    def render(self, sql: str, renamed: bool) -> str:
        """The SQL to run on D (renamed=False) or on f(D): compared literals and tokens become their images."""

        def literal(match: re.Match[str]) -> str:
            value = match.group(1)
            if renamed:
                value = next((new for _e, old, new in self.renaming.all_pairs() if old == value), value)
            return "'" + value.replace("'", "''") + "'"

        def token(match: re.Match[str]) -> str:
            text = match.group(1)
            return "'" + (self.tokens.get(text, text) if renamed else text) + "'"

        return _TOKEN_MARK.sub(token, _LITERAL_MARK.sub(literal, sql))


def build_world(engine: str, root: Path, server_url: str | None, seed: int = 11) -> Iterator[World]:
    d, fd, renaming = generate(seed)
    with databases(engine, root, server_url) as (d_url, fd_url):
        load(d_url, d)
        load(fd_url, fd)
        config = parse_config(config_text(root, d_url, fd_url), root / "maskwire.toml")
        runtime = Runtime.start(config)
        try:
            pseudonyms = runtime.masker.pseudonyms
            tokens: dict[str, str] = {}
            for entity, old, new in renaming.all_pairs():
                tokens[pseudonyms.token(entity, old)] = pseudonyms.token(entity, new)
            d_values = {
                (entity, str(row[key.split(".")[1]]))
                for key, (entity, _) in PROTECTED.items()
                for row in d[key.split(".")[0]]
                if row[key.split(".")[1]] is not None
            }
            d_tokens = {pseudonyms.token(entity, value) for entity, value in d_values}
            pseudonyms.flush()
            yield World(runtime, d, renaming, tokens, {v: k for k, v in tokens.items()}, d_tokens)
        finally:
            runtime.close()
