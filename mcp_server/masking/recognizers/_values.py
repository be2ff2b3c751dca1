"""Value heuristics shared by the keyword and entropy recognizers: entropy, placeholders, look-alikes."""

from __future__ import annotations

import math
import re
from collections import Counter

MIN_SECRET_LENGTH = 6

_HEX = re.compile(r"[0-9a-fA-F]+")
UUID_REGEX = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = re.compile(UUID_REGEX)
# Lengths of md5 / sha1 (and git commit ids) / sha256 / sha512 hex digests.
_DIGEST_HEX_LENGTHS = frozenset({32, 40, 64, 128})

# Syntactic placeholders carry no secret: templating, env references, masks, angle-bracket notes.
_PLACEHOLDER_SYNTAX = re.compile(
    r"""
    ^(?:
        <[^<>]*>                      # <redacted>, <your-token>, <SECRET_1>
      | \$\{[^}]*\}                   # ${DB_PASSWORD}, ${VAR:-default}
      | \$\([^)]*\)                   # $(cat /run/secrets/db)
      | \$[A-Z_][A-Z0-9_]*            # $DB_PASSWORD
      | \{\{.*\}\}                    # {{ vault_password }}
      | \{[A-Za-z_][A-Za-z0-9_.]*\}   # {password}
      | %\(?[A-Za-z_][A-Za-z0-9_]*\)?s?%?  # %(password)s, %PASSWORD%
      | \[[^\[\]]*\]                  # [REDACTED], [hidden]
      | ([*x•#.X_-])\1{2,}            # ***, xxxxxx, ......, ------
    )$
    """,
    re.VERBOSE,
)

_PLACEHOLDER_WORDS = frozenset(
    {
        "redacted",
        "masked",
        "hidden",
        "removed",
        "omitted",
        "none",
        "null",
        "nil",
        "undefined",
        "empty",
        "true",
        "false",
        "required",
        "optional",
        "string",
        "example",
        "placeholder",
        "sample",
        "notset",
        "not_set",
        "unset",
        "value",
        "token",
        "apikey",
        "api_key",
        "todo",
        "fixme",
        "tbd",
        "n/a",
    }
)
_PLACEHOLDER_AFFIXES = re.compile(
    r"^(?:your|insert|enter|put|replace)[_\-. ]|[_\-. ](?:here|goes_here)$", re.IGNORECASE
)


def shannon_entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def is_placeholder(value: str) -> bool:
    """True for values that stand in for a secret rather than being one.

    Deliberately NOT placeholders: well-known default passwords such as ``changeme`` or ``admin123``;
    when they appear in a config they may be the live credential, and masking them costs nothing.
    """
    v = value.strip()
    if _PLACEHOLDER_SYNTAX.match(v):
        return True
    lowered = v.lower()
    if lowered in _PLACEHOLDER_WORDS or _PLACEHOLDER_AFFIXES.search(lowered):
        return True
    # Masks such as "XXXX-XXXX" or "****1234": mostly one mask character.
    return sum(ch in "*xX•#" for ch in v) >= max(3, len(v) * 0.6)


def is_uuid(value: str) -> bool:
    """True for a canonical 8-4-4-4-12 UUID."""
    return _UUID.fullmatch(value) is not None


def is_hex(value: str) -> bool:
    """True when value is only hex digits."""
    return _HEX.fullmatch(value) is not None


def is_digest_like(value: str) -> bool:
    """True for a hex string of a common digest length (md5, sha1 / git commit, sha256, sha512)."""
    return is_hex(value) and len(value) in _DIGEST_HEX_LENGTHS
