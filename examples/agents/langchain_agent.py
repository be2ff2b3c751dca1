"""A LangChain agent that reads the demo CRM through Maskwire and only ever sees masked data.

langchain-mcp-adapters needs mcp 1.x and Maskwire needs mcp 2.x, so the two live in separate virtual
environments: this script runs in `.venv-langchain` and starts `maskwire serve` (from Maskwire's own `.venv`)
as a subprocess that it talks to over stdio. Every call is recorded in Maskwire's ledger under the agent
name `langchain-example`.

Run it with make, which builds `.venv-langchain` and serves the demo workspace (`$MASKWIRE_HOME/demo`):

    make langchain-example

or by hand:

    python3 -m venv .venv-langchain
    .venv-langchain/bin/pip install -r examples/agents/requirements-langchain.txt
    .venv-langchain/bin/python examples/agents/langchain_agent.py [--config maskwire.toml] [--maskwire PATH]

Without a chat model (the default here: no API key is set), it makes a short scripted sequence of real tool
calls through the LangChain tool objects (list_sources, describe, query, a query that passes a token back as
a literal, search, read, and a write that is denied) and prints exactly what an agent would receive.

With a chat model it runs a LangChain agent (`langchain.agents.create_agent`) on a question over the CRM.
The model is the first of: `--model provider:name` (any model `init_chat_model` knows whose integration is
installed), `anthropic:claude-sonnet-4-5` when ANTHROPIC_API_KEY is set, `openai:gpt-4.1-mini` when
OPENAI_API_KEY is set:

    ANTHROPIC_API_KEY=... .venv-langchain/bin/python examples/agents/langchain_agent.py
    OPENAI_API_KEY=... .venv-langchain/bin/python examples/agents/langchain_agent.py --question "..."

`--scripted` makes the scripted calls even when a key is set. Afterwards, see what was recorded with

    .venv/bin/maskwire usage --agent langchain-example
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.sessions import StdioConnection
from langchain_mcp_adapters.tools import load_mcp_tools

AGENT_NAME = "langchain-example"
REPO = Path(__file__).resolve().parent.parent.parent  # this checkout, when run from examples/agents/

DEFAULT_MODELS = {"ANTHROPIC_API_KEY": "anthropic:claude-sonnet-4-5", "OPENAI_API_KEY": "openai:gpt-4.1-mini"}
DEFAULT_QUESTION = (
    "Which three customers have spent the most on orders? For each, give their loyalty tier, their city "
    "and the total they spent."
)
SYSTEM_PROMPT = """\
You answer questions from a company's data through read-only tools. Start with list_sources and describe
before you write SQL. Personal data comes back as tokens such as <EMAIL_ADDRESS:7f3a9c2e1b0d>; the same value
always gets the same token, so you can group, join and count by them, and you can pass a token back verbatim
as a literal (WHERE email = '<EMAIL_ADDRESS:...>'). Never guess the value behind a token: refer to people by
their tokens in your answer."""


def maskwire_server(maskwire: str, config: Path | None) -> StdioConnection:
    """How langchain-mcp-adapters starts Maskwire: `maskwire serve` as a subprocess speaking MCP over stdio."""
    args = ["serve", "--agent", AGENT_NAME]
    if config is not None:
        args += ["--config", str(config.resolve())]
    # The server inherits this environment, so ${NAME} in maskwire.toml resolves as it does in your shell.
    return {"transport": "stdio", "command": maskwire, "args": args, "env": dict(os.environ)}


def signature(tool: BaseTool) -> str:
    """`query(source, sql, max_rows?, cursor?)`: the tool's arguments as the model sees them in its schema."""
    schema = tool.args_schema if isinstance(tool.args_schema, dict) else {}
    required = set(schema.get("required", []))
    return f"{tool.name}({', '.join(name if name in required else f'{name}?' for name in tool.args)})"


async def call(tools: dict[str, BaseTool], name: str, arguments: dict[str, Any], caption: str) -> dict[str, Any]:
    """Call one tool the way an agent does and print what the model would read; return its structured result."""
    print(f"\n== {caption}\n-> {name}({json.dumps(arguments, ensure_ascii=False)})")
    tool_call = ToolCall(name=name, args=arguments, id=f"call-{name}", type="tool_call")
    message: ToolMessage = await tools[name].ainvoke(tool_call)
    marker = "ERROR " if message.status == "error" else ""
    print(textwrap.indent(marker + message.text, "   "))
    # A successful call carries the tool's structuredContent as the message's artifact.
    return (message.artifact or {}).get("structured_content") or {}


