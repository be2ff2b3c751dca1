"""Secrets assigned to a credential-named key: ``password=...``, ``"apiKey": "..."``, ``DB_PASSWORD=...``.

Covers free text, JSON, YAML, INI/.env, query strings, ADO.NET/ODBC connection strings, CLI flags
(``--password x``, ``curl -u user:pw``), XML elements, .NET ``<add key=... value=...>``, SQL ``IDENTIFIED BY '...'`` and
``Authorization:`` / ``Bearer`` headers. The span is always the value, never the key.

Key names are split into words (snake, kebab, dotted, camelCase) and the LAST word decides, so
``DB_PASSWORD`` and ``clientSecret`` match while ``password_policy`` and ``token_count`` do not.
Values are skipped when they are placeholders (``<redacted>``, ``${DB_PASSWORD}``, ``****``), code
references (``os.environ[...]``, ``get_password()``), paths, URLs or shorter than 6 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from presidio_analyzer import EntityRecognizer

from ._base import KEYWORD_SCORE, Finding, SecretRecognizer
from ._values import MIN_SECRET_LENGTH, is_placeholder
from .entropy import looks_like_identifier
from .passwords import password_like

# Words that qualify a final "key" as a secret key (api_key, signingKey, AccountKey...).
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "access",
        "secret",
        "private",
        "auth",
        "signing",
        "encryption",
        "master",
        "account",
        "client",
        "app",
        "consumer",
        "shared",
        "session",
        "sas",
        "subscription",
        "webhook",
        "hmac",
        "jwt",
        "service",
        "storage",
        "license",
        "admin",
        "root",
        "ssh",
        "gpg",
        "pgp",
        "decryption",
    }
)
_SECRET_KEY_WORDS = (
    "apikey",
    "privatekey",
    "secretkey",
    "accesskey",
    "signingkey",
    "encryptionkey",
    "masterkey",
)
# Pagination cursors and similar are called "token" but are not secrets.
_NON_SECRET_TOKEN_QUALIFIERS = frozenset(
    {
        "page",
        "next",
        "prev",
        "previous",
        "continuation",
        "cursor",
        "sync",
        "pagination",
        "resume",
        "max",
        "num",
        "total",
        "count",
    }
)
_PASSWORD_WORDS = ("password", "passwd", "passphrase")
# `<anything>_key` names a secret in config files unless the word before says what else it is.
GENERIC_KEY = "key"
_NOT_SECRET_KEY_QUALIFIERS = frozenset(
    {
        "primary", "foreign", "sort", "partition", "cache", "lookup", "group", "object", "row", "index", "unique",
        "composite", "natural", "surrogate", "public", "idempotency", "dedup", "dedupe", "routing", "shard",
        "hash", "map", "dict", "hot", "short", "shortcut", "translation", "i18n", "message", "cluster", "join",
        "range", "sequence", "order", "record", "entity", "table", "column", "field", "item", "menu", "music",
        "piano", "answer", "registry", "s3", "bucket", "file", "blob", "storage_object", "redis", "kv", "the", "a",
    }
)  # fmt: skip


def _key_words(key: str) -> list[str]:
    key = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key.lstrip("$@-:"))
    return [w for w in re.split(r"[_.\-\s]+", key.lower()) if w]


@lru_cache(maxsize=4096)
def secret_kind_for_key(key: str) -> str | None:
    """The secret kind a key name announces ("password", "api_key"...), or None for ordinary keys."""
    words = _key_words(key)
    if not words:
        return None
    last, previous = words[-1], words[:-1]
    if last.endswith(_PASSWORD_WORDS) or last in {"pwd", "pass", "pw"}:
        return "password"
    if last in {"hash", "digest"} and any(
        w.endswith(_PASSWORD_WORDS) or w in {"pwd", "pass", "secret"} for w in previous
    ):
        return "password"
    if last.endswith("secret"):
        return "secret"
    if last.endswith("token"):
        if previous and previous[-1] in _NON_SECRET_TOKEN_QUALIFIERS:
            return None
        return "token"
    if last.endswith(_SECRET_KEY_WORDS) or (last == "key" and previous and previous[-1] in _KEY_QUALIFIERS):
        qualifier = previous[-1] if previous and last == "key" else last.removesuffix("key")
        return {"private": "private_key", "secret": "secret"}.get(qualifier, "api_key")
    if last.endswith(("credential", "credentials")) or last in {"auth", "_auth"}:
        return "credential"
    if last == "key" and previous and previous[-1] not in _NOT_SECRET_KEY_QUALIFIERS:
        return GENERIC_KEY  # `STRIPE_KEY=...`: only in config-like text, and only a random-looking value
    if last == "api" and previous:
        return GENERIC_KEY  # `VENDOR_API=9fT2kLmQx8…`: the same, a random-looking value only (never a URL)
    return None


_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\(")
_CAMEL_NAME = re.compile(r"[a-z]+(?:[A-Z][a-z]+)+|(?:[A-Z][a-z]+){2,}")  # SecretStr, challengePassword
_SNAKE_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_PATH = re.compile(r"(?:~?\.{0,2}/|[A-Za-z]:\\)")
_PLAIN_WORD = re.compile(r"[A-Za-z][a-z]*")


def _is_code(value: str, followed_by: str, *, env_style: bool) -> bool:
    """Unquoted code on the right of an assignment: get_password(), os.environ[...], cfg.token, SecretStr.

    A snake_case value counts as code except in .env style (``KEY=value`` at line start, no spaces).
    """
    return (
        followed_by in ("(", "[")
        or _CALL.match(value) is not None
        or _DOTTED_NAME.fullmatch(value) is not None
        or _CAMEL_NAME.fullmatch(value) is not None
        or (
            _SNAKE_IDENTIFIER.fullmatch(value) is not None and (not env_style or secret_kind_for_key(value) is not None)
        )
    )


@dataclass(frozen=True)
class _Context:
    """How a value was assigned, which decides how suspicious a value must look."""

    kind: str
    prose: bool = False  # "key: value" mid-sentence: plain words there are prose, not passwords
    env_style: bool = False  # KEY=value at line start without spaces


def _value_rejected(value: str, ctx: _Context, *, bare: bool, followed_by: str = "") -> bool:
    """True when value is not a plausible secret of ctx.kind."""
    v = value.strip()
    if len(v) < MIN_SECRET_LENGTH or is_placeholder(v):
        return True
    if "://" in v or _PATH.match(v) or v.startswith(("!", "|", ">")):
        return True  # URLs (credentials in them are the URL recognizer's job), paths, YAML tags/blocks
    if bare and _is_code(v, followed_by, env_style=ctx.env_style):
        return True
    if ctx.kind == GENERIC_KEY:  # a name that does not say "secret": the value must look random
        return not (len(v) >= 16 and any(c.isdigit() for c in v) and any(c.isalpha() for c in v)) or (
            looks_like_identifier(v)
        )
    if ctx.kind != "password":
        # Tokens and keys are random: a digit or 20+ letters, and not a code name (Ed25519PrivateKey).
        return (not any(c.isdigit() for c in v) and len(v) < 20) or (bare and looks_like_identifier(v))
    # Passwords can be plain words, except in prose ("password: expired").
    return ctx.prose and _PLAIN_WORD.fullmatch(v) is not None


_KEY = r"(?<![A-Za-z0-9_])(?P<key>[A-Za-z_$@][A-Za-z0-9_.\-]{0,79})"
_VALUE = r"""
    (?:
        \\"(?P<edq>(?:[^"\\\n]|\\[^"\n]){0,512})\\"      # JSON inside a JSON string: \"...\"
      | "(?P<dq>(?:[^"\\\n]|\\.){0,512})"
      | '(?P<sq>[^'\n]{0,512})'
      | `(?P<bq>[^`\n]{0,512})`
      | (?P<tpl>\$\{[^}\n]*\}|\{\{[^}\n]*\}\})             # templating: never a secret
      | (?P<bare>[^\s"'`,;&<>(){}\[\]]{1,512})
    )
