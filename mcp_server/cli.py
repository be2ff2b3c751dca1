"""The `maskwire` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from mcp_server import heap
from mcp_server.config import (
    Config,
    ConfigError,
    config_from_options,
    find_config,
    load_config,
    require_sources,
)
from mcp_server.progress import step

if TYPE_CHECKING:
    from mcp_server.ledger.agents import AgentStore
    from mcp_server.ledger.store import Filters


def _find(path: str | None, *, demo: bool = False) -> Path:
    """The config file named by --config, else $MASKWIRE_CONFIG, else ./maskwire.toml (see `find_config`)."""
    found, how = find_config(path, demo=demo)
    if how == "--demo" and not found.exists():
        from mcp_server.demo.workspace import prepare_demo

        print(f"maskwire: creating the demo workspace in {found.parent}", file=sys.stderr)
        prepare_demo(found.parent)
    elif how.startswith("the demo workspace"):
        print(f"maskwire: no --config, no $MASKWIRE_CONFIG, no ./maskwire.toml: using {how}", file=sys.stderr)
    return found


def _load(path: str | None, *, demo: bool = False) -> Config:
    return load_config(_find(path, demo=demo))


def _sources_config(args: argparse.Namespace) -> Config:
    """For commands that serve or inspect sources: `--dsn`/`--docs` without a file, else the config file.
    Either way it must have at least one source."""
    if args.dsn or args.docs:
        if args.config or args.demo:
            raise ConfigError("--dsn/--docs describe the sources without a config file: leave out --config/--demo")
        return config_from_options(args.dsn or [], args.docs)
    return require_sources(_load(args.config, demo=args.demo))


DEFAULT_HTTP_HOST = "127.0.0.1"
DEFAULT_HTTP_PORT = 8765
NO_TOKENS = (
    "maskwire: refusing to serve over HTTP: no agent has a token, so every request would be refused.\n"
    "Add one with `maskwire agents add NAME --role ROLE` (it prints the token once), or give an "
    "[[agents]] entry a token_sha256 in the config file."
)


def cmd_serve(args: argparse.Namespace) -> int:
    config = _sources_config(args)
    if args.transport == "http":
        port = DEFAULT_HTTP_PORT if args.port is None else args.port
        return _serve_http(config, args.host or DEFAULT_HTTP_HOST, port, args.agent)
    if args.host or args.port is not None:
        print("maskwire: --host and --port are for --transport http", file=sys.stderr)
        return 2
    from mcp_server.runtime import Runtime
    from mcp_server.server import build_server

    agent = args.agent or os.environ.get("MASKWIRE_AGENT") or None
    with step("starting: opening the sources and the ledger"):
        runtime = Runtime.start(config, agent=agent, warm_up_in_background=True)
    try:
        server = build_server(runtime)
        heap.tune()
        server.run("stdio")
    finally:
        runtime.close()
    return 0


def _serve_http(config: Config, host: str, port: int, agent: str | None) -> int:
    """Streamable HTTP: every request needs a bearer token, which names the agent (no --agent, no client name)."""
    import anyio

    from mcp_server.identity import Identities
    from mcp_server.runtime import Runtime
    from mcp_server.server import build_server
    from mcp_server.transports import base_url, serve_http

    if agent:
        print("maskwire: --agent is for stdio; over HTTP each request's bearer token names the agent", file=sys.stderr)
        return 2
    with _agent_store(config) as store:
        if not Identities(config, store).have_tokens():  # fail closed, before loading anything heavy
            print(NO_TOKENS, file=sys.stderr)
            if config.path is None:
                print(
                    "With --dsn there is no config file to name: write one with `maskwire init --dsn URL`, then "
                    "add the agent in that folder.",
                    file=sys.stderr,
                )
            return 2
    with step("starting: opening the sources and the ledger"):
        runtime = Runtime.start(config, warm_up_in_background=True)
    try:
        mcp = build_server(runtime, http_url=base_url(host, port))
        heap.tune()

        def ready(url: str) -> None:
            print(f"maskwire: serving MCP over streamable HTTP at {url} (bearer token required)", file=sys.stderr)
            if not _is_loopback(host):
                print(
                    "maskwire: this is plain HTTP on a non-loopback address: tokens and results cross the network "
                    "unencrypted unless a TLS-terminating reverse proxy is in front",
                    file=sys.stderr,
                )

        anyio.run(lambda: serve_http(mcp, host, port, on_ready=ready))
    finally:
        runtime.close()
    return 0


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: assume it may be reachable from elsewhere
        return False


@contextmanager
def _agent_store(config: Config) -> Iterator[AgentStore]:
    """The agents table in the ledger database."""
    from mcp_server.ledger.agents import AgentStore
    from mcp_server.ledger.store import Ledger

    ledger = Ledger(config.ledger_url)
    try:
        yield AgentStore(ledger.engine)
    finally:
        ledger.dispose()


def cmd_agents_add(args: argparse.Namespace) -> int:
    from mcp_server.identity import new_token, token_sha256

    config = _load(args.config, demo=args.demo)
    name = args.name
    if not name or len(name) > 200 or name != name.strip() or not name.isprintable():
        print("maskwire: an agent name is 1 to 200 printable characters, without spaces around it", file=sys.stderr)
        return 2
    if args.role not in config.role_names:
        roles = ", ".join(sorted(config.role_names))
        print(f'maskwire: role "{args.role}" is not defined in the config file (roles: {roles})', file=sys.stderr)
        return 2
    if config.agent(name) is not None:
        print(f'maskwire: agent "{name}" is declared in the config file; give it a token_sha256 there', file=sys.stderr)
        return 2
    token = new_token()
    with _agent_store(config) as store:
        store.add(
            name,
            args.role,
            token_sha256(token),
            calls_per_hour=args.calls_per_hour,
            tokens_out_per_day=args.tokens_out_per_day,
        )
    print(
        f'Agent "{name}" added with role "{args.role}". Its bearer token follows; it is shown this once '
        "(only its SHA-256 is kept). Send it as `Authorization: Bearer <token>`.",
        file=sys.stderr,
    )
    print(token)
    return 0


def cmd_agents_list(args: argparse.Namespace) -> int:
    from mcp_server.ledger.report import text_table

    config = _load(args.config, demo=args.demo)
    with _agent_store(config) as store:
        stored = store.all()
    rows: list[dict[str, object]] = []
    for entry in config.agents:
        quotas = entry.quotas
        rows.append(
            {
                "name": entry.name,
                "role": entry.role,
                "declared_in": "config",
                "created": None,
                "revoked": None,
                "http": entry.token_sha256 is not None,
                "calls_per_hour": quotas.calls_per_hour,
                "tokens_out_per_day": quotas.tokens_out_per_day,
            }
        )
    for agent in stored:
        rows.append(
            {
                "name": agent.name,
                "role": agent.role,
                "declared_in": "agents table",
                "created": agent.created,
                "revoked": agent.revoked,
                "http": agent.active and config.agent(agent.name) is None,
                "calls_per_hour": agent.calls_per_hour,
                "tokens_out_per_day": agent.tokens_out_per_day,
            }
        )
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No agents. Add one with `maskwire agents add NAME --role ROLE`.")
        return 0
    headers = ("agent", "role", "declared in", "created", "revoked", "http", "calls/hour", "tokens out/day")
    print(text_table(headers, [[_cell(value) for value in row.values()] for row in rows]))
    return 0


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def cmd_agents_revoke(args: argparse.Namespace) -> int:
    config = _load(args.config, demo=args.demo)
    with _agent_store(config) as store:
        revoked = store.revoke(args.name)
    if revoked:
        print(f'Agent "{args.name}" revoked: its token is refused from its next request on.')
        return 0
    if config.agent(args.name) is not None:
        print(
            f'maskwire: agent "{args.name}" is declared in the config file: remove its token_sha256 there and '
            "restart the server",
            file=sys.stderr,
        )
    else:
        print(f'maskwire: no active agent named "{args.name}" in the agents table', file=sys.stderr)
    return 1


def _filters(args: argparse.Namespace) -> Filters:
    from mcp_server.ledger.report import parse_since
    from mcp_server.ledger.store import Filters

    try:
        since = parse_since(args.since) if args.since else None
        until = parse_since(args.until) if args.until else None
    except ValueError as exc:
        raise _UsageError(f"--since/--until {exc}") from None
    return Filters(agent=args.agent, since=since, until=until, tool=args.tool, status=args.status)


class _UsageError(Exception):
    """A command-line value that cannot be used (printed as it is, exit code 2)."""


def cmd_usage(args: argparse.Namespace) -> int:
    from mcp_server.ledger.deployment import open_ledger
    from mcp_server.ledger.report import render_summary, write_calls
    from mcp_server.ledger.summary import call_widths, totals, usage_by_agent

    config = _load(args.config, demo=args.demo)
    try:
        filters = _filters(args)
    except _UsageError as exc:
        print(f"maskwire: {exc}", file=sys.stderr)
        return 2
    ledger = open_ledger(config)
    try:
        if not args.calls:
            print(render_summary(usage_by_agent(ledger, filters), args.format, filters))
            return 0
        widths = call_widths(ledger, filters) if args.format == "table" else None
        heading = totals(ledger, filters) if args.format in ("table", "html") else None
        write_calls(
            ledger.entries(filters=filters), args.format, sys.stdout, totals=heading, filters=filters, widths=widths
        )
    finally:
        ledger.dispose()
    return 0


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from mcp_server.ledger.checkpoints import CheckpointFile
    from mcp_server.ledger.deployment import open_ledger
    from mcp_server.ledger.verify import verify_ledger

    config = _load(args.config, demo=args.demo)
    files = (
        [CheckpointFile(Path(p)) for p in args.checkpoints]
        if args.checkpoints
        else [CheckpointFile(config.checkpoint_file)]
    )
    ledger = open_ledger(config, create_tables=False)
    try:
        lines = [line for file in files for line in file.lines()]
        report = verify_ledger(ledger, lines)
    finally:
        ledger.dispose()
    if args.format == "json":
        print(
            json.dumps(
                {
                    "intact": report.intact,
                    "rows": report.rows,
                    "last_id": report.last_id,
                    "unkeyed_rows": report.unkeyed_rows,
                    "checkpoints": report.checkpoints,
                    "latest_checkpoint": report.latest_checkpoint.time if report.latest_checkpoint else None,
                    "first_bad_id": report.first_bad_id,
                    "problems": report.problems,
                    "problems_not_listed": report.unlisted,
                    "notes": report.notes,
                },
                indent=2,
            )
        )
        return 0 if report.intact else 1
    for problem in report.problems:
        print(problem)
    if report.unlisted:
        print(f"... and {report.unlisted} more problems")
    latest = report.latest_checkpoint
    anchored = f"latest checkpoint {latest.time} (row {latest.last_id})" if latest else "no checkpoint"
    print(f"{report.rows} rows checked, {report.checkpoints} checkpoints, {anchored}")
    for note in report.notes:
        print(f"note: {note}")
    if report.intact:
        print("chain intact")
        return 0
    total = len(report.problems) + report.unlisted
    first = f"; first bad row: id {report.first_bad_id}" if report.first_bad_id is not None else ""
    print(f"NOT INTACT: {total} problems{first}")
    return 1


def cmd_ledger_checkpoint(args: argparse.Namespace) -> int:
    from mcp_server.ledger.checkpoints import CheckpointFile, write_checkpoint
    from mcp_server.ledger.deployment import checkpoint_sinks, open_ledger

    config = _load(args.config, demo=args.demo)
    file = CheckpointFile(Path(args.to)) if args.to else CheckpointFile(config.checkpoint_file)
    ledger = open_ledger(config)
    sinks = checkpoint_sinks(config)
    try:
        checkpoint = write_checkpoint(ledger, file, sinks)
    finally:
        ledger.dispose()
        for sink in sinks:
            sink.close()
    print(f"Checkpoint of row {checkpoint.last_id} ({checkpoint.count} rows) appended to {file.path}:", file=sys.stderr)
    print(checkpoint.line())
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """A new masking key, on purpose: the vault re-keyed (or emptied), the fingerprints updated, the old key kept."""
    import datetime as dt
    import secrets

    from mcp_server.ledger.deployment import open_ledger
    from mcp_server.ledger.entry import LedgerEntry
    from mcp_server.ledger.keys import fingerprint
    from mcp_server.masking.pseudonyms import KEY_FILE, load_or_create_key
    from mcp_server.masking.vault import TokenVault
    from mcp_server.paths import private_file

    config = _load(args.config, demo=args.demo)
    if args.key != "masking":
        print(
            "maskwire: the ledger key is not rotated in place (every row is chained under it): start a new ledger "
            "database with a new key, and keep the old database, key and checkpoints to verify the old chain",
            file=sys.stderr,
        )
        return 2
    if config.masking.key is not None:
        print(
            "maskwire: the masking key is set in the config ([masking] key): rotation writes the key file in the "
            "state dir; remove [masking] key first (or keep the configured key)",
            file=sys.stderr,
        )
        return 2
    path = config.state_dir / KEY_FILE
    if not path.exists():
        print(f"maskwire: {path} does not exist: there is no masking key to rotate", file=sys.stderr)
        return 1
    old = load_or_create_key(None, config.state_dir)
    new = secrets.token_hex(32).encode("ascii")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    pending = path.with_name(f"{KEY_FILE}.new")
    private_file(pending, new + b"\n")  # kept until the key file is replaced, should anything below fail
    ledger = open_ledger(config, masking_key=old, serving=False)
    try:
        values = 0
        if config.masking.token_vault:
            vault = TokenVault(config.token_vault_url, old, check_key=True)
            try:
                values = vault.retire(new) if args.retire_old_tokens else vault.rekey(new)
            finally:
                vault.close()
        action = "retired" if args.retire_old_tokens else "re-keyed"
        audit = LedgerEntry(
            agent="(operator)",
            tool="keys rotate",
            status="ok",
            arguments={"key": "masking", "old": fingerprint(old), "new": fingerprint(new), "vault": action},
            rows=values,
        )
        ledger.record_masking_key(fingerprint(new), audit)
    finally:
        ledger.dispose()
    retired = path.with_name(f"{KEY_FILE}.retired-{stamp}")
    os.replace(path, retired)
    os.replace(pending, path)
    print(
        f"New masking key {fingerprint(new)} in {path} (the old one, {fingerprint(old)}, is kept in {retired.name}). "
        + (
            f"Token vault: {values} values forgotten; tokens issued before now no longer resolve."
            if args.retire_old_tokens
            else f"Token vault: {values} values re-encrypted; tokens issued before now still resolve as literals, "
            "but the same value gets a new token from now on."
        )
        + " Restart every server that uses this state dir."
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the config, open every source and print how each column is classified."""
    from mcp_server.source_report import inspect_sources

    config = _sources_config(args)
    if config.path is not None:
        print(f"config: {config.path}")
    failed = 0
    for report in inspect_sources(config):
        if not report.ok:
            failed += 1
            print(f"[{report.name}] UNAVAILABLE ({report.where}): {report.problem}", flush=True)
            continue
        print(f"[{report.name}] ok: {report.where}: {report.summary}")
        for table, columns in report.tables.items():
            print(f"  {table}")
            for column in columns:
                decision = column.decision
                print(f"    {column.name:<28} {decision.label:<34} ({decision.reason})")
        for note in report.notes:
            print(f"  {note}")
        sys.stdout.flush()
    total = len(config.sources)
    print(f"{total - failed} of {total} sources ok" + (f"; {failed} unavailable" if failed else ""))
    return 1 if failed else 0


