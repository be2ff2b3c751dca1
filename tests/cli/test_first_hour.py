"""A new user's first commands: config lookup, init, check with reasons, serve --dsn, errors without tracebacks.

Run in-process through `main` (the CLI entry point) with a private MASKWIRE_HOME and working directory; the
subprocess tests cover what only a real process shows (the broken pipe, stdout kept clean).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from mcp_server.cli import main
from mcp_server.config import ConfigError, config_from_options, find_config, source_entries
from mcp_server.diagnose import DATABASE_MISSING, HOST_REFUSED, LOGIN_REFUSED, sql_problem

SEEDED = {
    "name": "Philippa Quarrington",
    "email": "philippa.quarrington@example.org",
    "phone": "+44 20 7946 0321",
    "note": "Call Philippa Quarrington back about card 4111 1111 1111 1111",
}
SECRET_PASSWORD = "s3cret-Pa55word-x7"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh user: empty MASKWIRE_HOME, no MASKWIRE_CONFIG, working in an empty project folder."""
    monkeypatch.setenv("MASKWIRE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MASKWIRE_CONFIG", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    return project


def _shop(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT, note TEXT)")
    conn.execute("INSERT INTO customers (name, email, phone, note) VALUES (?, ?, ?, ?)", tuple(SEEDED.values()))
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL)")
    conn.commit()
    conn.close()
    return path


def _assert_no_seeded_value(text: str) -> None:
    for value in (*SEEDED.values(), SECRET_PASSWORD, "Quarrington", "4111 1111"):
        assert value not in text


# -- config lookup -------------------------------------------------------------------------------


def test_lookup_order(home: Path, tmp_path: Path) -> None:
    explicit, env_file, local = tmp_path / "a.toml", tmp_path / "b.toml", home / "maskwire.toml"
    for path in (explicit, env_file, local):
        path.write_text("")
    env = {"MASKWIRE_CONFIG": str(env_file)}
    assert find_config(str(explicit), environ=env) == (explicit, "--config")
    assert find_config(None, environ=env) == (env_file, "$MASKWIRE_CONFIG")
    assert find_config(None, environ={}) == (local, "./maskwire.toml")
    local.unlink()
    with pytest.raises(ConfigError, match="maskwire init --dsn URL"):
        find_config(None, environ={})


