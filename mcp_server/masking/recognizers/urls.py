"""Passwords embedded in URLs: ``scheme://user:password@host`` (database DSNs, AMQP, Redis, HTTP basic auth).

Decision: the span is the password only. Scheme, user name, host and database stay readable, which is
what an agent needs to reason about a connection string, and the credential itself is masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from presidio_analyzer import EntityRecognizer

from ._base import Finding, SecretRecognizer
from ._values import is_placeholder

_URL_USERINFO = re.compile(
    r"""
    (?<![A-Za-z0-9+.\-])
    [A-Za-z][A-Za-z0-9+.\-]{1,30}://       # scheme: postgresql+psycopg, mongodb+srv, rediss, https...
    [^\s:@/?\#'"<>\[\]]{0,256}              # user (may be empty: redis://:pw@host)
    :
    (?P<secret>[^\s/'"<>]{1,256})          # password; greedy, so unencoded '@', '#', '?' still work
    @
    [A-Za-z0-9\[._\-%]                      # host starts
    """,
    re.VERBOSE,
)


class ConnectionUrlPasswordRecognizer(SecretRecognizer):
    """The password part of URLs with user info."""

    KIND = "connection_url_password"
    SCORE = 0.9

    def __init__(self) -> None:
        super().__init__(name=f"SecretRecognizer:{self.KIND}")

    def find(self, text: str) -> Iterator[Finding]:
        """Yield the password span of each user:password@host URL."""
        for match in _URL_USERINFO.finditer(text):
            password = match.group("secret")
            if is_placeholder(password):
                continue
            if password.isdigit() and len(password) <= 5:  # "host:8080@..." is a port, not a password
                continue
            start, end = match.span("secret")
            yield Finding(start, end, self.SCORE, self.KIND)


def recognizers() -> list[EntityRecognizer]:
    """URL credential recognizers."""
    return [ConnectionUrlPasswordRecognizer()]
