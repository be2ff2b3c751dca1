"""Allow and deny lists from config, applied to free-text findings.

- allow_list: values that are never masked in free text (the company's own name, a product that NER takes
  for a person). Matched against the whole found span, case-insensitively.
- deny_list: terms that are always masked in free text (code names, internal hostnames), as entity CUSTOM,
  matched as whole words, case-insensitively. A deny match wins over any finding it overlaps.
Columns are governed by column policy, not by these lists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mcp_server.masking.findings import Finding

DENY_ENTITY = "CUSTOM"


class TermLists:
    def __init__(self, allow: Sequence[str] = (), deny: Sequence[str] = ()) -> None:
        self.allow = frozenset(" ".join(a.split()).casefold() for a in allow if a.strip())
        terms = sorted({d.strip() for d in deny if d.strip()}, key=len, reverse=True)
        self.deny = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE)
            if terms
            else None
        )

    def __bool__(self) -> bool:
        return bool(self.allow) or self.deny is not None

    def apply(self, text: str, findings: Sequence[Finding]) -> list[Finding]:
        kept = [f for f in findings if " ".join(text[f.start : f.end].split()).casefold() not in self.allow]
        if self.deny is None:
            return kept
        denied = [Finding(DENY_ENTITY, m.start(), m.end(), 1.0) for m in self.deny.finditer(text)]
        if not denied:
            return kept
        kept = [f for f in kept if not any(f.start < d.end and d.start < f.end for d in denied)]
        return sorted([*kept, *denied], key=lambda f: f.start)
