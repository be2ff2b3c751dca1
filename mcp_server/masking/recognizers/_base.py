"""Shared machinery for the SECRET recognizers.

Every secret recognizer reports entity type ``SECRET`` and records the specific kind
(``aws_access_key_id``, ``github_token``...) under ``recognition_metadata["secret_kind"]``.
Plain regex rules become one recognizer per kind, named ``SecretRecognizer:<kind>``, so a
deployment can drop a single noisy rule with ``registry.remove_recognizer(name)``.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, LocalRecognizer, RecognizerResult

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

SECRET_ENTITY = "SECRET"
SECRET_KIND_KEY = "secret_kind"

# Scores by evidence type (see the package docstring).
PREFIXED_SCORE = 0.95
KEYWORD_SCORE = 0.8
ENTROPY_SCORE = 0.7

# Token boundaries: a secret must not be glued to more token characters on either side.
LB = r"(?<![A-Za-z0-9_\-])"
_LITERAL_PREFIX = re.compile(r"(?:[A-Za-z0-9_]|\\[.\-$])(?:[A-Za-z0-9_\-]|\\[.\-$]){2}")
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
RB = r"(?![A-Za-z0-9_\-])"
# Keyword-context rules: "<keyword> ... [:=] value", the keyword at most ~30 characters before, same line.
KEYWORD_GAP = r"""[^\n]{0,30}?[\s"'`]*(?:=>|:=|=|:|\s)[\s"'`]*"""


class Finding(NamedTuple):
    """One detected secret: character span, score and kind."""

    start: int
    end: int
    score: float
    kind: str


class SecretRecognizer(LocalRecognizer):
    """Base class: subclasses yield Findings, this turns them into RecognizerResults."""

    def __init__(self, name: str) -> None:
        super().__init__(supported_entities=[SECRET_ENTITY], name=name, supported_language="en")

    def load(self) -> None:
        """Nothing to load: recognizers are pure regex/Python."""

    @abstractmethod
    def find(self, text: str) -> Iterator[Finding]:
        """Yield every secret found in text."""

    def analyze(
        self,
        text: str,
        entities: list[str] | None,
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        """Run find() over text; NLP artifacts are never needed."""
        if entities and SECRET_ENTITY not in entities:
            return []
        from .continuation import continued

        results = [self._to_result(continued(text, f)) for f in self.find(text) if f.end > f.start]
        return EntityRecognizer.remove_duplicates(results)

    def _to_result(self, finding: Finding) -> RecognizerResult:
        explanation = AnalysisExplanation(
            recognizer=self.name,
            original_score=finding.score,
            textual_explanation=f"Detected {finding.kind} by `{self.name}`",
        )
        return RecognizerResult(
            entity_type=SECRET_ENTITY,
            start=finding.start,
            end=finding.end,
            score=finding.score,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                SECRET_KIND_KEY: finding.kind,
            },
        )


@dataclass(frozen=True)
class SecretRule:
    """A regex rule for one secret kind.

    The span reported is the named group ``secret`` when the regex has one, else the whole match.
    ``validate`` (optional) receives that span's text and may reject it.
    """

    kind: str
    regex: str
    score: float = PREFIXED_SCORE
    flags: int = 0
    validate: Callable[[str], bool] | None = None


class RegexSecretRecognizer(SecretRecognizer):
    """The SecretRules of one kind as a recognizer named ``SecretRecognizer:<kind>``."""

    def __init__(self, kind: str, rules: Sequence[SecretRule]) -> None:
        if any(rule.kind != kind for rule in rules):
            raise ValueError(f"every rule of SecretRecognizer:{kind} must have kind {kind!r}")
        self.kind = kind
        self.rules = tuple(rules)
        self._compiled = [self._compile(rule) for rule in self.rules]
        super().__init__(name=f"SecretRecognizer:{kind}")

    @staticmethod
    def _compile(rule: SecretRule) -> tuple[re.Pattern[str], bool]:
        """Compile a rule; True when its leading LB was moved out of the regex.

        A leading lookbehind stops re from jumping straight to a literal prefix ("ghp_", "xoxb-"), which
        makes scanning several times slower, so for prefixes of 3+ literal characters the boundary is
        checked in Python. Shorter prefixes keep it: attempts inside long token runs would go quadratic.
        """
        body = rule.regex.removeprefix(LB)
        if body != rule.regex and _LITERAL_PREFIX.match(body):
            return re.compile(body, rule.flags), True
        return re.compile(rule.regex, rule.flags), False

    def find(self, text: str) -> Iterator[Finding]:
        """Yield matches of the rules' regexes that pass their validators."""
        for rule, (compiled, left_bounded) in zip(self.rules, self._compiled, strict=True):
            group = "secret" if "secret" in compiled.groupindex else 0
            for match in compiled.finditer(text):
                if left_bounded and match.start() > 0 and text[match.start() - 1] in _TOKEN_CHARS:
                    continue
                start, end = match.span(group)
                if start < 0:
                    continue
                if rule.validate is not None and not rule.validate(text[start:end]):
                    continue
                yield Finding(start, end, rule.score, rule.kind)


def rule_recognizers(rules: Sequence[SecretRule]) -> list[EntityRecognizer]:
    """One recognizer per kind, in first-seen order."""
    by_kind: dict[str, list[SecretRule]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, []).append(rule)
    return [RegexSecretRecognizer(kind, kind_rules) for kind, kind_rules in by_kind.items()]
