"""The LangChain example (examples/agents/langchain_agent.py), run as a user runs it, in its own environment.

langchain-mcp-adapters needs mcp<2 and Maskwire mcp 2.x, so the example lives in `.venv-langchain` (built from
examples/agents/requirements-langchain.txt, the same env `make langchain-example` uses) and starts
`maskwire serve` from this environment as a subprocess. The env is built once and rebuilt only when the
requirements change: its stamp file holds their SHA-256. Building needs PyPI: without it the test skips
locally and fails under CI=true.

The example runs its no-model path (real tool calls through LangChain's tool objects); the test checks the
tools and their schemas, the results, that no seeded personal value reaches the output, and the ledger.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from mcp_server.config import load_config
from mcp_server.demo.workspace import CONFIG_NAME, prepare_demo
from mcp_server.ledger.store import Ledger

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "agents" / "langchain_agent.py"
REQUIREMENTS = ROOT / "examples" / "agents" / "requirements-langchain.txt"
VENV = ROOT / ".venv-langchain"
STAMP = VENV / ".requirements.sha256"  # written by the Makefile's langchain-example target too
MASKWIRE = Path(sys.executable).with_name("maskwire")
AGENT = "langchain-example"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}  # as in tests/conftest.py

# The tools as the example prints them: names and arguments (`?` = optional) read from each tool's schema.
SIGNATURES = [
    "list_sources()",
    "describe(source, table?)",
    "search_schema(pattern, sources?, masking?, limit?, offset?)",
    "query(source, sql, max_rows?, cursor?)",
    "search(query, sources?, limit?)",
    "read(source, ref, cursor?)",
]
TOKEN = re.compile(r"<[A-Z_]+:[0-9a-f]{12}>")


def _unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def _build_env() -> Path:
    """.venv-langchain/bin/python, (re)building the env when its requirements changed since the last build."""
    python = VENV / "bin" / "python"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
    ]
    for step in steps:
        try:
            run = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            _unavailable(f"building {VENV.name} timed out: {' '.join(step[2:4])}")
        if run.returncode != 0:
            lines = run.stderr.strip().splitlines()
            tail = "\n".join([line for line in lines if line.startswith("ERROR")] or lines[-5:])
            _unavailable(f"could not build {VENV.name} from {REQUIREMENTS.name} (needs PyPI):\n{tail}")
    STAMP.write_text(wanted + "\n")
    return python


@pytest.fixture(scope="module")
def langchain_python() -> Path:
    return _build_env()


@dataclass
class ExampleRun:
    output: str  # stdout and stderr
    config: Path
    seeded: tuple[str, ...]  # the demo's personal values that must never be printed


@pytest.fixture(scope="module")
def example_run(langchain_python: Path, tmp_path_factory: pytest.TempPathFactory) -> ExampleRun:
    """The example's no-model path against a fresh demo workspace."""
    assert MASKWIRE.exists(), f"{MASKWIRE} not found: run the tests with Maskwire's .venv/bin/python"
    root = tmp_path_factory.mktemp("langchain-workspace")
    workspace = prepare_demo(root)
    env = {k: v for k, v in os.environ.items() if k not in {"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}}
    env["MASKWIRE_HOME"] = str(root / "home")
    run = subprocess.run(
        [str(langchain_python), str(EXAMPLE), "--config", str(root / CONFIG_NAME), "--maskwire", str(MASKWIRE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    return ExampleRun(run.stdout + run.stderr, root / CONFIG_NAME, workspace.seeded.must_not_leak())


def test_every_tool_loads_with_its_schema(example_run: ExampleRun) -> None:
    output = example_run.output
    assert f"Loaded {len(SIGNATURES)} tools from Maskwire:" in output
    for signature in SIGNATURES:
        assert f"  {signature}  [read-only]  " in output, signature


def test_calls_succeed_and_return_tokens(example_run: ExampleRun) -> None:
    output = example_run.output
    assert "No chat model configured" in output
    calls = re.findall(r"^-> (\w+)\(", output, flags=re.MULTILINE)
    assert calls == ["list_sources", "describe", "query", "query", "search", "read", "query"]
    errors = re.findall(r"^   ERROR (.*)$", output, flags=re.MULTILINE)
    assert len(errors) == 1 and "read-only" in errors[0]  # only the scripted DELETE
    assert "email TEXT [masked EMAIL_ADDRESS]" in output  # describe
    for entity in ("PERSON", "EMAIL_ADDRESS", "LOCATION", "CREDIT_CARD"):
        assert f"<{entity}:" in output, entity
    # the email token passed back as a literal finds its customer
    token_query = re.search(r"WHERE email = '(<EMAIL_ADDRESS:[0-9a-f]{12}>)'.*?\n((?:   .*\n)+)", output)
    assert token_query, output
    assert "(1 row" in token_query.group(2)
    assert "(end of document)" in output  # read returned the whole document


def test_no_seeded_value_reaches_the_output(example_run: ExampleRun) -> None:
    assert len(TOKEN.findall(example_run.output)) >= 20
    folded = example_run.output.casefold()
    leaked = [value for value in example_run.seeded if value.casefold() in folded]
    assert not leaked, leaked[:5]


def test_ledger_records_the_calls_under_the_example_agent(example_run: ExampleRun) -> None:
    ledger = Ledger(load_config(example_run.config).ledger_url)
    try:
        entries = list(ledger.entries())
    finally:
        ledger.dispose()
    assert {e.agent for e in entries} == {AGENT}
    assert [e.tool for e in entries] == ["list_sources", "describe", "query", "query", "search", "read", "query"]
    assert [e.status for e in entries] == ["ok"] * 6 + ["denied"]
    assert entries[3].rows == 1  # the token used as a literal
    assert entries[2].entities == {"EMAIL_ADDRESS": 3, "LOCATION": 3, "PERSON": 6}
