"""What a table is about, read from its name and its columns: people, organisations, or neither.

Column classification uses it to decide the columns whose meaning depends on the table: a `NAME` in a table of
clinicians is a person's name, in a table of products or suppliers it is not; a city in a person's address is
personal, the city of an office, of a hospital or of a sale is not (see docs/configuration.md, "Places and
organisations").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Subject = Literal["person", "organisation", "unknown"]

# Singular table-name words of tables whose rows are people.
PERSON_TABLES = frozenset(
    {
        "employee",
        "staff",
        "patient",
        "person",
        "people",
        "user",
        "member",
        "client",
        "student",
        "clinician",
        "doctor",
        "physician",
        "nurse",
        "practitioner",
        "applicant",
        "candidate",
        "passenger",
        "guest",
        "resident",
        "citizen",
        "driver",
        "teacher",
        "subscriber",
        "donor",
        "volunteer",
        "worker",
        "personnel",
        "beneficiary",
        "caregiver",
        "contact",
        "individual",
        "account",
        "profile",
        "kunde",
        "cliente",
        "paciente",
        "patiente",
        "mitarbeiter",
        "klant",
        "medewerker",
    }
)
# Singular table-name words of tables whose rows are organisations or their premises.
ORGANISATION_TABLES = frozenset(
    {
        "company",
        "organisation",
        "organization",
        "org",
        "supplier",
        "vendor",
        "shipper",
        "carrier",
        "office",
        "store",
        "warehouse",
        "branch",
        "hospital",
        "clinic",
        "facility",
        "site",
        "school",
        "university",
        "bank",
        "partner",
        "agency",
        "manufacturer",
        "brand",
        "merchant",
        "department",
        "institution",
        "pharmacy",
        "airport",
        "hotel",
        "restaurant",
        "location",
        "venue",
    }
)
_PERSON_NAME_RUNS = (
    ("first", "name"),
    ("firstname",),
    ("last", "name"),
    ("lastname",),
    ("surname",),
    ("given", "name"),
    ("family", "name"),
    ("full", "name"),
    ("fullname",),
    ("fname",),
    ("lname",),
)
_ORGANISATION_COLUMN_WORDS = frozenset({"company", "organisation", "organization", "vendor", "supplier", "employer"})
# Last words of the column that names a row's thing (`title`, `productName`).
THING_NAME_WORDS = frozenset({"name", "title", "label"})
_STREET_WORDS = frozenset({"address", "street", "addr", "addressline", "strasse", "straße", "adresse", "calle"})


def words(name: str) -> list[str]:
    """`FirstName`, `first_name`, `FIRST-NAME`, `customerEmail`, `addr1` -> lowercase words (accents kept)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[^\W\d_])(?=\d)", " ", name)
    return [w for w in re.split(r"[\W_]+", spaced.lower()) if w]


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def contains(seq: Sequence[str], run: Sequence[str]) -> bool:
    n = len(run)
    return any(tuple(seq[i : i + n]) == tuple(run) for i in range(len(seq) - n + 1))


@dataclass(frozen=True)
class TableContext:
    subject: Subject
    has_street: bool
    reason: str
    names_things: bool = False
    """A column names the row's thing (`title`, `name`, `label`, `productName`): its descriptions describe it."""

    @property
    def of_people(self) -> bool:
        return self.subject == "person"


UNKNOWN = TableContext("unknown", False, "table not known")


def table_context(table: str, columns: Sequence[str]) -> TableContext:
    """People, organisations or unknown: the table's own name first, then its columns.

    Person-name columns (`first_name`, `LastName`, not `contactFirstName`) make a table of people; a company or
    organisation column, or the name of a *contact* person, make it a table of organisations (`Customers` with
    `CompanyName` and `ContactName`).
    """
    table_words = [singular(w) for w in words(table)]
    column_words = [words(c) for c in columns]
    has_street = any(set(w) & _STREET_WORDS for w in column_words)
    things = any(w[-1] in THING_NAME_WORDS for w in column_words if w)
    person_columns = [
        c
        for c, w in zip(columns, column_words, strict=True)
        if "contact" not in w and any(contains(w, r) for r in _PERSON_NAME_RUNS)
    ]
    if set(table_words) & PERSON_TABLES:
        return TableContext("person", has_street, f"table {table} holds people", things)
    if set(table_words) & ORGANISATION_TABLES:
        return TableContext("organisation", has_street, f"table {table} holds organisations", things)
    if person_columns:
        return TableContext("person", has_street, f"table {table} has person-name column {person_columns[0]}", things)
    org_columns = [
        c
        for c, w in zip(columns, column_words, strict=True)
        if set(w) & _ORGANISATION_COLUMN_WORDS or ("contact" in w and "name" in w)
    ]
    if org_columns:
        return TableContext(
            "organisation", has_street, f"table {table} has organisation column {org_columns[0]}", things
        )
    return TableContext("unknown", has_street, f"table {table}: subject unknown", things)