async def scripted_session(tools: dict[str, BaseTool]) -> None:
    """Real tool calls without a model: the steps an agent would take, with values picked from earlier results."""
    await call(tools, "list_sources", {}, "What can I read?")
    await call(tools, "describe", {"source": "crm", "table": "customers"}, "How is the customers table masked?")
    customers = await call(
        tools,
        "query",
        {"source": "crm", "sql": "SELECT id, first_name, last_name, email, city FROM customers ORDER BY id LIMIT 3"},
        "Personal columns come back as tokens",
    )
    email = customers["rows"][0][[column["name"] for column in customers["columns"]].index("email")]
    await call(
        tools,
        "query",
        {"source": "crm", "sql": f"SELECT id, loyalty_tier, city FROM customers WHERE email = '{email}'"},
        "A token the agent was given works as a literal",
    )
    found = await call(tools, "search", {"query": "refund card", "limit": 3}, "Document search: masked snippets")
    await call(tools, "read", {"source": "docs", "ref": found["hits"][0]["ref"]}, "Reading a whole document, masked")
    await call(
        tools,
        "query",
        {"source": "crm", "sql": "DELETE FROM customers"},
        "Writes are denied with a message the model can act on",
    )


async def agent_session(model: str, tools: list[BaseTool], question: str) -> None:
    """A LangChain agent (a LangGraph ReAct loop) that decides which Maskwire tools to call."""
    from langchain.agents import create_agent

    agent = create_agent(model, tools, system_prompt=SYSTEM_PROMPT)
    print(f"\nAsking {model}: {question}")
    inputs = {"messages": [{"role": "user", "content": question}]}
    async for step in agent.astream(inputs, {"recursion_limit": 30}, stream_mode="updates"):
        for update in step.values():
            for message in (update or {}).get("messages", []):
                message.pretty_print()


async def main(args: argparse.Namespace) -> None:
    client = MultiServerMCPClient({"maskwire": maskwire_server(args.maskwire, args.config)})
    # One session for the whole run: one server process (client.get_tools() would start one per call).
    async with client.session("maskwire") as session:
        tools = await load_mcp_tools(session, server_name="maskwire")
        print(f"Loaded {len(tools)} tools from Maskwire:")
        for tool in tools:
            read_only = "read-only" if (tool.metadata or {}).get("readOnlyHint") else "may write"
            first_sentence = " ".join(tool.description.split()).split(". ")[0].rstrip(".")
            print(f"  {signature(tool)}  [{read_only}]  {first_sentence}.")
        model = None if args.scripted else choose_model(args.model)
        if model is None:
            print("\nNo chat model configured (set ANTHROPIC_API_KEY or OPENAI_API_KEY, or pass --model):")
            print("making scripted calls through the LangChain tools instead.")
            await scripted_session({tool.name: tool for tool in tools})
        else:
            await agent_session(model, tools, args.question)
    print(f"\nEvery call is in Maskwire's ledger: maskwire usage --agent {AGENT_NAME}")


def choose_model(explicit: str | None) -> str | None:
    """`--model` if given, else a default for the first provider whose API key is set, else None (no model)."""
    if explicit:
        return explicit
    return next((model for key, model in DEFAULT_MODELS.items() if os.environ.get(key)), None)


def default_maskwire() -> str | None:
    """Maskwire from this checkout's .venv, else `maskwire` on PATH."""
    local = REPO / ".venv" / "bin" / "maskwire"
    return str(local) if local.exists() else shutil.which("maskwire")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="maskwire.toml to serve (default: the demo workspace)")
    parser.add_argument("--maskwire", default=default_maskwire(), help="the maskwire executable (in Maskwire's venv)")
    parser.add_argument("--model", help="chat model as provider:name, e.g. anthropic:claude-sonnet-4-5")
    parser.add_argument("--question", default=DEFAULT_QUESTION, help="what to ask the agent")
    parser.add_argument("--scripted", action="store_true", help="make the scripted calls even if a model is set")
    args = parser.parse_args()
    if not args.maskwire:
        parser.error("maskwire not found: pass --maskwire /path/to/maskwire/.venv/bin/maskwire")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
