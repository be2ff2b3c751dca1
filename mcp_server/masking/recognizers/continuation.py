"""Secrets split over lines: a value that goes on after a line break is masked whole.

- a shell or .env continuation: the value ends in a backslash and goes on at the start of the next line
  (`AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG` + backslash, then `bPxRfiCYEXAMPLEKEY`);
- a wrapped key: a base64 or hex value of 16 characters or more at the end of its line, and next lines
  that hold only one more run of the same characters that looks random (digits, padding `=`, both cases
  with `+` or `/`) (a key wrapped
  at a fixed width in a document or an e-mail); the last piece may be followed by prose on its line when
  it is 12 characters or more.

A line of ordinary words, a `key = value` line or a blank line ends the value.
"""

from __future__ import annotations

import re

from ._base import Finding

_BACKSLASH_NEXT = re.compile(r"\\[ \t]*\r?\n[ \t]*(?P<more>[^\s\"'`]+)")
_WRAPPED_NEXT = re.compile(r"[ \t]*\r?\n[ \t]*(?P<more>[A-Za-z0-9+/_\-]{4,}={0,2})(?P<alone>[ \t]*(?=\r?\n|$))?")
_KEY_CHARS = re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
MAX_LINES = 64


def _random_looking(run: str) -> bool:
    """Padding, digits among letters, or both cases with a base64 symbol or 16 letters (not a word)."""
    if run.endswith("=") or (any(c.isdigit() for c in run) and any(c.isalpha() for c in run)):
        return True
    mixed = any(c.isupper() for c in run[1:]) and any(c.islower() for c in run)
    return mixed and ("+" in run or "/" in run or len(run) >= 16)


def continued(text: str, finding: Finding) -> Finding:
    """The finding with the lines its value goes on over (see the module docstring)."""
    end = finding.end
    for _ in range(MAX_LINES):
        back = end - 1 if end > finding.start and text[end - 1] == "\\" else end
        m = _BACKSLASH_NEXT.match(text, back)
        if m is not None:
            end = m.end("more")
            continue
        value = text[finding.start : end]
        m = _WRAPPED_NEXT.match(text, end)
        if m is None or not _KEY_CHARS.fullmatch(value.split()[-1] if value.split() else value):
            break
        more = m.group("more")
        if not _random_looking(more) or (m.group("alone") is None and len(more) < 12):
            break
        end = m.end("more")
        if m.group("alone") is None:  # the value ends inside this line: prose goes on after it
            break
    return finding if end == finding.end else finding._replace(end=end)
