"""The `maskwire` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mcp_server.config import Config, ConfigError, default_config_path, load_config

if TYPE_CHECKING:
    from mcp_server.runtime import Runtime


def _load(path: str | None) -> Config:
    """The given config, or the demo workspace's (built on first use)."""
    if path:
        return load_config(Path(path))
    default = default_config_path()
    if not default.exists():
        from mcp_server.demo.workspace import prepare_demo

        print(f"No --config given: creating the demo workspace in {default.parent}", file=sys.stderr)
        prepare_demo(default.parent)
    return load_config(default)


def cmd_serve(args: argparse.Namespace) -> int:
    config = _load(args.config)
    from mcp_server.runtime import Runtime
    from mcp_server.server import build_server

    agent = args.agent or os.environ.get("MASKWIRE_AGENT") or None
    runtime = Runtime.start(config, agent=agent)
    try:
        build_server(runtime).run("stdio")
    finally:
        runtime.close()
    return 0


def cmd_usage(args: argparse.Namespace) -> int:
    from mcp_server.ledger.report import parse_since, render_calls, render_summary, summarise
    from mcp_server.ledger.store import Ledger

    config = _load(args.config)
    since = parse_since(args.since) if args.since else None
    ledger = Ledger(config.ledger_url)
    try:
        entries = list(ledger.entries(agent=args.agent, since=since))
    finally:
        ledger.dispose()
    if args.calls:
        print(render_calls(entries, args.format))
    else:
        print(render_summary(summarise(entries), args.format))
    return 0


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from mcp_server.ledger.store import Ledger

    config = _load(args.config)
    ledger = Ledger(config.ledger_url)
    try:
        count, problems = ledger.verify()
    finally:
        ledger.dispose()
    for problem in problems:
        print(problem)
    print(f"{count} rows checked: " + ("chain intact" if not problems else f"{len(problems)} problems"))
    return 0 if not problems else 1


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the config, open every source and print how each column is classified."""
    from mcp_server.runtime import Runtime

    config = _load(args.config)
    runtime = Runtime.start(config)
    failed = False
    try:
        for source in config.sources:
            if source.kind != "sql":
                failed = _check_documents(runtime, source.name) or failed
                continue
            catalog = runtime.service.catalogs.get(source.name)
            if catalog is None:
                print(f"[{source.name}] UNAVAILABLE: {runtime.service.broken_sources.get(source.name)}")
                failed = True
                continue
            try:
                tables = catalog.tables()
            except Exception as exc:
                print(f"[{source.name}] UNAVAILABLE: {exc}")
                failed = True
                continue
            print(f"[{source.name}] {catalog.database.display_url}: {len(tables)} tables")
            for table in tables.values():
                classes = catalog.classify_table(table.name)
                print(f"  {table.name}")
                for column in table.columns:
                    cls = classes[column.name]
                    print(f"    {column.name:<28} {cls.label:<34} ({cls.reason})")
    finally:
        runtime.close()
    return 1 if failed else 0


def _check_documents(runtime: Runtime, name: str) -> bool:
    """Print a document source's state; True when it is unavailable."""
    from connectors.files import FileStore
    from mcp_server.tools.problems import ToolProblem

    docs = runtime.service.documents
    try:
        stats = docs.stats(name, runtime.service.policy_for(None))
    except ToolProblem as exc:
        print(f"[{name}] UNAVAILABLE: {exc}")
        return True
    types = ", ".join(f"{k} {v}" for k, v in sorted(stats.types.items()))
    print(f"[{name}] {stats.documents} documents" + (f", {stats.chunks} chunks ({types})" if stats.chunks else ""))
    store = docs.stores[name]
    if isinstance(store, FileStore):
        for skipped in store.skipped():
            print(f"  skipped {skipped.ref}: {skipped.reason}")
    return False


