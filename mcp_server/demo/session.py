"""`maskwire demo`: build the demo workspace, drive a scripted agent session through a real MCP client
against `maskwire serve` in a subprocess, print what the agent received, then the usage report."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import CallToolResult, Implementation, TextContent

from mcp_server.config import load_config
from mcp_server.demo.workspace import CONFIG_NAME, prepare_demo
from mcp_server.paths import maskwire_home

AGENT = "demo-agent"
TOKEN = re.compile(r"<EMAIL_ADDRESS:[0-9a-f]{12}>")
DOC_REF = re.compile(r"<DOC:[0-9a-f]{16}>")

SCRIPT: list[tuple[str, dict[str, Any], str]] = [
    ("list_sources", {}, "What can I read?"),
    ("describe", {"source": "crm", "table": "customers"}, "How is the customers table masked?"),
    (
        "query",
        {
            "source": "crm",
            "sql": "SELECT id, first_name, last_name, email, phone, ssn FROM customers ORDER BY id LIMIT 4",
        },
        "Plain columns",
    ),
    (
        "query",
        {
            "source": "crm",
            "sql": "SELECT email AS remark, last_name AS surname, city, loyalty_tier "
            "FROM customers ORDER BY id LIMIT 3",
        },
        "An alias cannot smuggle a value out: it is masked like its column",
    ),
    (
        "query",
        {
            "source": "crm",
            "sql": "SELECT first_name || ' ' || last_name AS full_name, substr(card_number, 1, 8) AS card_prefix "
            "FROM customers ORDER BY id LIMIT 3",
        },
        "Computing on a protected value is refused (whether it fails or how long it runs could tell the value)",
    ),
    (
        "query",
        {
            "source": "crm",
            "sql": "SELECT id, subject, body FROM support_tickets "
            "WHERE body LIKE '%password%' OR body LIKE '%secret%' ORDER BY id LIMIT 2",
        },
        "Free text is scanned: names, emails, phones and pasted secrets inside it are masked",
    ),
    (
        "query",
        {
            "source": "crm",
            "sql": "SELECT c.email, COUNT(*) AS orders, ROUND(SUM(o.amount), 2) AS total "
            "FROM customers c JOIN orders o ON o.customer_id = c.id "
            "GROUP BY c.email ORDER BY total DESC LIMIT 3",
        },
        "Tokens are joinable: group by a masked column",
    ),
    (
        "query",
        {"source": "crm", "sql": "SELECT first_name, loyalty_tier FROM customers WHERE email = '{token}'"},
        "A token the agent was given works as a literal",
    ),
    ("search", {"query": "refund card", "limit": 3}, "Document search: snippets are masked, refs are opaque"),
    ("read", {"source": "docs", "ref": "{ref}"}, "Reading a whole document, masked"),
    ("query", {"source": "crm", "sql": "DELETE FROM customers"}, "Writes are denied"),
    (
        "query",
        {"source": "crm", "sql": "SELECT id FROM customers WHERE ssn LIKE '9%'"},
        "Probing a masked column with LIKE is denied",
    ),
]


def _text(result: CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


async def _session(config_path: Path) -> None:
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server.cli", "serve", "--config", str(config_path), "--agent", AGENT],
    )
    found = {"token": "", "ref": ""}
    async with Client(server, client_info=Implementation(name="maskwire-demo", version="1")) as client:
        for tool, arguments, caption in SCRIPT:
            arguments = {k: (v.format(**found) if isinstance(v, str) else v) for k, v in arguments.items()}
            shown = arguments.get("sql") or ", ".join(f"{k}={v}" for k, v in arguments.items())
            print(f"\n== {caption}\n-> {tool}({shown})")
            result = await client.call_tool(tool, arguments)
            text = _text(result)
            marker = "ERROR " if result.is_error else ""
            print(textwrap.indent(marker + text, "   "))
            if tool == "query" and not found["token"] and (match := TOKEN.search(text)):
                found["token"] = match.group(0)
            if tool == "search" and (match := DOC_REF.search(text)):
                found["ref"] = match.group(0)


def run_demo(root: Path | None = None) -> int:
    root = root or maskwire_home() / "demo"
    print(f"Building the demo workspace in {root} ...")
    workspace = prepare_demo(root)
    config_path = root / CONFIG_NAME
    print(f"  {workspace.database.name}: customers, products, orders, support_tickets")
    print(f"  {workspace.documents.name}/: {sum(1 for p in workspace.documents.rglob('*') if p.is_file())} files")
    print("Starting `maskwire serve` and connecting an MCP client (loading the NLP pipeline takes a few seconds)")
    started = dt.datetime.now(dt.UTC)
    anyio.run(_session, config_path)

    from mcp_server.ledger.report import render_summary, summarise
    from mcp_server.ledger.store import Ledger

    ledger = Ledger(load_config(config_path).ledger_url)
    try:
        entries = list(ledger.entries(agent=AGENT, since=started))
    finally:
        ledger.dispose()
    print("\n== Usage ledger (maskwire usage --agent demo-agent)")
    print(render_summary(summarise(entries), "table"))
    command = "maskwire" if shutil.which("maskwire") else str(Path(sys.executable).parent / "maskwire")
    print(f"\nServe this workspace to your own client with: {command} serve --config {config_path}")
    return 0
