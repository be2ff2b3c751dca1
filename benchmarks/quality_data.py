"""Data for benchmarks/quality_datasets.py: public sample databases and generated multi-locale data.

Nothing here is kept in the repository. The public dumps (sakila, classicmodels, world, northwind, as their
projects publish them; `SOURCES.txt` in the data folder names each file's repository and commit) sit in a
folder beside the clone, `../quality-data` (or `$MASKWIRE_QUALITY_DATA`); they are loaded once into SQLite
files in its `cache/` subfolder (the MySQL dumps through the MariaDB server on 127.0.0.1, into a database
with a random name that is dropped afterwards). chinook is read in place from `../shared/fixtures`.

The generated shop (eight locales) and the free texts are made with Faker (`pip install faker` into the
venv) from fixed seeds. Faker only makes the data: no detector reads its lists.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import os
import random
import re
import secrets
import sqlite3
import string
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("MASKWIRE_QUALITY_DATA") or ROOT.parent / "quality-data")
CACHE = DATA / "cache"
CHINOOK = ROOT.parent / "shared" / "fixtures" / "chinook.sqlite"
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL")

# name -> (format, dump files in DATA)
DUMPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sakila": ("mysql", ("sakila-mysql-schema.sql", "sakila-mysql-data.sql")),
    "classicmodels": ("mysql", ("classicmodels-mysql.sql",)),
    "world": ("mysql", ("world-mysql.sql",)),
    "northwind": ("sqlite", ("northwind-sqlite.sql",)),
}
_DATABASE_LINE = re.compile(r"^\s*(?:(?:create|drop)\s+(?:database|schema)\b|use\s+\w+\s*;)", re.IGNORECASE)


def public_database(name: str) -> Path:
    """The SQLite copy of a public sample database, built on first use."""
    if name == "chinook":
        return CHINOOK
    target = CACHE / f"{name}.sqlite"
    if target.exists():
        return target
    kind, files = DUMPS[name]
    missing = [f for f in files if not (DATA / f).exists()]
    if missing:
        raise SystemExit(f"sample database dumps missing in {DATA}: {', '.join(missing)} (see benchmarks/README.md)")
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    if kind == "sqlite":
        with sqlite3.connect(partial) as conn:
            for f in files:
                conn.executescript((DATA / f).read_text(encoding="utf-8"))
    else:
        _mysql_to_sqlite(files, partial)
    partial.rename(target)
    return target


def _mysql_to_sqlite(files: tuple[str, ...], target: Path) -> None:
    import pymysql

    database = f"mwq_{secrets.token_hex(4)}"
    args = ["mysql", "-h127.0.0.1", "-uroot", "--default-character-set=utf8mb4"]
    subprocess.run([*args, "-e", f"CREATE DATABASE {database} CHARACTER SET utf8mb4"], check=True)
    try:
        script = "\n".join(
            line
            for f in files
            for line in (DATA / f).read_text(encoding="utf-8").splitlines()
            if not _DATABASE_LINE.match(line)
        )
        # --force: a view or routine the server rejects is not needed (only base tables are copied)
        subprocess.run([*args, "--force", database], input=script.encode(), check=False, capture_output=True)
        conn = pymysql.connect(host="127.0.0.1", user="root", database=database, charset="utf8mb4")
        with conn, sqlite3.connect(target) as out:
            cur = conn.cursor()
            cur.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = %s AND table_type = 'BASE TABLE'",
                (database,),
            )
            for (table,) in cur.fetchall():
                cur.execute(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                    (database, table),
                )
                columns = cur.fetchall()
                declared = ", ".join(f'"{c}" {_TYPES.get(t.lower(), t.upper())}' for c, t in columns)
                out.execute(f'CREATE TABLE "{table}" ({declared})')
                cur.execute(f"SELECT * FROM `{table}`")
                rows = [tuple(_sqlite_value(v) for v in row) for row in cur.fetchall()]
                out.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" for _ in columns)})', rows)
    finally:
        subprocess.run([*args, "-e", f"DROP DATABASE {database}"], check=True)


# MySQL type names SQLite cannot declare, as SQLAlchemy would reflect them
_TYPES = {"set": "TEXT", "enum": "TEXT", "geometry": "BLOB"}


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.timedelta):
        return str(value)
    if isinstance(value, set):
        return ",".join(sorted(value))
    return value


# -- the generated multi-locale shop ---------------------------------------------------------------

_ADJECTIVES = ("Classic", "Smart", "Compact", "Deluxe", "Ultra", "Eco", "Pro", "Mini", "Rustic", "Urban", "Silent")
_NOUNS = ("Kettle", "Lamp", "Backpack", "Blender", "Chair", "Speaker", "Notebook", "Mug", "Drill", "Jacket", "Tent")
_PROJECTS = ("Phoenix", "Atlas rollout", "Q3 migration", "Bluebird", "Harbor", "Nightingale")
_SPECIALITIES = ("cardiology", "oncology", "general practice", "paediatrics", "radiology")
_STATUSES = ("shipped", "pending", "returned", "cancelled")
_ACCENTS = str.maketrans("aeiounc", "áéíöúñç")


@dataclass
class Shop:
    path: Path
    # (table, column) -> per-row seeded personal values of free-text cells, to check none comes out raw
    embedded: dict[tuple[str, str], list[list[str]]]


def _fakers(seed: int) -> list[Any]:
    """One seeded generator per locale; `.locale_name` tells which."""
    from faker import Faker

    out = []
    for k, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + k)
        fake.locale_name = locale
        out.append(fake)
    return out


def _national_number(fake: Any, us: Any) -> str:
    """A 9-digit national number without separators: a Dutch BSN (with its check digit) or US SSN digits."""
    return fake.ssn() if fake.locale_name == "nl_NL" else us.ssn().replace("-", "")


def _email(fake: Any, rng: random.Random, name: str) -> str:
    """Every third address has non-ASCII letters in its local part (`josé.garcía@…`)."""
    if rng.random() < 0.34:
        words = [w for w in re.findall(r"[^\W\d_]{3,}", name.lower())][-2:]
        local = ".".join(words) or "cliente"
        if local.isascii():  # accent one vowel: `jose.garcia` -> `josé.garcia`
            k = next((i for i, ch in enumerate(local) if ch in "aeiou"), 0)
            local = local[:k] + local[k].translate(_ACCENTS) + local[k + 1 :]
        return f"{local}@{fake.free_email_domain()}"
    return fake.email()


def shop(path: Path, per_locale: int = 60, seed: int = 11) -> Shop:
    """A small multi-locale shop with unhelpful column names, free text and people tables of several kinds."""
    rng = random.Random(seed)
    fakers = _fakers(seed)
    embedded: dict[tuple[str, str], list[list[str]]] = {("clients", "nt"): [], ("tickets", "body"): []}
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE clients (c_id INTEGER PRIMARY KEY, nm TEXT, addr TEXT, cp TEXT, loc TEXT, ctry TEXT,
                tel TEXT, mail TEXT, k2 TEXT, pw_sha TEXT, lat REAL, lng REAL, dob DATE, since DATE,
                segment TEXT, nt TEXT);
            CREATE TABLE products (p_id INTEGER PRIMARY KEY, sku TEXT, title TEXT, cat TEXT, price REAL);
            CREATE TABLE suppliers (s_id INTEGER PRIMARY KEY, name TEXT, city TEXT, country TEXT, contact TEXT);
            CREATE TABLE orders (o_id INTEGER PRIMARY KEY, ref TEXT, c_id INTEGER, sku TEXT, qty INTEGER,
                total REAL, ship_country TEXT, status TEXT, placed DATE);
            CREATE TABLE clinicians (id INTEGER PRIMARY KEY, NAME TEXT, speciality TEXT, hospital TEXT);
            CREATE TABLE hospitals (id INTEGER PRIMARY KEY, NAME TEXT, CITY TEXT, COUNTRY TEXT, beds INTEGER);
            CREATE TABLE projects (id INTEGER PRIMARY KEY, title TEXT, budget REAL);
            CREATE TABLE staff (id INTEGER PRIMARY KEY, given TEXT, team TEXT, hired DATE);
            CREATE TABLE tickets (t_id INTEGER PRIMARY KEY, c_id INTEGER, body TEXT);
            """
        )
        cid = 0
        for fake in fakers:
            for _ in range(per_locale):
                cid += 1
                name, street, postcode, city = fake.name(), fake.street_address(), fake.postcode(), fake.city()
                password = fake.password(length=rng.randint(9, 14))
                conn.execute(
                    "INSERT INTO clients VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        cid,
                        name,
                        street,
                        postcode,
                        city,
                        fake.current_country(),
                        fake.phone_number(),
                        _email(fake, rng, name),
                        _national_number(fake, fakers[0]),
                        hashlib.sha1(password.encode()).hexdigest(),
                        float(fake.latitude()),
                        float(fake.longitude()),
                        fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
                        fake.date_between("-6y", "today").isoformat(),
                        rng.choice(("retail", "wholesale", "online")),
                        f"{name.split()[0]} asked to ship to {street}, {postcode} {city}.",
                    ),
                )
                embedded[("clients", "nt")].append([name.split()[0], street, postcode])
                phone = fake.phone_number()
                conn.execute(
                    "INSERT INTO tickets VALUES (?,?,?)",
                    (cid, cid, f"Customer called from {phone}; password reset to {password} as requested."),
                )
                embedded[("tickets", "body")].append([phone, password])
        for pid in range(1, 121):
            conn.execute(
                "INSERT INTO products VALUES (?,?,?,?,?)",
                (
                    pid,
                    f"SKU-{rng.randint(10000, 99999)}",
                    f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}",
                    rng.choice(("home", "outdoor", "office", "kitchen")),
                    round(rng.uniform(3, 300), 2),
                ),
            )
        for sid in range(1, 81):
            fake = fakers[sid % len(fakers)]
            conn.execute(
                "INSERT INTO suppliers VALUES (?,?,?,?,?)",
                (sid, fake.company(), fake.city(), fake.current_country(), fake.name()),
            )
        for oid in range(1, 601):
            fake = fakers[oid % len(fakers)]
            conn.execute(
                "INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    oid,
                    f"ORD-{2020 + oid % 5}-{oid:05d}",
                    rng.randint(1, cid),
                    f"SKU-{rng.randint(10000, 99999)}",
                    rng.randint(1, 9),
                    round(rng.uniform(5, 900), 2),
                    fake.current_country(),
                    rng.choice(_STATUSES),
                    fake.date_between("-5y", "today").isoformat(),
                ),
            )
        for k in range(1, 121):
            fake = fakers[k % len(fakers)]
            # public synthetic-patient extracts number their names: `Ramiro608 Armstrong51`
            name = f"{fake.first_name()}{rng.randint(1, 999)} {fake.last_name()}{rng.randint(1, 999)}"
            conn.execute(
                "INSERT INTO clinicians VALUES (?,?,?,?)",
                (k, name, rng.choice(_SPECIALITIES), f"{fake.city()} General Hospital"),
            )
        for k in range(1, 41):
            fake = fakers[k % len(fakers)]
            city = fake.city()
            conn.execute(
                "INSERT INTO hospitals VALUES (?,?,?,?,?)",
                (
                    k,
                    f"{city} {rng.choice(('General Hospital', 'Clinic', 'Medical Center'))}",
                    city,
                    fake.current_country(),
                    rng.randint(40, 900),
                ),
            )
        for k, title in enumerate(rng.sample(_PROJECTS, 2), start=1):
            conn.execute("INSERT INTO projects VALUES (?,?,?)", (k, title, round(rng.uniform(1e4, 1e6), 0)))
        for k in range(1, 81):
            fake = fakers[k % len(fakers)]
            conn.execute(
                "INSERT INTO staff VALUES (?,?,?,?)",
                (k, fake.first_name(), rng.choice(("sales", "support", "ops")), fake.date_between("-9y").isoformat()),
            )
    return Shop(path, embedded)