def test_no_config_is_an_error_that_says_what_to_do_and_never_builds_the_demo(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["check"], ["index"], ["serve"], ["install", "cursor", "--print"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "no configuration" in err and "maskwire init --dsn URL" in err and "maskwire demo" in err
    assert not (home.parent / "home" / "demo").exists()


def test_the_demo_only_when_asked_for_or_once_built(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install", "cursor", "--demo", "--print"]) == 0
    assert (home.parent / "home" / "demo" / "maskwire.toml").exists()
    capsys.readouterr()
    assert main(["install", "cursor", "--print"]) == 0  # built once: the last resort, said on stderr
    assert "using the demo workspace" in capsys.readouterr().err
    (home / "maskwire.toml").write_text('[[sources]]\nname = "x"\nkind = "files"\npath = "."\n')
    assert main(["install", "cursor", "--print"]) == 0  # ./maskwire.toml wins over the demo
    captured = capsys.readouterr()
    assert str(home / "maskwire.toml") in captured.out and "demo" not in captured.err


@pytest.mark.parametrize("text", ["", "# only a comment\n", '[server]\nname = "x"\n'])
def test_an_empty_or_sourceless_config_is_an_error_that_says_what_to_add(
    home: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "maskwire.toml").write_text(text)
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "no sources" in err and "[[sources]]" in err and 'kind = "sql"' in err and "Traceback" not in err


# -- --dsn ---------------------------------------------------------------------------------------


def test_dsn_sources_are_named_after_their_database(home: Path) -> None:
    entries = source_entries(
        ["sqlite:///data/shop.sqlite", "postgresql://u@db.example.com/crm", "mysql://u@h/crm", "sales=sqlite:///x.db"],
        ["../Shared Docs"],
        cwd=home,
    )
    assert [e["name"] for e in entries] == ["shop", "crm", "crm_2", "sales", "Shared_Docs"]
    assert entries[0]["url"] == f"sqlite:///{home / 'data' / 'shop.sqlite'}"
    assert entries[1]["url"].startswith("postgresql+psycopg://") and entries[2]["url"].startswith("mysql+pymysql://")
    assert entries[4] == {"name": "Shared_Docs", "kind": "files", "path": str(home.parent / "Shared Docs")}


@pytest.mark.parametrize("dsn", ["not a url", "sqlite://", f"postgresql://u:{SECRET_PASSWORD}@h:notaport/db"])
def test_a_bad_dsn_is_named_by_position_never_echoed(home: Path, dsn: str) -> None:
    with pytest.raises(ConfigError, match=r"--dsn #1") as caught:
        source_entries([dsn])
    assert SECRET_PASSWORD not in str(caught.value)


def test_dsn_config_keeps_its_state_in_maskwire_home(home: Path) -> None:
    config = config_from_options([f"sqlite:///{_shop(home / 'shop.sqlite')}"])
    assert config.state_dir == home.parent / "home" / "state" and config.path is None


def test_check_dsn_without_a_file(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _shop(home / "shop.sqlite")
    assert main(["check", "--dsn", "sqlite:///shop.sqlite"]) == 0
    out = capsys.readouterr().out
    assert "[shop] ok" in out and "email" in out and "masked as EMAIL_ADDRESS" in out
    _assert_no_seeded_value(out)
    assert main(["check", "--dsn", "sqlite:///shop.sqlite", "--config", "x.toml"]) == 2


# -- check: each source's status, a safe reason -----------------------------------------------------


def test_reasons_for_unreachable_databases(postgres_url: str, mysql_url: str, tmp_path: Path) -> None:
    pg = sa.make_url(postgres_url)
    my = sa.make_url(mysql_url)
    missing = f"maskwire_missing_{uuid.uuid4().hex[:8]}"
    cases = {
        pg.set(database=missing).render_as_string(hide_password=False): DATABASE_MISSING,
        pg.set(username=f"nobody_{uuid.uuid4().hex[:6]}", password=SECRET_PASSWORD).render_as_string(
            hide_password=False
        ): LOGIN_REFUSED,
        pg.set(port=1).render_as_string(hide_password=False): HOST_REFUSED,
        my.set(database=missing).render_as_string(hide_password=False): DATABASE_MISSING,
        my.set(password=SECRET_PASSWORD).render_as_string(hide_password=False): LOGIN_REFUSED,
        my.set(port=1).render_as_string(hide_password=False): HOST_REFUSED,
    }
    for url, reason in cases.items():
        assert sql_problem(url) == reason, url.replace(SECRET_PASSWORD, "***")
    assert sql_problem(postgres_url) is None and sql_problem(mysql_url) is None
    assert sql_problem(f"sqlite:///{tmp_path / 'nope.sqlite'}") == f"file missing: {tmp_path / 'nope.sqlite'}"
    (tmp_path / "text.sqlite").write_text("not a database at all, just text " * 100)
    assert "not a SQLite database" in (sql_problem(f"sqlite:///{tmp_path / 'text.sqlite'}") or "")


def test_check_reports_every_source_and_fails_when_one_is_down(
    home: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop(home / "shop.sqlite")
    bad_login = sa.make_url(postgres_url).set(username="nobody_x", password=SECRET_PASSWORD)
    (home / "maskwire.toml").write_text(
        '[[sources]]\nname = "shop"\nkind = "sql"\nurl = "sqlite:///shop.sqlite"\n'
        f'[[sources]]\nname = "crm"\nkind = "sql"\nurl = "{bad_login.render_as_string(hide_password=False)}"\n'
        '[[sources]]\nname = "gone"\nkind = "sql"\nurl = "sqlite:///gone.sqlite"\n'
        '[[sources]]\nname = "docs"\nkind = "files"\npath = "documents"\n'
    )
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    out = captured.out
    assert "[shop] ok" in out
    assert "[crm] UNAVAILABLE" in out and LOGIN_REFUSED in out
    assert f"[gone] UNAVAILABLE (sqlite:///{home / 'gone.sqlite'}): file missing" in out
    assert "[docs] UNAVAILABLE" in out and "folder missing" in out
    assert "1 of 4 sources ok; 3 unavailable" in out
    _assert_no_seeded_value(captured.out + captured.err)
    assert not (home / "gone.sqlite").exists()  # a check never creates a database


def test_unsupported_databases_and_missing_drivers_are_named(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "maskwire.toml").write_text(
        '[[sources]]\nname = "o"\nkind = "sql"\nurl = "oracle://x@127.0.0.1/db"\n'
        '[[sources]]\nname = "m"\nkind = "sql"\nurl = "mysql://root@127.0.0.1/test"\n'
    )
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert 'unsupported database "oracle"' in out and "mysql+pymysql://" in out and "0 of 2 sources ok" in out


# -- init ----------------------------------------------------------------------------------------


def test_init_writes_a_commented_config_that_check_then_finds(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _shop(home / "shop.sqlite")
    (home / "documents").mkdir()
    (home / "documents" / "letter.txt").write_text(f"Dear {SEEDED['name']}, ...")
    assert main(["init", "--dsn", "sqlite:///shop.sqlite", "--docs", "documents"]) == 0
    out = capsys.readouterr().out
    assert "claude mcp add maskwire --" in out and "maskwire install" in out
    text = (home / "maskwire.toml").read_text()
    document = tomllib.loads(text)
    assert [s["name"] for s in document["sources"]] == ["shop", "documents"]
    assert "#     email" in text and "masked as EMAIL_ADDRESS" in text and "masked as PERSON" in text
    assert "#     total" in text and "clear" in text
    _assert_no_seeded_value(text + out)
    assert main(["check"]) == 0  # found as ./maskwire.toml, without --config
    assert "2 of 2 sources ok" in capsys.readouterr().out
    assert main(["init", "--dsn", "sqlite:///shop.sqlite"]) == 2  # never overwrites without --force
    assert "--force" in capsys.readouterr().err
    assert main(["init", "--dsn", "sqlite:///shop.sqlite", "--force"]) == 0


def test_init_writes_nothing_when_a_source_is_down(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--dsn", "sqlite:///missing.sqlite"]) == 1
    captured = capsys.readouterr()
    assert "file missing" in captured.out and "Nothing written" in captured.err
    assert not (home / "maskwire.toml").exists() and not (home / "missing.sqlite").exists()


def test_init_keeps_a_file_with_a_password_private(home: Path, postgres_url: str) -> None:
    url = sa.make_url(postgres_url)
    if url.password is None:
        url = url.set(password="unused-with-trust-auth")
    assert main(["init", "--dsn", url.render_as_string(hide_password=False)]) == 0
    assert (home / "maskwire.toml").stat().st_mode & 0o777 == 0o600


def test_init_asks_on_a_terminal(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _shop(home / "shop.sqlite")
    (home / "notes").mkdir()
    answers = iter(["sqlite:///shop.sqlite", "", "notes", ""])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(answers))
    assert main(["init"]) == 0
    assert [s["name"] for s in tomllib.loads((home / "maskwire.toml").read_text())["sources"]] == ["shop", "notes"]
    assert "Wrote" in capsys.readouterr().out


def test_init_without_sources_or_terminal(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 2  # pytest's stdin is not a terminal
    assert "--dsn URL" in capsys.readouterr().err


# -- logging, version, broken pipe ----------------------------------------------------------------


def test_log_level(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MASKWIRE_LOG_LEVEL", "loud")
    assert main(["check"]) == 2
    assert "MASKWIRE_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--log-level", "loud", "check"])


def _maskwire(*args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MASKWIRE_HOME": str(cwd.parent / "home")}
    env.pop("MASKWIRE_CONFIG", None)
    script = Path(sys.executable).with_name("maskwire")
    return subprocess.run([str(script), *args], cwd=cwd, env=env, text=True, capture_output=True, timeout=120, **kwargs)


def test_version(home: Path) -> None:
    from importlib.metadata import version

    result = _maskwire("--version", cwd=home)
    assert result.returncode == 0 and result.stdout.strip() == f"maskwire {version('maskwire')}"


def test_a_closed_pipe_ends_quietly(home: Path) -> None:
    """`maskwire check | head -1`: the reader goes away; no BrokenPipeError traceback on stderr."""
    conn = sqlite3.connect(home / "wide.sqlite")
    for n in range(300):  # about 100 kB of report, more than a pipe holds
        conn.execute(f"CREATE TABLE t{n:03d} (id INTEGER PRIMARY KEY, email TEXT, phone TEXT, created_at TEXT)")
    conn.commit()
    conn.close()
    (home / "maskwire.toml").write_text('[[sources]]\nname = "wide"\nkind = "sql"\nurl = "sqlite:///wide.sqlite"\n')
    script = Path(sys.executable).with_name("maskwire")
    env = {**os.environ, "MASKWIRE_HOME": str(home.parent / "home")}
    shell = f"'{script}' check | head -1; echo status=${{PIPESTATUS[0]}} >&2"
    result = subprocess.run(["bash", "-c", shell], cwd=home, env=env, text=True, capture_output=True, timeout=120)
    assert result.stdout.startswith("config: ")
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert "status=141" in result.stderr
