"""The demo CRM copied into SQLite, PostgreSQL or MariaDB, served by a real Maskwire runtime (for the
adversarial suites: every query goes through the real tool service)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from mcp_server.config import parse_config
from mcp_server.demo.data import DemoWorkspace
from mcp_server.demo.workspace import prepare_demo
from mcp_server.runtime import Runtime


@dataclass
class Target:
    engine: str
    url: str
    runtime: Runtime
    workspace: DemoWorkspace


def _copy(sqlite_path: Path, url: str) -> None:
    """Copy the demo tables into an empty database (generic types, same rows)."""
    source = sa.create_engine(f"sqlite:///{sqlite_path}")
    target = sa.create_engine(url)
    reflected = sa.MetaData()
    reflected.reflect(source)
    copy = sa.MetaData()
    for table in reflected.sorted_tables:
        columns = []
        for column in table.columns:
            kind = str(column.type).upper()
            sa_type: sa.types.TypeEngine = (
                sa.Integer() if "INT" in kind else sa.Float() if "REAL" in kind else sa.Text()
            )
            columns.append(sa.Column(column.name, sa_type, primary_key=column.primary_key))
        sa.Table(table.name, copy, *columns)
    copy.create_all(target)
    with source.connect() as read, target.begin() as write:
        for table in copy.sorted_tables:
            rows = [dict(r._mapping) for r in read.execute(sa.select(reflected.tables[table.name]))]
            if rows:
                write.execute(table.insert(), rows)
    source.dispose()
    target.dispose()


def crm_target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """For a module fixture parametrised by engine: the demo CRM on that engine behind a real runtime."""
    root = tmp_path_factory.mktemp(f"adv-{request.param}")
    workspace = prepare_demo(root)
    dropper = None
    if request.param == "sqlite":
        url = f"sqlite:///{workspace.database}"
    else:
        server_url = sa.engine.make_url(
            str(request.getfixturevalue("postgres_url" if request.param == "postgres" else "mysql_url"))
        )
        name = f"mw_adv_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        url = server_url.set(database=name).render_as_string(hide_password=False)
        _copy(workspace.database, url)

        def dropper() -> None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if "postgres" in url else ""))
            admin.dispose()

    config = parse_config(
        f'[server]\nstate_dir = "{root / "state"}"\n[[sources]]\nname = "crm"\nkind = "sql"\nurl = "{url}"\n',
        root / "maskwire.toml",
    )
    runtime = Runtime.start(config)
    yield Target(request.param, url, runtime, workspace)
    runtime.close()
    if dropper:
        dropper()
