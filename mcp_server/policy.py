"""Roles: which sources and tables an agent may read, and how each entity type is shown to it."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from mcp_server.config import DEFAULT_OPERATORS, Config, RoleSettings
from mcp_server.masking.masker import Masker
from mcp_server.masking.presets import PRESETS


@dataclass(frozen=True)
class Policy:
    role: str
    settings: RoleSettings
    masker: Masker

    def may_use_source(self, source: str) -> bool:
        return any(p == "*" or p == source for p in self.settings.sources)

    def may_read_table(self, source: str, table: str) -> bool:
        name = f"{source}.{table}".lower()
        allowed = any(fnmatchcase(name, p.lower()) for p in self.settings.tables)
        denied = any(fnmatchcase(name, p.lower()) for p in self.settings.deny_tables)
        return allowed and not denied and self.may_use_source(source)


def build_policies(config: Config, masker: Masker) -> dict[str, Policy]:
    """One policy per role (the built-in default included), each with its own operators."""
    roles = {config.server.default_role: config.role_of(None)[1], **config.roles}
    roles.setdefault("default", RoleSettings())
    policies = {}
    for name, settings in roles.items():
        preset = PRESETS[settings.preset] if settings.preset else None
        # A role's preset is its regime: it replaces [masking]'s operators for the role (the defaults stay under it).
        base = {**DEFAULT_OPERATORS, **preset.operators} if preset else config.masking.operators
        operators = {**base, **settings.operators, **dict.fromkeys(settings.clear, "keep")}
        default = preset.default_operator if preset else None
        policies[name] = Policy(name, settings, masker.with_operators(operators, default=default))  # type: ignore[arg-type]
    return policies
