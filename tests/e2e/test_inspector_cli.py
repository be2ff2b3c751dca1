"""Interoperability with the official TypeScript MCP tooling: the MCP Inspector's CLI mode drives `maskwire serve`.

Our other e2e tests use the Python SDK as the client; this one uses `@modelcontextprotocol/inspector` (built on
the TypeScript SDK) over stdio, one Inspector process per call, as a user would run it from a shell. The
Inspector needs Node 22, so the test installs Node (the npm package `node`) and the Inspector at the versions
pinned in tests/e2e/npm-tools/ (package.json + package-lock.json) into `.npm-tools/` with `npm ci`, once: the
stamp file holds the SHA-256 of the two pinned files and the folder is rebuilt only when they change.
Installing needs `npm` and the npm registry: without them the test skips locally and fails under CI=true.

Checked, in the Inspector's default (legacy) protocol era and for one call in the modern one:
tools/list (six read-only tools with input and output schemas, no schema error under the
Inspector's `--strict` portability check), each tool called with the Inspector's `--tool-arg` encoding,
a token passed back as a literal, a write refused as an error result, no seeded personal value in anything
the Inspector printed, and every call in the ledger under the agent named on the command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from mcp_server.demo.workspace import CONFIG_NAME, prepare_demo

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PINNED = Path(__file__).resolve().parent / "npm-tools"
PINNED_FILES = ("package.json", "package-lock.json")
TOOLS_DIR = ROOT / ".npm-tools"  # gitignored
STAMP = TOOLS_DIR / ".pinned.sha256"
NODE = TOOLS_DIR / "node_modules" / ".bin" / "node"
INSPECTOR = TOOLS_DIR / "node_modules" / ".bin" / "mcp-inspector"
MASKWIRE = Path(sys.executable).with_name("maskwire")
AGENT = "inspector-cli"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}  # as in tests/conftest.py

TOOLS = {"list_sources", "describe", "search_schema", "query", "search", "read"}
TOKEN = re.compile(r"<[A-Z_]+:[0-9a-f]{12}>")
EMAIL_TOKEN = re.compile(r"<EMAIL_ADDRESS:[0-9a-f]{12}>")
TOOL_IS_ERROR = 5  # the Inspector CLI's exit code when a tool result has isError: true


def _unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def _pinned() -> dict[str, Any]:
    return dict(json.loads((PINNED / "package.json").read_text(encoding="utf-8"))["dependencies"])


def _node_version() -> str:
    run = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, timeout=30, check=False)
    return run.stdout.strip()


def _install() -> None:
    """Node 22 and the Inspector in .npm-tools/, (re)installed with `npm ci` when the pinned files changed."""
    digest = hashlib.sha256()
    for name in PINNED_FILES:
        digest.update((PINNED / name).read_bytes())
    wanted = digest.hexdigest()
    if NODE.exists() and INSPECTOR.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm not found on PATH: cannot install Node 22 and the MCP Inspector")
    TOOLS_DIR.mkdir(exist_ok=True)
    STAMP.unlink(missing_ok=True)
    for name in PINNED_FILES:
        shutil.copyfile(PINNED / name, TOOLS_DIR / name)
    # Node 20's npm installs packages that declare node>=22 with a warning; engine-strict would refuse them.
    step = [npm, "ci", "--no-audit", "--no-fund", "--engine-strict=false", "--loglevel=error"]
    try:
        run = subprocess.run(step, cwd=TOOLS_DIR, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        _unavailable(f"`npm ci` in {TOOLS_DIR.name} timed out")
    if run.returncode != 0:
        head = "\n".join(run.stderr.strip().splitlines()[:4])  # npm puts the error code and message first
        _unavailable(f"could not install the pinned npm tools into {TOOLS_DIR.name} (needs the npm registry):\n{head}")
    wanted_node = f"v{_pinned()['node']}"
    if not INSPECTOR.exists() or not NODE.exists() or _node_version() != wanted_node:
        _unavailable(f"`npm ci` did not produce {wanted_node} and the Inspector under {TOOLS_DIR.name}/node_modules")
    STAMP.write_text(wanted + "\n")


@dataclass
class CliRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        """The JSON-RPC result the Inspector printed (`--format json`: one object on stdout)."""
        try:
            document = json.loads(self.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"not JSON on stdout: {self}") from None
        assert "result" in document, self
        return dict(document["result"])

    @property
    def structured(self) -> dict[str, Any]:
        return dict(self.result["structuredContent"])

    @property
    def text(self) -> str:
        return "\n".join(block["text"] for block in self.result["content"] if block["type"] == "text")


@dataclass
class InspectorSession:
    tools_list: CliRun
    calls: dict[str, CliRun]  # by step name, in the order they ran
    config: Path
    seeded: tuple[str, ...]  # the demo's personal values that must never be printed
    email_token: str  # taken from the customers query, passed back as a literal


class Inspector:
    """Runs `mcp-inspector --cli` once per call against `maskwire serve` on one workspace."""

    def __init__(self, config: Path, home: Path) -> None:
        self.config = config
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("npm_", "NODE_"))}
        self.env["PATH"] = f"{NODE.parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.env["HOME"] = str(home)  # the Inspector's catalog and client config stay in the test's tmp dir
        self.env["MCP_CATALOG_PATH"] = str(home / "mcp.json")
        self.env["MCP_CLIENT_CONFIG_PATH"] = str(home / "client.json")

    def run(self, *options: str) -> CliRun:
        args = [
            str(NODE),
            str(INSPECTOR),
            "--cli",
            "--format",
            "json",
            "--connect-timeout",
            "60000",
            *options,
            "--",
            str(MASKWIRE),
            "serve",
            "--config",
            str(self.config),
            "--agent",
            AGENT,
        ]
        run = subprocess.run(
            args, capture_output=True, text=True, timeout=180, check=False, env=self.env, cwd=self.config.parent
        )
        return CliRun(args[2:], run.returncode, run.stdout, run.stderr)

    def call(
        self, tool: str, *arguments: str, json_arguments: dict[str, Any] | None = None, era: str = "legacy"
    ) -> CliRun:
        options = ["--protocol-era", era, "--method", "tools/call", "--tool-name", tool]
        for argument in arguments:
            options += ["--tool-arg", argument]
        if json_arguments is not None:
            options += ["--tool-args-json", json.dumps(json_arguments)]
        return self.run(*options)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> InspectorSession:
    _install()
    assert MASKWIRE.exists(), f"{MASKWIRE} not found: run the tests with Maskwire's .venv/bin/python"
    root = tmp_path_factory.mktemp("inspector-workspace")
    workspace = prepare_demo(root)
    home = tmp_path_factory.mktemp("inspector-home")
    inspector = Inspector(root / CONFIG_NAME, home)

    tools_list = inspector.run("--method", "tools/list", "--strict")
    calls: dict[str, CliRun] = {}
    calls["list_sources"] = inspector.call("list_sources")
    calls["list_sources_modern"] = inspector.call("list_sources", era="modern")  # the newer protocol era
    calls["describe"] = inspector.call("describe", "source=crm", "table=customers")
    calls["query"] = inspector.call("query", "source=crm", "sql=SELECT * FROM customers")
    email = EMAIL_TOKEN.search(calls["query"].stdout)
    assert email, calls["query"]
    calls["token_literal"] = inspector.call(
        "query",
        json_arguments={
            "source": "crm",
            "sql": f"SELECT id, email FROM customers WHERE email = '{email.group(0)}'",
            "max_rows": 5,
        },
    )
    calls["search"] = inspector.call("search", "query=refund")
    ref = calls["search"].structured["hits"][0]["ref"]
    calls["read"] = inspector.call("read", "source=docs", f"ref={ref}")
    calls["delete"] = inspector.call("query", "source=crm", "sql=DELETE FROM customers")
    return InspectorSession(tools_list, calls, root / CONFIG_NAME, workspace.seeded.must_not_leak(), email.group(0))


def _usage(config: Path, *options: str) -> list[dict[str, Any]]:
    run = subprocess.run(
        [str(MASKWIRE), "usage", "--config", str(config), "--agent", AGENT, "--format", "json", *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return list(json.loads(run.stdout))


def test_tools_list_has_six_read_only_tools_with_schemas(session: InspectorSession) -> None:
    run = session.tools_list
    assert run.returncode == 0, run  # --strict exits 6 on any error-severity schema portability problem
    # --strict reports each finding as "Error: tool ..." / "Warning: tool ..."; the schemas have none
    assert "Error: tool" not in run.stderr and "Warning: tool" not in run.stderr, run.stderr[-3000:]
    assert "Aborting" not in run.stderr, run.stderr[-3000:]  # the server exits cleanly
    tools = {tool["name"]: tool for tool in run.result["tools"]}
    assert set(tools) == TOOLS
    for name, tool in tools.items():
        assert tool["annotations"]["readOnlyHint"] is True, name
        assert tool["annotations"]["destructiveHint"] is False, name
        assert tool["inputSchema"]["type"] == "object", name
        assert tool["outputSchema"]["type"] == "object", name
        assert tool["description"], name
    assert tools["query"]["inputSchema"]["required"] == ["source", "sql"]
    assert set(tools["query"]["inputSchema"]["properties"]) == {"source", "sql", "max_rows", "cursor"}
    assert tools["read"]["inputSchema"]["required"] == ["source", "ref"]


def test_every_call_succeeds_except_the_write(session: InspectorSession) -> None:
    for step, run in session.calls.items():
        if step == "delete":
            continue
        assert run.returncode == 0, run
        assert run.result["isError"] is False, run
        assert run.result["structuredContent"], run
        assert "Traceback" not in run.stderr, run.stderr[-3000:]


def test_query_returns_tokens_not_values(session: InspectorSession) -> None:
    query = session.calls["query"]
    structured = query.structured
    assert structured["row_count"] >= 10
    masked = {column["name"]: column["entity"] for column in structured["columns"] if column["masking"] == "pii"}
    for column, entity in [("email", "EMAIL_ADDRESS"), ("ssn", "US_SSN"), ("card_number", "CREDIT_CARD")]:
        assert masked[column] == entity
    names = [column["name"] for column in structured["columns"]]
    for row in structured["rows"]:
        assert TOKEN.fullmatch(row[names.index("email")]), row
        assert TOKEN.fullmatch(row[names.index("ssn")]), row
    assert structured["entities_masked"]["EMAIL_ADDRESS"] == structured["row_count"]
    assert len(TOKEN.findall(query.text)) >= 10 * structured["row_count"]
    # the token the Inspector passed back as a literal finds exactly its customer, and comes back unchanged
    literal = session.calls["token_literal"].structured
    assert literal["row_count"] == 1
    assert literal["rows"][0][1] == session.email_token


def test_describe_search_and_read(session: InspectorSession) -> None:
    for step in ("list_sources", "list_sources_modern"):
        sources = {source["name"]: source["kind"] for source in session.calls[step].structured["sources"]}
        assert sources == {"crm": "sql", "docs": "files"}, step
    describe = session.calls["describe"].structured
    columns = {column["name"]: column for column in describe["tables"][0]["columns"]}
    assert describe["tables"][0]["name"] == "customers"
    assert columns["email"]["masking"] == "pii" and columns["email"]["entity"] == "EMAIL_ADDRESS"
    assert columns["id"]["masking"] == "clear"
    assert "email TEXT [masked EMAIL_ADDRESS]" in session.calls["describe"].text
    hits = session.calls["search"].structured["hits"]
    assert hits and all(hit["source"] == "docs" for hit in hits)
    assert "refund" in hits[0]["snippet"].casefold()
    assert TOKEN.search(hits[0]["snippet"])
    read = session.calls["read"]
    assert TOKEN.search(read.text)
    assert "refund" in read.text.casefold()


def test_write_is_an_error_result(session: InspectorSession) -> None:
    delete = session.calls["delete"]
    assert delete.returncode == TOOL_IS_ERROR, delete
    assert delete.result["isError"] is True
    assert "read-only" in delete.text
    assert "Traceback" not in delete.stdout + delete.stderr


def test_no_seeded_value_reaches_the_inspector(session: InspectorSession) -> None:
    printed = [session.tools_list.stdout, session.tools_list.stderr]
    printed += [run.stdout + run.stderr for run in session.calls.values()]
    assert len(TOKEN.findall("\n".join(printed))) >= 500
    folded = "\n".join(printed).casefold()
    leaked = [value for value in session.seeded if value.casefold() in folded]
    assert not leaked, leaked[:5]


def test_ledger_records_every_call_under_the_agent(session: InspectorSession) -> None:
    steps = list(session.calls)
    summary = _usage(session.config)
    assert [row["agent"] for row in summary] == [AGENT]
    assert summary[0]["calls"] == len(steps)
    assert (summary[0]["ok"], summary[0]["denied"], summary[0]["error"]) == (len(steps) - 1, 1, 0)
    assert summary[0]["tools"] == {"list_sources": 2, "describe": 1, "query": 3, "search": 1, "read": 1}

    calls = sorted(_usage(session.config, "--calls"), key=lambda call: int(call["id"]))
    tools = [session.calls[step].args[session.calls[step].args.index("--tool-name") + 1] for step in steps]
    assert [call["tool"] for call in calls] == tools
    assert [call["status"] for call in calls] == ["ok"] * (len(steps) - 1) + ["denied"]
    assert {call["agent"] for call in calls} == {AGENT}
    assert {call["client_version"] for call in calls} == {_pinned()["@modelcontextprotocol/inspector"]}
    assert calls[-1]["error_class"].startswith("SqlDenied")
    assert calls[steps.index("token_literal")]["rows"] == 1
    assert calls[steps.index("query")]["entities"]["EMAIL_ADDRESS"] == session.calls["query"].structured["row_count"]