def cmd_index(args: argparse.Namespace) -> int:
    """Build or refresh the full-text index of every indexed document source, with a progress bar."""
    from typing import cast

    from connectors.base import ConnectorError, IndexedSource
    from mcp_server.sources import registry

    config = require_sources(_load(args.config, demo=args.demo))
    sources = [
        s for s in config.sources if registry.kind(s.kind).indexed and (not args.source or s.name == args.source)
    ]
    if not sources:
        print("No files sources to index." + (f' (no files source named "{args.source}")' if args.source else ""))
        return 1 if args.source else 0
    failed = 0
    for source in sources:
        try:
            store = cast(IndexedSource, registry.kind(source.kind).open(config, source))
        except ConnectorError as exc:  # the folder is missing, the index unusable...: say so, index the others
            print(f"maskwire: {exc}", file=sys.stderr)
            failed += 1
            continue
        try:
            if sys.stderr.isatty():
                report = store.refresh(_progress_bar(source.name))
            else:  # a log, not a terminal: one line when it takes long, none of the bar's carriage returns
                with step(f"[{source.name}] indexing"):
                    report = store.refresh()
            stats = store.stats()
        finally:
            store.close()
        print(
            f"\r[{source.name}] {report.files_seen} files seen: {report.files_indexed} indexed, "
            f"{report.files_unchanged} unchanged, {report.files_removed} removed, {len(report.skipped)} skipped; "
            f"{stats.chunks} chunks in the index ({report.seconds:.1f}s)"
        )
        for skipped in report.skipped:
            print(f"  skipped {skipped.ref}: {skipped.reason}")
    return 1 if failed else 0


