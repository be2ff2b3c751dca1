"""Shared fixtures for the SQL guard tests: a small schema, a policy and a token vault."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from crm_engines import Target, crm_target

from mcp_server.sqlguard import CheckedQuery, ColumnPolicy, SourceColumn, check_query

SCHEMA: dict[str, list[str]] = {
    "customers": ["id", "first_name", "last_name", "email", "phone", "ssn", "birth_date", "notes"],
    "orders": ["id", "customer_id", "amount", "ordered_at"],
    "tickets": ["id", "customer_id", "body"],
}
POLICY: dict[str, ColumnPolicy] = {
    "customers.ssn": ColumnPolicy("pii", "US_SSN", "none"),
    "customers.email": ColumnPolicy("pii", "EMAIL", "equality"),
    "customers.phone": ColumnPolicy("pii", "PHONE", "equality"),
    "customers.birth_date": ColumnPolicy("pii", "DATE_OF_BIRTH", "equality"),
    "customers.notes": ColumnPolicy("text"),
    "tickets.body": ColumnPolicy("text"),
}
TOKENS = {
    "<EMAIL:0123abcd4567>": "ann@example.com",
    "<PHONE:89ab01234567>": "+1 555 0100",
}


def policy(column: SourceColumn) -> ColumnPolicy:
    return POLICY.get(f"{column.table}.{column.column}", ColumnPolicy())


Check = Callable[..., CheckedQuery]


@pytest.fixture
def check() -> Check:
    """check_query with the shared schema, policy and tokens; keyword arguments override."""

    def run(sql: str, dialect: str = "postgres", **overrides: object) -> CheckedQuery:
        options: dict[str, object] = {
            "dialect": dialect,
            "schema": SCHEMA,
            "column_policy": policy,
            "resolve_token": TOKENS.get,
        }
        options.update(overrides)
        return check_query(sql, **options)  # type: ignore[arg-type]

    return run


@pytest.fixture(scope="module", params=["postgres"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """The demo CRM on PostgreSQL behind a real runtime: the bounds that only PostgreSQL needs, against it."""
    yield from crm_target(request, tmp_path_factory)
