"""Maskwire's shared vocabulary: the literal types of the config, the guard and the masking layer, and the entity
types with the sets their recognizers and classifiers share. Defined once here; every layer imports them."""

from __future__ import annotations

from typing import Literal

# How the values of one column are protected: masked whole as an entity (pii), scanned as free text (text),
# or returned as they are (clear).
ColumnKind = Literal["pii", "text", "clear"]
# Which comparisons a query may make on a protected column: none, = / IN against a literal or token, or any.
PredicateMode = Literal["none", "equality", "any"]
# What replaces a personal value in output.
Operator = Literal["pseudonym", "redact", "partial", "hash", "generalize", "keep"]

# National identity numbers besides the US SSN (recognizers/national_ids.py).
NATIONAL_ID_TYPES: tuple[str, ...] = (
    "FI_PERSONAL_IDENTITY_CODE",
    "PL_PESEL",
    "SE_PERSONNUMMER",
    "UK_NINO",
    "CA_SIN",
    "DK_CPR",
    "FR_INSEE",
    "BR_CPF",
)

# Entities looked for in free text. DATE_TIME is left out: every order date and timestamp would be
# flagged (the anchor flags 100% of ISO dates); birth dates are caught by column classification.
TEXT_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "US_SSN",
    *NATIONAL_ID_TYPES,
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "LOCATION",
    "STREET_ADDRESS",
    "POSTAL_CODE",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "US_BANK_NUMBER",
    "US_ITIN",
    "MEDICAL_LICENSE",
    "UK_NHS",
    "CRYPTO",
    "SECRET",
    "DATE_OF_BIRTH",
    "USERNAME",
    "SENSITIVE",  # only as known values of SENSITIVE columns and after a field name that says so
)

# Entities whose recognizers only ever match text with a digit in it.
DIGIT_ENTITIES = frozenset(
    {
        "PHONE_NUMBER",
        "US_SSN",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "US_PASSPORT",
        "US_DRIVER_LICENSE",
        "US_BANK_NUMBER",
        "US_ITIN",
        "MEDICAL_LICENSE",
        "UK_NHS",
        "CRYPTO",
        *NATIONAL_ID_TYPES,
    }
)
# ...of which these only match five or more digits close together (cards, SSNs, phones, IBANs...).
FIVE_DIGIT_ENTITIES = DIGIT_ENTITIES - {"IP_ADDRESS", "CRYPTO", "US_DRIVER_LICENSE"}
# Entities found by patterns rather than by NER guessing at capitalised words (a street address is a house
# number next to a street type word).
PATTERN_ENTITIES = DIGIT_ENTITIES | {"EMAIL_ADDRESS", "SECRET", "STREET_ADDRESS", "POSTAL_CODE"}

# Entity types whose values are few or guessable (a diagnosis from a list of conditions, a salary band, a password
# from a dictionary): a membership test with a literal value reads them out by guessing, so their columns are
# compared only with tokens from their own results or with other columns of the type (sqlguard/predicates.py).
GUESSABLE_ENTITIES = frozenset({"SENSITIVE", "SECRET"})

# Entity types whose NER spans are fitted to the text (line breaks, first names, a place's postcode).
NER_ENTITIES = frozenset({"PERSON", "LOCATION"})
# Columns whose presence makes a column of postcode-shaped text a postcode column.
ADDRESS_ENTITIES = frozenset({"STREET_ADDRESS", "LOCATION"})

# When one output column derives from several personal columns, it is labelled with the most
# sensitive of their entity types.
SENSITIVITY = (
    "SECRET",
    "BINARY",
    "US_SSN",
    *NATIONAL_ID_TYPES,
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "US_BANK_NUMBER",
    "SENSITIVE",
    "DATE_OF_BIRTH",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "PERSON",
    "USERNAME",
    "STREET_ADDRESS",
    "LOCATION",
    "COORDINATE",
    "POSTAL_CODE",
    "IP_ADDRESS",
    "ORGANIZATION",
)