# -- generated free texts with labelled spans -------------------------------------------------------

# Templates per language; {slots} become labelled spans. Even-numbered templates are the ones the rules may be
# written from ("dev"), odd-numbered ones are only measured ("test"); the two splits also use other seeds.
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "en": (
        "Please send the invoice to {PERSON}, {STREET_ADDRESS}, {ZIP_CODE} {GPE}. Phone {PHONE_NUMBER}.",
        "{PERSON} moved to {STREET_ADDRESS}, {GPE} {ZIP_CODE}; new email {EMAIL_ADDRESS}.",
        "Hi team, the password is {PASSWORD} until {PERSON} changes it.",
        "Reached {PERSON} at {PHONE_NUMBER} about the parcel for {STREET_ADDRESS}.",
        "Deploy notes: set `{PASSWORD}` as the admin password, AWS_ACCESS_KEY_ID={AWS_KEY}.",
        "Ticket from {EMAIL_ADDRESS}: my account was reset to {PASSWORD} and I cannot log in.",
    ),
    "de": (
        "Bitte die Rechnung an {PERSON}, {STREET_ADDRESS}, {ZIP_CODE} {GPE} senden. Tel. {PHONE_NUMBER}.",
        "{PERSON} wohnt jetzt in der {STREET_ADDRESS}, {ZIP_CODE} {GPE}; E-Mail {EMAIL_ADDRESS}.",
        "Das Passwort ist {PASSWORD}, bitte nach dem ersten Login ändern.",
        "Rückruf an {PERSON} unter {PHONE_NUMBER} wegen der Lieferung.",
    ),
    "fr": (
        "Merci d'envoyer la facture à {PERSON}, {STREET_ADDRESS}, {ZIP_CODE} {GPE}. Tél. {PHONE_NUMBER}.",
        "{PERSON} habite désormais au {STREET_ADDRESS}, {ZIP_CODE} {GPE} ; courriel {EMAIL_ADDRESS}.",
        "Le mot de passe est {PASSWORD} pour le compte de {PERSON}.",
        "Appeler {PERSON} au {PHONE_NUMBER} pour la livraison.",
    ),
    "es": (
        "Envíe la factura a {PERSON}, {STREET_ADDRESS}, {ZIP_CODE} {GPE}. Tel. {PHONE_NUMBER}.",
        "{PERSON} vive ahora en {STREET_ADDRESS}, {ZIP_CODE} {GPE}; correo {EMAIL_ADDRESS}.",
        "La contraseña es {PASSWORD} hasta que {PERSON} la cambie.",
        "Llamar a {PERSON} al {PHONE_NUMBER} por el pedido.",
    ),
    "it": (
        "Inviare la fattura a {PERSON}, {STREET_ADDRESS}, {ZIP_CODE} {GPE}. Tel. {PHONE_NUMBER}.",
        "{PERSON} abita ora in {STREET_ADDRESS}, {ZIP_CODE} {GPE}; email {EMAIL_ADDRESS}.",
        "La password è {PASSWORD}, da cambiare al primo accesso.",
        "Richiamare {PERSON} al {PHONE_NUMBER} per la consegna.",
    ),
    "pt": (
        "Enviar a fatura para {PERSON}, {STREET_ADDRESS}, {ZIP_CODE} {GPE}. Tel. {PHONE_NUMBER}.",
        "{PERSON} mora agora na {STREET_ADDRESS}, {ZIP_CODE} {GPE}; e-mail {EMAIL_ADDRESS}.",
        "A senha é {PASSWORD} até {PERSON} trocar.",
        "Ligar para {PERSON} no {PHONE_NUMBER} sobre a entrega.",
    ),
    "nl": (
        "Stuur de factuur naar {PERSON}, {STREET_ADDRESS}, {ZIP_CODE} {GPE}. Tel. {PHONE_NUMBER}.",
        "{PERSON} woont nu op {STREET_ADDRESS}, {ZIP_CODE} {GPE}; e-mail {EMAIL_ADDRESS}.",
        "Het wachtwoord is {PASSWORD} tot {PERSON} het wijzigt.",
        "Bel {PERSON} op {PHONE_NUMBER} over de levering.",
    ),
}
_SLOT = re.compile(r"\{([A-Z_]+)\}")


