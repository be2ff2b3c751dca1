"""The entity types Maskwire looks for, and what their recognizers need to match: one list, shared by the
detector (which recognizers to run on a text) and the value classifier (which findings are patterns)."""

from __future__ import annotations

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

# Multi-word personal values learned from personal columns and found again in free text (known_values.py).
KNOWN_VALUE_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "LOCATION",
    "STREET_ADDRESS",
    "POSTAL_CODE",
    "ORGANIZATION",
    "USERNAME",
    "DATE_OF_BIRTH",
)
