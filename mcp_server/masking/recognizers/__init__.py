"""Maskwire's Presidio recognizers: secrets, phone numbers, offline e-mail, street addresses, countries and
card numbers, plus checksum helpers. The detector registers the address, country, card and international
phone recognizers itself, after `maskwire_recognizers()`.

Secrets are one entity type, ``SECRET``; the specific kind is in
``result.recognition_metadata["secret_kind"]``. Scores: distinctive prefixed formats 0.95, formats
with a weaker prefix 0.85-0.9, keyword context (``password=...``, ``aws ... secret``) 0.8-0.85,
high entropy near a keyword 0.7. None of these recognizers needs NLP artifacts.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer

from . import ai, assignments, cloud, devtools, entropy, keys, messaging, passwords, payments, urls
from ._base import SECRET_ENTITY, SECRET_KIND_KEY, SecretRecognizer
from .checksums import iban_valid, luhn_valid
from .email_address import EMAIL_ENTITY, ObfuscatedEmailRecognizer, StrictEmailRecognizer
from .phone import PHONE_ENTITY, UsPhoneRecognizer

__all__ = [
    "EMAIL_ENTITY",
    "PHONE_ENTITY",
    "SECRET_ENTITY",
    "SECRET_KIND_KEY",
    "SecretRecognizer",
    "StrictEmailRecognizer",
    "UsPhoneRecognizer",
    "iban_valid",
    "luhn_valid",
    "maskwire_recognizers",
    "secret_recognizers",
]


def secret_recognizers() -> list[EntityRecognizer]:
    """Every SECRET recognizer, fresh instances."""
    families = (cloud, devtools, messaging, payments, ai, keys, urls, assignments, passwords, entropy)
    return [recognizer for family in families for recognizer in family.recognizers()]


def maskwire_recognizers() -> list[EntityRecognizer]:
    """Every recognizer Maskwire adds to Presidio's defaults, ready for registry.add_recognizer()."""
    return [*secret_recognizers(), UsPhoneRecognizer(), StrictEmailRecognizer(), ObfuscatedEmailRecognizer()]
