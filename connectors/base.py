"""What every connector shares: errors that are safe to show to a client."""

from __future__ import annotations


class ConnectorError(Exception):
    """A data source failed. The message names the source and the problem, never a data value."""


class SourceUnavailable(ConnectorError):
    """The source cannot be reached or opened."""


class QueryTimeout(ConnectorError):
    """The query ran longer than the source's timeout and was cancelled."""