def cmd_index(args: argparse.Namespace) -> int:
    """Build or refresh the full-text index of every `files` source, with a progress bar."""
    from connectors.files import FileStore
    from mcp_server.config import FilesSource

    config = _load(args.config)
    sources = [s for s in config.sources if isinstance(s, FilesSource) and (not args.source or s.name == args.source)]
    if not sources:
        print("No files sources to index." + (f' (no files source named "{args.source}")' if args.source else ""))
        return 1 if args.source else 0
    for source in sources:
        store = FileStore(
            source.name,
            config.files_root(source),
            config.index_dir / f"{source.name}.sqlite",
            include=source.include,
            exclude=source.exclude,
            max_file_bytes=source.max_file_bytes,
        )
        try:
            report = store.refresh(_progress_bar(source.name))
            stats = store.stats()
        finally:
            store.close()
        print(
            f"\r[{source.name}] {report.files_seen} files seen: {report.files_indexed} indexed, "
            f"{report.files_unchanged} unchanged, {report.files_removed} removed, {len(report.skipped)} skipped; "
            f"{stats['chunks']} chunks in the index ({report.seconds:.1f}s)"
        )
        for skipped in report.skipped:
            print(f"  skipped {skipped.ref}: {skipped.reason}")
    return 0


def _progress_bar(name: str):  # type: ignore[no-untyped-def]
    def show(done: int, total: int, _ref: str) -> None:
        if not sys.stderr.isatty():
            return
        width = 30
        filled = int(width * done / total) if total else width
        sys.stderr.write(f"\r[{name}] [{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
        sys.stderr.flush()

    return show


def cmd_install(args: argparse.Namespace) -> int:
    from mcp_server.install import install, server_entry

    config_path = Path(args.config) if args.config else default_config_path()
    _load(str(config_path) if args.config else None)  # validates the config (and builds the demo if needed)
    agent = args.agent or {"claude": "claude-desktop", "vscode": "vscode", "cursor": "cursor"}[args.client]
    if args.print:
        key = "servers" if args.client == "vscode" else "mcpServers"
        print(json.dumps({key: {"maskwire": server_entry(args.client, config_path, agent)}}, indent=2))
        return 0
    try:
        written = install(args.client, config_path, agent, Path(args.path) if args.path else None)
    except ValueError as exc:
        print(f"maskwire: {exc}", file=sys.stderr)
        return 1
    print(f"Registered maskwire in {written} (agent {agent}). Restart the client to load it.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from mcp_server.demo.session import run_demo

    return run_demo(Path(args.workspace) if args.workspace else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maskwire", description="Masked, read-only data access for AI agents.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="build the demo workspace and run a scripted agent session against it")
    demo.add_argument("--workspace", help="where to build it (default: $MASKWIRE_HOME/demo)")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the MCP server (stdio)")
    serve.add_argument("--config", help="maskwire.toml (default: the demo workspace)")
    serve.add_argument("--transport", choices=["stdio"], default="stdio")
    serve.add_argument("--agent", help="agent name for the ledger (default: $MASKWIRE_AGENT, else the client's name)")
    serve.set_defaults(func=cmd_serve)

    usage = sub.add_parser("usage", help="per-agent usage from the ledger")
    usage.add_argument("--config")
    usage.add_argument("--agent")
    usage.add_argument("--since", help="7d, 12h, 30m or an ISO date")
    usage.add_argument("--calls", action="store_true", help="list calls instead of the per-agent summary")
    usage.add_argument("--format", choices=["table", "json", "csv", "html"], default="table")
    usage.set_defaults(func=cmd_usage)

    ledger = sub.add_parser("ledger", help="ledger maintenance")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True)
    verify = ledger_sub.add_parser("verify", help="check the hash chain")
    verify.add_argument("--config")
    verify.set_defaults(func=cmd_ledger_verify)

    index = sub.add_parser("index", help="build or refresh the full-text index of document folders")
    index.add_argument("--config")
    index.add_argument("--source", help="only this files source")
    index.set_defaults(func=cmd_index)

    install = sub.add_parser("install", help="register the server in Claude Desktop, VS Code or Cursor")
    install.add_argument("client", choices=["claude", "vscode", "cursor"])
    install.add_argument("--config", help="maskwire.toml to serve (default: the demo workspace)")
    install.add_argument("--agent", help="agent name for the ledger (default: the client's name)")
    install.add_argument("--path", help="the client's config file (default: its usual place)")
    install.add_argument("--print", action="store_true", help="print the entry instead of writing it")
    install.set_defaults(func=cmd_install)

    check = sub.add_parser("check", help="validate config, connect to every source, print the column classification")
    check.add_argument("--config")
    check.set_defaults(func=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("MASKWIRE_LOG_LEVEL", "WARNING").upper(),
        stream=sys.stderr,  # stdout carries the MCP protocol under `serve`
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"maskwire: configuration error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from mcp_server.errors import describe_startup_error

        print(f"maskwire: {describe_startup_error(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
