"""The official MCP conformance suite against `maskwire serve --transport http`, with a test agent's token.

Node 22 and the suite are installed at the versions pinned in tests/conformance/npm-tools/ into
.venv/npm-conformance/ with `npm ci`, once (the stamp holds the SHA-256 of the pinned files). The scenario table
in docs/conformance.md says which scenarios apply to a tools-only server and why the others do not; this test
reads it, so the docs and the run cannot drift apart, and a scenario added by a new suite version fails until
it is listed. Installing needs npm and the npm registry: without them the test skips locally and fails under
CI=true.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bearer_proxy import BearerProxy

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PINNED = Path(__file__).resolve().parent / "npm-tools"
PINNED_FILES = ("package.json", "package-lock.json")
TOOLS_DIR = Path(sys.prefix) / "npm-conformance"  # inside the project venv: rebuilt with it, never committed
STAMP = TOOLS_DIR / ".pinned.sha256"
BIN = TOOLS_DIR / "node_modules" / ".bin"
DOC = ROOT / "docs" / "conformance.md"
MASKWIRE = Path(sys.executable).with_name("maskwire")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SEEDED = ("Philippa Quarrington", "philippa.quarrington@example.org")


def _unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def scenario_table() -> dict[str, str | None]:
    """docs/conformance.md: scenario -> None when it runs, else the reason it is left out."""
    table: dict[str, str | None] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1] in ("yes", "no"):
            table[cells[0]] = None if cells[1] == "yes" else cells[2]
    return table


def _install() -> None:
    digest = hashlib.sha256()
    for name in PINNED_FILES:
        digest.update((PINNED / name).read_bytes())
    wanted = digest.hexdigest()
    if (BIN / "conformance").exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm not found on PATH: cannot install Node 22 and the conformance suite")
    TOOLS_DIR.mkdir(exist_ok=True)
    STAMP.unlink(missing_ok=True)
    for name in PINNED_FILES:
        shutil.copyfile(PINNED / name, TOOLS_DIR / name)
    step = [npm, "ci", "--no-audit", "--no-fund", "--engine-strict=false", "--loglevel=error"]
    try:
        run = subprocess.run(step, cwd=TOOLS_DIR, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        _unavailable("`npm ci` of the conformance tools timed out")
    if run.returncode != 0:
        head = "\n".join(run.stderr.strip().splitlines()[:4])
        _unavailable(f"could not install the pinned conformance tools (needs the npm registry):\n{head}")
    STAMP.write_text(wanted + "\n")


def _suite(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("npm_", "NODE_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # the pinned Node 22 first
    return subprocess.run(
        [str(BIN / "node"), str(BIN / "conformance"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _server_scenarios() -> set[str]:
    listing = _suite("list").stdout
    server_part = listing.split("Client scenarios")[0]
    return set(re.findall(r"^\s*-\s+([a-z0-9-]+)", server_part, re.MULTILINE))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`maskwire serve --transport http` on a small SQLite source behind the token-adding proxy; yields its URL."""
    _install()
    work = tmp_path_factory.mktemp("conformance")
    conn = sqlite3.connect(work / "shop.sqlite")
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
    conn.execute("INSERT INTO customers (name, email) VALUES (?, ?)", SEEDED)
    conn.commit()
    conn.close()
    (work / "maskwire.toml").write_text('[[sources]]\nname = "shop"\nkind = "sql"\nurl = "sqlite:///shop.sqlite"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASKWIRE_")}
    env["MASKWIRE_HOME"] = str(work / "home")
    added = subprocess.run(
        [str(MASKWIRE), "agents", "add", "conformance-suite", "--role", "default"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    token = added.stdout.strip()
    process = subprocess.Popen(
        [str(MASKWIRE), "serve", "--transport", "http", "--port", "0"],
        cwd=work,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    url, deadline, seen = None, time.monotonic() + 120, []
    while url is None and time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([process.stderr], [], [], 1)
        if ready:
            line = process.stderr.readline()
            seen.append(line)
            match = re.search(r"at (http://\S+/mcp)", line)
            url = match.group(1) if match else None
    if url is None:
        process.kill()
        pytest.fail(f"maskwire serve did not start: {''.join(seen)[-2000:]}")
    proxy = BearerProxy(url.removesuffix("/mcp"), token)
    base = proxy.start()
    try:
        yield base + "/mcp"
    finally:
        proxy.stop()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_every_server_scenario_of_the_pinned_suite_is_listed_in_the_docs() -> None:
    _install()
    listed = scenario_table()
    offered = _server_scenarios()
    assert offered, "the suite listed no server scenarios"
    assert offered - set(listed) == set(), "scenarios missing from docs/conformance.md"
    assert set(listed) - offered == set(), "docs/conformance.md lists scenarios the pinned suite does not have"
    assert all(reason for reason in listed.values() if reason is not None)


@pytest.mark.parametrize("scenario", [name for name, reason in scenario_table().items() if reason is None])
def test_applicable_scenario_passes(server: str, scenario: str, tmp_path: Path) -> None:
    run = _suite("server", "--url", server, "--scenario", scenario, "-o", str(tmp_path))
    (checks_file,) = tmp_path.glob(f"server-{scenario}-*/checks.json")
    checks = json.loads(checks_file.read_text(encoding="utf-8"))
    failed = [c for c in checks if c["status"] == "FAILURE"]
    assert failed == [], json.dumps(failed, indent=2)[:3000]
    assert any(c["status"] == "SUCCESS" for c in checks), checks  # an empty scenario is not a pass
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    for value in SEEDED:
        assert value not in checks_file.read_text(encoding="utf-8")


def test_unserved_capabilities_are_neither_advertised_nor_answered(server: str, tmp_path: Path) -> None:
    """The scenarios for prompts and resources now fail with Method not found instead of passing on empty lists."""
    run = _suite("server", "--url", server, "--scenario", "prompts-list", "-o", str(tmp_path))
    (checks_file,) = tmp_path.glob("server-prompts-list-*/checks.json")
    checks = json.loads(checks_file.read_text(encoding="utf-8"))
    assert any(c["status"] == "FAILURE" and "Method not found" in json.dumps(c) for c in checks), (checks, run.stdout)