"""
_ASSIGNMENT = re.compile(
    _KEY
    + r"""
    (?P<kq>\\?["'`])?
    [ \t]*
    (?P<sep>:=|=>|=(?!=)|:(?![/:\\]))
    [ \t]*
    """
    + _VALUE,
    re.VERBOSE,
)
_CLI_FLAG = re.compile(
    r"(?<![A-Za-z0-9_\-])--(?P<key>[A-Za-z][A-Za-z0-9_\-]{1,60})[ \t]+" + _VALUE,
    re.VERBOSE,
)
_XML_ELEMENT = re.compile(
    r"<(?P<key>[A-Za-z_][A-Za-z0-9_.\-:]{0,60})>[ \t]*(?P<sq>[^<\s][^<\n]{0,511}?)[ \t]*</(?P=key)>"
)
_XML_ADD = re.compile(r"""key\s*=\s*["'](?P<key>[^"'\n]{1,80})["']\s+value\s*=\s*["'](?P<dq>[^"'\n]{0,512})["']""")
_CURL_USER = re.compile(r"""(?<![\w\-])(?:-u|--user)[ \t=]+["']?[^\s:'"]+:(?P<sq>[^\s'"]+)""")
_SHORT_PASSWORD_FLAG = re.compile(
    r"""(?<![\w\-./])(?:mysql\w*|mariadb\w*|sshpass|smbclient|ldapsearch)\b[^\n]{0,200}?(?<=\s)"""
    r"""(?:-p[ \t]*|-w[ \t]+|--password[ \t]*=?[ \t]*)"""
    r"""(?:"(?P<dq>[^"\n]{1,512})"|'(?P<sq>[^'\n]{1,512})'|(?P<bare>[^\s'"]{1,512}))"""
)
"""A password given on a command line by a client's short flag: `mysql -pSalt7Marsh!q`, `sshpass -p 'X'`,
`ldapsearch -w X` (`-p` glued to the password, as MySQL's clients read it, or after a blank)."""
_SQL = re.compile(r"(?i:\bidentified\s+by|\bwith\s+(?:encrypted\s+)?password)\s+'(?P<sq>[^'\n]{1,512})'")
_AUTH_HEADER = re.compile(
    r"(?i:(?<![A-Za-z])(?:proxy-)?authorization)[\"']?\s*[:=]\s*[\"']?"
    r"(?i:(?:bearer|basic|token|digest|apikey|bot)\s+)?(?P<sq>[A-Za-z0-9._~+/=\-]{8,})"
)
_BEARER = re.compile(r"(?<![A-Za-z])(?i:bearer)\s+(?P<sq>(?=[A-Za-z._~+/\-]*\d)[A-Za-z0-9._~+/\-]{16,}=*)")
_LINE_PREFIX = re.compile(r"[ \t]*(?:-[ \t]+)?(?:export[ \t]+)?")
_INLINE_COMMENT = re.compile(r"(?<![ \t])[ \t]++[#;].*\Z")  # starts only where a run of blanks does: linear
_ANNOTATION_TAIL = re.compile(r"[ \t]*=(?!=)")  # "token: TokenType = ..." is a type annotation
_TRAILING_PUNCTUATION = ".,:"
_WEAK_KEYS = frozenset({"pass", "pw", "pwd"})
_CLOSING = ")]}\"'`"
"""Closing marks after a value in a sentence (`(pass: hunter2x)`); other punctuation may be the password's own and
is masked with it."""
_VALUE_GROUPS = ("edq", "dq", "sq", "bq", "bare")


_NON_BLANK = re.compile(r"\S+")


def _prose_password(text: str, match: re.Match[str]) -> Iterator[Finding]:
    """`pass: X` in a sentence: X up to the next blank (`Tr0ub4dor&3`, `S3cr3tPass!`), without a closing mark
    after it, when it looks like a password; a plain word there is the verb's object (`pass: the exam`)."""
    group = next((g for g in _VALUE_GROUPS if match.group(g) is not None), None)
    run = _NON_BLANK.match(text, match.start(group)) if group is not None else None
    if run is None:
        return
    start, end = run.start(), run.end()
    while end > start and text[end - 1] in _CLOSING:
        end -= 1
    if password_like(text[start:end]):
        yield Finding(start, end, KEYWORD_SCORE, "password")


_MAX_LINE_PREFIX = 40  # indentation / "export " / "- " before a line-start key
_MAX_LINE_VALUE = 512
_BLOCK_SCALARS = frozenset({"|", ">", "|-", ">-", "|+", ">+"})
_LINES = re.compile(r"[^\n]*")
_RESTLINE_CODE = re.compile(r"[()\[\]{}|<>=\"'`]|\bawait\b")


def _value_group(match: re.Match[str]) -> str | None:
    for name in ("edq", "dq", "sq", "bq", "bare"):
        if name in match.re.groupindex and match.group(name) is not None:
            return name
    return None


def _at_line_start(text: str, pos: int) -> bool:
    """Only indentation, a YAML list dash or ``export`` precedes pos on its line."""
    lo = max(0, pos - _MAX_LINE_PREFIX)
    line_begin = text.rfind("\n", lo, pos) + 1
    if line_begin == 0 and lo > 0:
        return False  # a long run of text before pos on this line: not a line start
    return _LINE_PREFIX.fullmatch(text, line_begin, pos) is not None


class KeywordAssignmentRecognizer(SecretRecognizer):
    """Values assigned to password / secret / token / api-key / credential keys."""

    HEADER_SCORE = 0.85

    def __init__(self) -> None:
        super().__init__(name="SecretRecognizer:keyword_assignment")

    def find(self, text: str) -> Iterator[Finding]:
        """Yield the value span of every credential assignment."""
        yield from self._assignments(text)
        for pattern in (_CLI_FLAG, _XML_ELEMENT, _XML_ADD):
            for match in pattern.finditer(text):
                kind = secret_kind_for_key(match.group("key"))
                if kind is not None:
                    yield from self._finding(text, match, _Context(kind, prose=pattern is _CLI_FLAG))
        for pattern in (_SQL, _CURL_USER, _SHORT_PASSWORD_FLAG):
            for match in pattern.finditer(text):
                yield from self._finding(text, match, _Context("password"))
        for pattern in (_AUTH_HEADER, _BEARER):
            for match in pattern.finditer(text):
                yield from self._finding(text, match, _Context("token"), score=self.HEADER_SCORE)

    def _assignments(self, text: str) -> Iterator[Finding]:
        for match in _ASSIGNMENT.finditer(text):
            if match.group("tpl") is not None:
                continue
            key = match.group("key")
            kind = secret_kind_for_key(key)
            if kind is None:
                continue
            sep, quoted_key = match.group("sep"), match.group("kq") is not None
            line_start = _at_line_start(text, match.start("key") - (1 if quoted_key else 0))
            glued = match.end("key") == match.start("sep") or quoted_key
            weak_in_prose = _key_words(key)[-1] in _WEAK_KEYS and not (
                glued and (line_start or quoted_key or sep != ":")
            )
            if weak_in_prose:  # "pass: ..." / "pass :ref:" in prose is the verb; `login ok, pass: hunter2x` is not
                if glued:
                    yield from _prose_password(text, match)
                continue
            if kind == GENERIC_KEY and not (line_start or quoted_key):
                continue  # `the key: ...` in prose
            if match.group("bare") in _BLOCK_SCALARS and line_start:
                yield from self._block(text, match, _Context(kind))
                continue
            ctx = _Context(
                kind,
                prose=sep == ":" and not (line_start or quoted_key),
                env_style=line_start and text[match.end("key") : match.end("sep")] == "=",
            )
            if match.group("bare") is not None and line_start and sep in (":", "="):
                # YAML / INI / .env: an unquoted value runs to the end of the line (minus a comment).
                yield from self._rest_of_line(text, match, ctx)
            else:
                yield from self._finding(text, match, ctx)

    def _block(self, text: str, match: re.Match[str], ctx: _Context) -> Iterator[Finding]:
        """A YAML block scalar (`secret: |` then indented lines): the value is the lines indented deeper than
        the key."""
        line_begin = text.rfind("\n", 0, match.start("key")) + 1
        indent = len(text[line_begin : match.start("key")]) - len(text[line_begin : match.start("key")].lstrip())
        start = end = text.find("\n", match.end("bare"))
        if start < 0:
            return
        for line in _LINES.finditer(text, start + 1):
            body = line.group(0)
            if not body.strip():
                break
            if len(body) - len(body.lstrip()) <= indent:
                break
            end = line.end()
        first = start + 1 + (len(text[start + 1 : end]) - len(text[start + 1 : end].lstrip()))
        if end > first and not _value_rejected(text[first:end].replace("\n", ""), ctx, bare=False):
            yield Finding(first, end, KEYWORD_SCORE, ctx.kind)

    def _rest_of_line(self, text: str, match: re.Match[str], ctx: _Context) -> Iterator[Finding]:
        """Extend an unquoted line-start value to the end of its line.

        ``.env``/INI (``=``): one token that may contain ``;&,``. YAML (``:``): up to three words with a
        digit or symbol, so ``passphrase: correct horse 9`` is covered but prose and type hints are not.
        """
        start, first_end = match.span("bare")
        if _is_code(match.group("bare"), text[first_end : first_end + 1], env_style=ctx.env_style):
            return
        eol = text.find("\n", start, start + _MAX_LINE_VALUE)
        line_value = text[start : start + _MAX_LINE_VALUE if eol < 0 else eol]
        line_value = _INLINE_COMMENT.sub("", line_value).rstrip("\r \t")
        line_value = line_value.rstrip(_TRAILING_PUNCTUATION)
        words = line_value.split()
        if match.group("sep") == "=":
            extend = len(words) == 1 and not _RESTLINE_CODE.search(line_value.replace("=", ""))
        else:
            extend = (
                len(words) <= 3
                and not _RESTLINE_CODE.search(line_value)
                and not all(_PLAIN_WORD.fullmatch(w) for w in words)
            )
        if not extend:
            # A long line after "key:" is a sentence ("password: expired on Monday, call IT").
            prose = ctx.prose or (match.group("sep") == ":" and len(words) > 3)
            yield from self._finding(text, match, _Context(ctx.kind, prose=prose, env_style=ctx.env_style))
            return
        end = start + len(line_value)
        if not _value_rejected(line_value, ctx, bare=True, followed_by=text[end : end + 1]):
            yield Finding(start, end, KEYWORD_SCORE, ctx.kind)

    @staticmethod
    def _finding(text: str, match: re.Match[str], ctx: _Context, *, score: float = KEYWORD_SCORE) -> Iterator[Finding]:
        group = _value_group(match)
        if group is None:
            return
        start, end = match.span(group)
        bare = group == "bare"
        if bare:
            if _ANNOTATION_TAIL.match(text, end):
                return
            end = start + len(match.group(group).rstrip(_TRAILING_PUNCTUATION))
        if not _value_rejected(text[start:end], ctx, bare=bare, followed_by=text[end : end + 1]):
            yield Finding(start, end, score, ctx.kind)


def recognizers() -> list[EntityRecognizer]:
    """Keyword-assignment recognizers."""
    return [KeywordAssignmentRecognizer()]
