"""Why a source cannot be reached, in words that are safe to show (database missing, login refused, ...).

Driver messages quote user, host and database names and sometimes more; they are matched here and never
echoed. Only the category and the source's own name, path or redacted URL reach the user.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

CONNECT_TIMEOUT_SECONDS = 5

DATABASE_MISSING = "the database does not exist"
LOGIN_REFUSED = "login refused (check the user name and password)"
NOT_ALLOWED = "the user may not connect to this database"
HOST_REFUSED = "host unreachable: nothing listens on that host and port (is the server running?)"
HOST_UNKNOWN = "host unreachable: the host name does not resolve"
HOST_TIMEOUT = f"host unreachable: no answer within {CONNECT_TIMEOUT_SECONDS} s"
DRIVER_MISSING = (
    "no driver for this URL is installed: use postgresql+psycopg://... or mysql+pymysql://... (both bundled)"
)

# (text in the driver's message, reason); PostgreSQL reports connection failures without an SQLSTATE.
_POSTGRES_PATTERNS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("password authentication failed", 'role "', "no password supplied", "no pg_hba.conf entry"), LOGIN_REFUSED),
    (("permission denied for database",), NOT_ALLOWED),
    (("connection refused",), HOST_REFUSED),
    (("failed to resolve host", "could not translate host name", "name or service not known"), HOST_UNKNOWN),
    (("timeout expired", "timed out"), HOST_TIMEOUT),
)
_MYSQL_CODES = {
    1049: DATABASE_MISSING,
    1045: LOGIN_REFUSED,
    1698: LOGIN_REFUSED,
    1044: NOT_ALLOWED,
    2003: HOST_REFUSED,
    2005: HOST_UNKNOWN,
    2013: HOST_TIMEOUT,
}


def sql_problem(url: str) -> str | None:
    """None when a connection to the database at `url` opens; else the reason, safe to show."""
    try:
        parsed = make_url(url)
    except Exception:
        return "the url is not a valid SQLAlchemy URL"
    backend = parsed.get_backend_name()
    if backend == "sqlite":
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
        return _reason(backend, exc.orig if exc.orig is not None else exc)
    except Exception as exc:
        return f"could not connect ({type(exc).__name__})"
    finally:
        engine.dispose()


def _reason(backend: str, error: BaseException) -> str:
    if backend in ("mysql", "mariadb"):
        code = error.args[0] if error.args and isinstance(error.args[0], int) else None
        if code in _MYSQL_CODES:
            return _MYSQL_CODES[code]
    elif backend == "postgresql":
        text = str(error).lower()
        if 'database "' in text and "does not exist" in text:
            return DATABASE_MISSING
        for needles, reason in _POSTGRES_PATTERNS:
            if any(needle in text for needle in needles):
                return reason
    return f"could not connect ({type(error).__name__})"


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
