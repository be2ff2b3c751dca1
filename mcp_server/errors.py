"""Start-up errors as one line a user can act on (never a traceback, never a secret)."""

from __future__ import annotations

from connectors.base import ConnectorError
from mcp_server.ledger.store import LedgerError
from mcp_server.masking.findings import ModelUnavailable
from mcp_server.masking.pseudonyms import MaskingKeyError
from mcp_server.masking.vault import VaultError

_KNOWN = (ConnectorError, LedgerError, ModelUnavailable, MaskingKeyError, VaultError)


def describe_startup_error(exc: BaseException) -> str:
    if isinstance(exc, _KNOWN):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or 'operating system error'}"
    return f"unexpected error ({type(exc).__name__}); run with MASKWIRE_LOG_LEVEL=DEBUG for details"
