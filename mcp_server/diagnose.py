"""Why a source cannot be reached, in words that are safe to show (database missing, login refused, ...).

Driver messages quote user, host and database names and sometimes more; they are matched here and never
echoed. Only the category and the source's own name, path or redacted URL reach the user.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from connectors.engines import SqliteBackend, backend_named
from connectors.engines.reasons import (  # noqa: F401 - the reasons are part of this module's interface
    CONNECT_TIMEOUT_SECONDS,
    DATABASE_MISSING,
    HOST_REFUSED,
    HOST_TIMEOUT,
    HOST_UNKNOWN,
    LOGIN_REFUSED,
    NOT_ALLOWED,
)

DRIVER_MISSING = (
    "no driver for this URL is installed: use postgresql+psycopg://... or mysql+pymysql://... (both bundled)"
)


def sql_problem(url: str) -> str | None:
    """None when a connection to the database at `url` opens; else the reason, safe to show."""
    try:
        parsed = make_url(url)
    except Exception:
        return "the url is not a valid SQLAlchemy URL"
    backend = backend_named(parsed.get_backend_name())
    if isinstance(backend, SqliteBackend):
        return sqlite_problem(Path(parsed.database or ""))
    try:
        engine = sa.create_engine(
            parsed, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}, poolclass=sa.NullPool
        )
    except ModuleNotFoundError:
        return DRIVER_MISSING
    except Exception as exc:  # an unknown dialect
        return f"cannot use this kind of database URL ({type(exc).__name__})"
    try:
        with engine.connect():
            return None
    except sa.exc.DBAPIError as exc:
        error = exc.orig if exc.orig is not None else exc
        return (backend.connect_problem(error) if backend else None) or f"could not connect ({type(error).__name__})"
    except Exception as exc:
        return f"could not connect ({type(exc).__name__})"
    finally:
        engine.dispose()


def sqlite_problem(path: Path) -> str | None:
    if not str(path) or str(path) == ":memory:":
        return "a SQLite source needs a database file"
    if not path.exists():
        return f"file missing: {path}"
    if not path.is_file():
        return f"not a file: {path}"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return f"not a SQLite database (or not readable): {path}"
    return None


def folder_problem(path: Path) -> str | None:
    if not path.exists():
        return f"folder missing: {path}"
    if not path.is_dir():
        return f"not a folder: {path}"
    return None
