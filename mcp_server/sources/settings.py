"""The configuration models every source kind builds on: `[[sources]]` entries are validated by their kind's model."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mcp_server.vocabulary import ColumnKind, Operator, PredicateMode

ENTITY_KEY = r"^[A-Z][A-Z0-9_]*$"
SOURCE_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"


class StrictSettings(BaseModel):
    """A config section: unknown keys are errors, values are frozen once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSettings(StrictSettings):
    """What every `[[sources]]` entry has; a kind's model adds its own keys and narrows `kind` to a literal."""

    name: Annotated[str, Field(pattern=SOURCE_NAME)]
    kind: str
    description: str = ""


class ColumnOverride(StrictSettings):
    """Declared policy for one column; wins over every heuristic."""

    kind: ColumnKind
    """pii: mask every value whole as `entity`; text: scan values for PII; clear: return as is."""
    entity: str | None = None
    predicates: PredicateMode | None = None
    operator: Operator | None = None
    """Operator for this column's values, over the entity's operator (roles with `keep` still see it clear)."""

    @field_validator("entity")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value