def _progress_bar(name: str) -> Callable[[int, int, str], None]:
    def show(done: int, total: int, _ref: str) -> None:
        if not sys.stderr.isatty():
            return
        width = 30
        filled = int(width * done / total) if total else width
        sys.stderr.write(f"\r[{name}] [{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
        sys.stderr.flush()

    return show


def cmd_install(args: argparse.Namespace) -> int:
    from mcp_server.install import DEFAULT_AGENT, install, remote_entry, server_entry, servers_key, token_hint

    client = args.client
    if args.http:
        if args.config or args.demo or args.dsn or args.docs or args.agent:
            print(
                "maskwire: --http registers a remote server: its agent is named by the token, and its sources "
                "by its own config (leave out --config, --demo, --dsn, --docs and --agent)",
                file=sys.stderr,
            )
            return 2
        entry = remote_entry(client, args.http, args.token_env)
    else:
        agent = args.agent or DEFAULT_AGENT[client]
        if args.dsn or args.docs:
            serve_args = _dsn_serve_args(_sources_config(args))
            if serve_args is None:
                print(
                    "maskwire: a --dsn URL with a password would be written into the client's file and shown in "
                    "its command line: write a config instead (`maskwire init --dsn URL`, created 0600) and "
                    "install that",
                    file=sys.stderr,
                )
                return 2
            entry = server_entry(client, None, agent, serve_args)
        else:
            found = _find(args.config, demo=args.demo)
            require_sources(load_config(found))
            entry = server_entry(client, found, agent)
    if args.print:
        print(json.dumps({servers_key(client): {"maskwire": entry}}, indent=2))
        return 0
    try:
        written = install(client, entry, Path(args.path) if args.path else None)
    except ValueError as exc:
        print(f"maskwire: {exc}", file=sys.stderr)
        return 1
    print(f"Registered maskwire in {written}. Restart the client (or reload its MCP servers) to load it.")
    if args.http:
        print(token_hint(client, args.token_env))
    return 0


def _dsn_serve_args(config: Config) -> list[str] | None:
    """`serve` options for a --dsn/--docs config, with absolute paths and the sources' names; None when a URL
    carries a password."""
    from sqlalchemy.engine import make_url

    from mcp_server.config import FilesSource, SqlSource

    options: list[str] = []
    for source in config.sources:
        if isinstance(source, SqlSource):
            if make_url(source.url).password is not None:
                return None
            options += ["--dsn", f"{source.name}={source.url}"]
        elif isinstance(source, FilesSource):
            options += ["--docs", str(source.path)]
    return options


def cmd_init(args: argparse.Namespace) -> int:
    from mcp_server.init_config import ask_sources, run_init

    dsns, docs = list(args.dsn or []), list(args.docs or [])
    if not dsns and not docs:
        if not sys.stdin.isatty():
            print(
                "maskwire: init needs --dsn URL (repeatable) and/or --docs FOLDER, or a terminal to ask on",
                file=sys.stderr,
            )
            return 2
        dsns, docs = ask_sources()
    return run_init(dsns, docs, Path(args.output), force=args.force)


def cmd_demo(args: argparse.Namespace) -> int:
    from mcp_server.demo.session import run_demo

    return run_demo(Path(args.workspace) if args.workspace else None)


CONFIG_HELP = "maskwire.toml (default: $MASKWIRE_CONFIG, else ./maskwire.toml)"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _config_options(parser: argparse.ArgumentParser, *, sources: bool = False) -> None:
    """--config and --demo; with `sources`, also --dsn/--docs to name the sources without a file."""
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--demo", action="store_true", help="use the demo workspace (built on first use)")
    if sources:
        parser.add_argument(
            "--dsn",
            action="append",
            metavar="URL",
            help="a database to serve without a config file (repeatable; name=URL names the source)",
        )
        parser.add_argument("--docs", action="append", metavar="FOLDER", help="a folder of documents (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maskwire", description="Masked, read-only data access for AI agents.")
    parser.add_argument("--version", action="version", version=f"maskwire {_version()}")
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        help="log detail on stderr (default: $MASKWIRE_LOG_LEVEL, else WARNING)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="connect to your databases and folders and write a commented maskwire.toml")
    init.add_argument("--dsn", action="append", metavar="URL", help="a database URL (repeatable; name=URL names it)")
    init.add_argument("--docs", action="append", metavar="FOLDER", help="a folder of documents (repeatable)")
    init.add_argument("--output", default="maskwire.toml", help="the file to write (default: ./maskwire.toml)")
    init.add_argument("--force", action="store_true", help="replace the file if it exists")
    init.set_defaults(func=cmd_init)

    demo = sub.add_parser("demo", help="build the demo workspace and run a scripted agent session against it")
    demo.add_argument("--workspace", help="where to build it (default: $MASKWIRE_HOME/demo)")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the MCP server (stdio, or streamable HTTP with bearer tokens)")
    _config_options(serve, sources=True)
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", help=f"HTTP: address to bind (default {DEFAULT_HTTP_HOST})")
    serve.add_argument("--port", type=_port, help=f"HTTP: port (default {DEFAULT_HTTP_PORT}; 0 picks a free one)")
    serve.add_argument(
        "--agent", help="stdio: agent name for the ledger (default: $MASKWIRE_AGENT, else the client's name)"
    )
    serve.set_defaults(func=cmd_serve)

    agents = sub.add_parser("agents", help="agents and their bearer tokens for serve --transport http")
    agents_sub = agents.add_subparsers(dest="agents_command", required=True)
    add = agents_sub.add_parser("add", help="add an agent and print its new token (once)")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="a role defined in the config file, or default")
    add.add_argument("--calls-per-hour", type=_positive, help="quota: tool calls per clock hour (UTC)")
    add.add_argument("--tokens-out-per-day", type=_positive, help="quota: output tokens per day (UTC)")
    _config_options(add)
    add.set_defaults(func=cmd_agents_add)
    listing = agents_sub.add_parser("list", help="agents, roles and quotas (never tokens)")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    _config_options(listing)
    listing.set_defaults(func=cmd_agents_list)
    revoke = agents_sub.add_parser("revoke", help="revoke an agent's token")
    revoke.add_argument("name")
    _config_options(revoke)
    revoke.set_defaults(func=cmd_agents_revoke)

    usage = sub.add_parser("usage", help="per-agent usage from the ledger, or the calls themselves")
    _config_options(usage)
    usage.add_argument("--agent")
    usage.add_argument("--since", help="7d, 12h, 30m or an ISO date")
    usage.add_argument("--until", help="7d, 12h, 30m or an ISO date (calls before it)")
    usage.add_argument("--tool", help="only calls of this tool")
    usage.add_argument("--status", choices=["ok", "denied", "error", "over_quota"], help="only calls with this outcome")
    usage.add_argument("--calls", action="store_true", help="list calls instead of the per-agent summary")
    usage.add_argument("--format", choices=["table", "json", "csv", "html"], default="table")
    usage.set_defaults(func=cmd_usage)

    ledger = sub.add_parser("ledger", help="ledger maintenance")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True)
    verify = ledger_sub.add_parser("verify", help="check the keyed chain and the signed checkpoints")
    _config_options(verify)
    verify.add_argument(
        "--checkpoints",
        action="append",
        metavar="FILE",
        help="checkpoint file(s) to check against (default: the configured one); repeat for copies kept elsewhere",
    )
    verify.add_argument("--format", choices=["text", "json"], default="text")
    verify.set_defaults(func=cmd_ledger_verify)
    checkpoint = ledger_sub.add_parser("checkpoint", help="sign the ledger's head now and append it to the checkpoints")
    _config_options(checkpoint)
    checkpoint.add_argument("--to", metavar="FILE", help="checkpoint file (default: the configured one)")
    checkpoint.set_defaults(func=cmd_ledger_checkpoint)

    keys = sub.add_parser("keys", help="key management")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser("rotate", help="replace the masking key on purpose (the vault is re-keyed)")
    rotate.add_argument("key", choices=["masking", "ledger"])
    rotate.add_argument(
        "--retire-old-tokens",
        action="store_true",
        help="empty the token vault instead of re-keying it: tokens issued so far stop resolving",
    )
    _config_options(rotate)
    rotate.set_defaults(func=cmd_keys_rotate)

    index = sub.add_parser("index", help="build or refresh the full-text index of document folders")
    _config_options(index)
    index.add_argument("--source", help="only this files source")
    index.set_defaults(func=cmd_index)

    from mcp_server.install import CLIENTS, DEFAULT_TOKEN_ENV

    install = sub.add_parser("install", help="register the server in an MCP client (Claude, VS Code, Cursor, ...)")
    install.add_argument("client", choices=CLIENTS)
    _config_options(install, sources=True)
    install.add_argument("--agent", help="agent name for the ledger (default: the client's name)")
    install.add_argument("--http", metavar="URL", help="register a remote `serve --transport http` at URL instead")
    install.add_argument(
        "--token-env",
        default=DEFAULT_TOKEN_ENV,
        help=f"with --http: the environment variable holding the agent's token (default {DEFAULT_TOKEN_ENV})",
    )
    install.add_argument("--path", help="the client's config file (default: its usual place)")
    install.add_argument("--print", action="store_true", help="print the entry instead of writing it")
    install.set_defaults(func=cmd_install)

    check = sub.add_parser("check", help="validate config, connect to every source, print the column classification")
    _config_options(check, sources=True)
    check.set_defaults(func=cmd_check)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("maskwire")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown (not installed)"


def _setup_logging(option: str | None) -> str | None:
    """--log-level, else $MASKWIRE_LOG_LEVEL, else WARNING; returns an error message for a bad value."""
    level = (option or os.environ.get("MASKWIRE_LOG_LEVEL") or "WARNING").upper()
    problem = None
    if level not in LOG_LEVELS:
        problem = f"MASKWIRE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}"
        level = "WARNING"
    logging.basicConfig(
        level=level,
        stream=sys.stderr,  # stdout carries the MCP protocol under `serve`
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return problem


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.func is not cmd_serve:  # a server collects again once it is built (`heap.tune`)
        heap.resume()
    problem = _setup_logging(args.log_level)
    if problem:
        print(f"maskwire: {problem}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"maskwire: configuration error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `maskwire usage --calls | head`: the reader has gone; nothing left to say
        _silence_stdout()
        return 141
    except Exception as exc:
        from mcp_server.errors import describe_startup_error

        print(f"maskwire: {describe_startup_error(exc)}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run() -> None:
    """The `maskwire` console script."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        code = 141
    sys.exit(code)


if __name__ == "__main__":
    run()
