"""OpenTelemetry traces: off by default, one SERVER span per request when on, and never a raw value in a span.

The spans are exported for real: through the SDK's in-memory exporter, and over OTLP/HTTP to a collector
stand-in on localhost that decodes what it receives with the OTLP protobuf definitions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from mcp import Client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from mcp_server.config import ConfigError, TelemetrySettings, load_config
from mcp_server.demo.workspace import prepare_demo
from mcp_server.runtime import Runtime
from mcp_server.server import build_server
from mcp_server.telemetry import Tracing, _request_id

SEEDED = ("ann.secret@example.com", "Zebulon Quattlebaum", "555-01-9911")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    prepare_demo(tmp_path)
    return tmp_path / "maskwire.toml"


def _runtime(config_path: Path, exporter: InMemorySpanExporter | None, endpoint: str | None = None) -> Runtime:
    config = load_config(config_path)
    config = config.model_copy(update={"telemetry": TelemetrySettings(enabled=endpoint is not None, endpoint=endpoint)})
    runtime = Runtime.start(config, agent="traced-agent")
    if exporter is not None:  # the in-memory exporter in place of OTLP
        runtime.tracing = Tracing.start(TelemetrySettings(enabled=True), exporter=exporter)
    return runtime


async def _calls(runtime: Runtime) -> None:
    async with Client(build_server(runtime)) as client:
        await client.call_tool(
            "query", {"source": "crm", "sql": "SELECT email, last_name, loyalty_tier FROM customers LIMIT 3"}
        )
        # values an agent might push through every argument and the tool name itself
        await client.call_tool(
            "query", {"source": "crm", "sql": f"SELECT * FROM customers WHERE email = '{SEEDED[0]}' AND x = ("}
        )
        await client.call_tool(SEEDED[1], {"ssn": SEEDED[2]})
        await client.call_tool("describe", {"source": SEEDED[0]})
        await client.call_tool("list_sources", {}, meta={"traceparent": PARENT})


def _everything(span: ReadableSpan) -> str:
    """Every string a span exports: name, attributes, status, events, resource."""
    return json.dumps(
        {
            "name": span.name,
            "attributes": dict(span.attributes or {}),
            "status": span.status.description,
            "events": [(e.name, dict(e.attributes or {})) for e in span.events],
            "resource": dict(span.resource.attributes),
        },
        default=str,
    )


async def test_off_by_default_and_the_sdk_spans_are_removed(workspace: Path) -> None:
    runtime = _runtime(workspace, exporter=None)
    try:
        assert runtime.tracing is None
        server = build_server(runtime)
        names = [type(m).__name__ for m in server.middleware]
        # The SDK's own span middleware would name spans after any tool name a client sends.
        assert "OpenTelemetryMiddleware" not in names and "SpanMiddleware" not in names
    finally:
        runtime.close()


async def test_a_span_per_call_with_the_ledger_figures_and_no_value(workspace: Path) -> None:
    exporter = InMemorySpanExporter()
    runtime = _runtime(workspace, exporter)
    try:
        await _calls(runtime)
        entries = list(runtime.ledger.entries())
    finally:
        runtime.close()
    spans = exporter.get_finished_spans()
    calls = [s for s in spans if s.attributes and s.attributes.get("mcp.method.name") == "tools/call"]
    assert len(calls) == 5 == len(entries)
    assert all(s.kind is SpanKind.SERVER for s in spans)
    assert len({s.attributes["mcp.method.name"] for s in spans}) > 1  # the handshake and listing too

    for span, entry in zip(calls, entries, strict=True):
        attributes = span.attributes or {}
        assert attributes["maskwire.ledger.id"] == entry.id
        assert attributes["gen_ai.operation.name"] == "execute_tool"
        assert attributes["gen_ai.agent.name"] == "traced-agent"
        assert attributes["gen_ai.usage.input_tokens"] == entry.tokens_in
        assert attributes["gen_ai.usage.output_tokens"] == entry.tokens_out
        assert attributes["network.transport"] == "pipe"
        assert attributes["maskwire.call.status"] == entry.status

    ok, refused, unknown, bad_source, listed = calls
    assert ok.name == "tools/call query" and ok.status.status_code is StatusCode.UNSET
    assert ok.attributes["maskwire.call.entities_masked"] > 0 and ok.attributes["maskwire.call.rows"] == 3
    assert refused.status.status_code is StatusCode.ERROR
    assert refused.attributes["error.type"] == "SqlDenied.parse_error"
    assert unknown.name == "tools/call"  # an unknown tool name is not in the span name
    assert unknown.attributes["gen_ai.tool.name"].startswith("<")
    assert unknown.status.status_code is StatusCode.ERROR
    assert bad_source.status.status_code is StatusCode.ERROR
    assert listed.context.trace_id == int(TRACE_ID, 16)  # parented on the client's traceparent
    assert listed.parent is not None and listed.parent.span_id == int("00f067aa0ba902b7", 16)

    exported = "\n".join(_everything(s) for s in spans)
    for value in SEEDED:
        assert value not in exported and value.lower() not in exported.lower()
    assert "x = (" not in exported  # no SQL, no argument, no message


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        type(self).received.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[bytes]]]:
    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", _Collector.received
    server.shutdown()


async def test_spans_are_exported_over_otlp_http(workspace: Path, collector: tuple[str, list[bytes]]) -> None:
    endpoint, received = collector
    runtime = _runtime(workspace, exporter=None, endpoint=endpoint)
    try:
        await _calls(runtime)
    finally:
        runtime.close()  # flushes the batch processor
    assert received, "the collector received nothing"
    names, values = [], []
    for body in received:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            assert service["service.name"] == "maskwire"
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    names.append(span.name)
                    values.extend(str(a.value) for a in span.attributes)
    assert "tools/call query" in names and "tools/call list_sources" in names
    wire = b"".join(received)
    for value in SEEDED:
        assert value.encode() not in wire


def test_enabled_without_the_sdk_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    with pytest.raises(ConfigError, match=r"maskwire\[otel\]"):
        Tracing.start(TelemetrySettings(enabled=True))


def test_string_request_ids_are_tokenised() -> None:
    tokens: list[str] = []

    def literal(value: str) -> str:
        tokens.append(value)
        return "<LITERAL:0000>"

    assert _request_id(7, literal) == "7"
    assert _request_id(SEEDED[0], literal) == "<LITERAL:0000>" and tokens == [SEEDED[0]]


def test_only_mcp_method_names_are_named_in_spans_and_the_ledger() -> None:
    from mcp_server.ledger.malformed import MCP_METHODS

    assert {"tools/call", "initialize", "notifications/initialized", "tools/list"} <= MCP_METHODS
    for method in (*SEEDED, "tools/call; DROP", "crispin", "Tools/Call"):
        assert method not in MCP_METHODS
