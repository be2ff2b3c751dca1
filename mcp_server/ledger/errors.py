"""The ledger's one error type (messages never carry a value, a URL or a driver's text)."""

from __future__ import annotations


class LedgerError(Exception):
    """The ledger cannot be opened, read or written."""
