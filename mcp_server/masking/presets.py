"""Policy presets: one word in the config for a regime's operators and classification rules.

`[masking] preset = "..."` sets the operators of every role (a role's own `operators` still win, and so do
`[masking] operators` given explicitly) and, for every SQL source that names none, the source's preset;
`[[sources]] preset = "..."` sets only that source's classification rules. The coverage tables are in
docs/configuration.md ("Policy presets").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PresetName = Literal["hipaa-safe-harbor", "pci", "gdpr"]


@dataclass(frozen=True)
class Preset:
    name: str
    default_operator: str
    operators: dict[str, str] = field(default_factory=dict)
    # Dates in a table about people (admission, discharge, visit, hire dates...) are that person's: masked as
    # DATE_TIME (and generalised to the year where the operators say so).
    personal_dates: bool = False
    # An `age` column in a table about people is that person's age: masked as AGE (generalised to a ten-year
    # band, `90+` over 89, where the operators say so).
    personal_ages: bool = False


PRESETS: dict[str, Preset] = {
    # HIPAA Safe Harbor (45 CFR 164.514(b)(2)): identifiers removed, not pseudonymised (a code derived from
    # the identifier is not allowed, 164.514(c)); dates to the year, ZIP codes to three digits (000 for the
    # prefixes of fewer than 20,000 people), ages to ten-year bands with every age over 89 in `90+`,
    # coordinates (a subdivision smaller than a state) removed.
    "hipaa-safe-harbor": Preset(
        "hipaa-safe-harbor",
        default_operator="redact",
        operators={
            "DATE_OF_BIRTH": "generalize",
            "DATE_TIME": "generalize",
            "POSTAL_CODE": "generalize",
            "AGE": "generalize",
            "COORDINATE": "redact",
            "SECRET": "redact",
            "SENSITIVE": "keep",  # diagnoses, pay: not identifiers; what a de-identified data set is for
        },
        personal_dates=True,
        personal_ages=True,
    ),
    # PCI DSS: the primary account number shown at most as its last four digits; security codes never.
    "pci": Preset(
        "pci",
        default_operator="pseudonym",
        operators={"CREDIT_CARD": "partial", "US_BANK_NUMBER": "partial", "IBAN_CODE": "partial", "SECRET": "redact"},
    ),
    # GDPR: pseudonymised (joinable, keyed) personal data; dates about people kept to the year.
    "gdpr": Preset(
        "gdpr",
        default_operator="pseudonym",
        operators={
            "DATE_OF_BIRTH": "generalize",
            "DATE_TIME": "generalize",
            "COORDINATE": "generalize",
            "SECRET": "redact",
        },
        personal_dates=True,
    ),
}