@dataclass(frozen=True)
class LabelledText:
    text: str
    spans: tuple[tuple[int, int, str], ...]
    locale: str


def _aws_key(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))  # base32, as AWS


def _slot_value(slot: str, fake: Any, rng: random.Random) -> str:
    if slot == "PERSON":
        return fake.name()
    if slot == "STREET_ADDRESS":
        return fake.street_address()
    if slot == "ZIP_CODE":
        return fake.postcode()
    if slot == "GPE":
        return fake.city()
    if slot == "PHONE_NUMBER":
        return fake.phone_number()
    if slot == "EMAIL_ADDRESS":
        return _email(fake, rng, fake.name())
    if slot == "PASSWORD":
        return fake.password(length=rng.randint(9, 14))
    if slot == "AWS_KEY":
        return _aws_key(rng)
    raise ValueError(slot)


def texts(split: str, per_template: int = 12) -> list[LabelledText]:
    """Labelled texts of one split ("dev" or "test") in every locale."""
    parity = 0 if split == "dev" else 1
    fakers = _fakers(101 if split == "dev" else 202)
    rng = random.Random(split)
    out: list[LabelledText] = []
    for fake in fakers:
        language = fake.locale_name.split("_")[0]
        templates = [t for k, t in enumerate(_TEMPLATES[language]) if k % 2 == parity]
        for template in templates:
            for _ in range(per_template):
                text, spans, pos = "", [], 0
                for m in _SLOT.finditer(template):
                    text += template[pos : m.start()]
                    value = _slot_value(m.group(1), fake, rng)
                    label = "SECRET" if m.group(1) in ("PASSWORD", "AWS_KEY") else m.group(1)
                    spans.append((len(text), len(text) + len(value), label))
                    text += value
                    pos = m.end()
                text += template[pos:]
                out.append(LabelledText(text, tuple(spans), fake.locale_name))
    return out
