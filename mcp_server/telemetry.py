"""OpenTelemetry traces of MCP requests: optional and off by default (`[telemetry] enabled`).

One SERVER span per request, named and attributed after the OpenTelemetry conventions for MCP and GenAI
(`mcp.method.name`, `gen_ai.tool.name`, `gen_ai.usage.*`, `gen_ai.agent.name`, `error.type`), parented on
the client's W3C trace context (`_meta.traceparent`) and exported over OTLP/HTTP.

A span is another channel out of the process, so it carries only what the ledger row carries: the tool's
name when it is one of Maskwire's (an unknown name is agent input and gets its keyed token), the agent,
token counts, entity counts, the ledger row's id, the error class. Never an argument, a message or an
exception's text: those can hold values. The MCP SDK ships its own span middleware, on by default, that
names spans after whatever tool name a client sends and records exception messages; the server removes
it (`replace_sdk_spans`) whether or not telemetry is on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult
from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, StatusCode, Tracer, get_current_span
from pydantic import ValidationError

from mcp_server.config import ConfigError, TelemetrySettings
from mcp_server.ledger.malformed import MCP_METHODS

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from mcp_server.ledger.entry import LedgerEntry

INSTRUMENTATION = "maskwire"


@dataclass
class Tracing:
    """The tracer provider of one server process; `close` flushes what is still queued."""

    provider: TracerProvider

    @property
    def tracer(self) -> Tracer:
        return self.provider.get_tracer(INSTRUMENTATION)

    @classmethod
    def start(cls, settings: TelemetrySettings, *, exporter: SpanExporter | None = None) -> Tracing | None:
        """None when telemetry is off. `exporter` replaces the OTLP exporter (tests use the in-memory one)."""
        if not settings.enabled:
            return None
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        except ImportError as exc:
            raise ConfigError(
                "[telemetry] enabled needs the OpenTelemetry SDK and OTLP exporter: pip install 'maskwire[otel]'"
            ) from exc
        resource = Resource.create({"service.name": settings.service_name, "service.version": _version()})
        provider = TracerProvider(resource=resource)
        if exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            except ImportError as exc:
                raise ConfigError("[telemetry] enabled needs the OTLP exporter: pip install 'maskwire[otel]'") from exc
            # No endpoint in the file: the exporter reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /
            # OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS, for credentials that do not belong in a config file).
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.endpoint)))
        return cls(provider)

    def close(self) -> None:
        self.provider.shutdown()


class SpanMiddleware:
    """Wraps every inbound MCP request in a SERVER span (outermost, so refusals are traced too)."""

    def __init__(
        self,
        tracer: Tracer,
        tools: frozenset[str],
        mask_literal: Callable[[str], str],
        transport: str,
    ) -> None:
        """`transport` is `network.transport`: "pipe" for stdio, "tcp" for HTTP."""
        self.tracer = tracer
        self.tools = tools
        self.mask_literal = mask_literal
        self.transport = transport

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        method = ctx.method if ctx.method in MCP_METHODS else "(unknown method)"  # client input
        name = (ctx.params or {}).get("name")
        known = name if isinstance(name, str) and name in self.tools else None
        attributes: dict[str, Any] = {"mcp.method.name": method, "network.transport": self.transport}
        if ctx.protocol_version:
            attributes["mcp.protocol.version"] = ctx.protocol_version
        if ctx.request_id is not None:
            attributes["jsonrpc.request.id"] = _request_id(ctx.request_id, self.mask_literal)
        if method == "tools/call":
            attributes["gen_ai.operation.name"] = "execute_tool"
            if known is not None:
                attributes["gen_ai.tool.name"] = known
            elif isinstance(name, str):
                attributes["gen_ai.tool.name"] = self.mask_literal(name[:200])
        # The span name stays low-cardinality: an unknown tool name is not part of it.
        span_name = f"{method} {known}" if known else method
        with self.tracer.start_as_current_span(
            span_name,
            kind=SpanKind.SERVER,
            attributes=attributes,
            context=_parent(ctx.meta),
            record_exception=False,  # exception messages can carry values
            set_status_on_exception=False,
        ) as span:
            try:
                result = await call_next(ctx)
            except MCPError as exc:
                _failed(span, str(exc.error.code))
                raise
            except ValidationError:
                _failed(span, str(INVALID_PARAMS))
                raise
            except BaseException as exc:
                _failed(span, type(exc).__qualname__)
                raise
            if method == "tools/call" and _is_tool_error(result):
                if "error.type" not in _attributes(span):  # the ledger's error class, when the call got that far
                    span.set_attribute("error.type", "tool_error")
                span.set_status(StatusCode.ERROR)
            return result


def annotate_call(entry: LedgerEntry) -> None:
    """Put a tool call's ledger figures on the current span (a no-op when nothing is being traced)."""
    span = get_current_span()
    if span is INVALID_SPAN or not span.is_recording():
        return
    attributes: dict[str, Any] = {
        "gen_ai.agent.name": entry.agent,
        "gen_ai.usage.input_tokens": entry.tokens_in,
        "gen_ai.usage.output_tokens": entry.tokens_out,
        "maskwire.call.status": entry.status,
        "maskwire.call.rows": entry.rows,
        "maskwire.call.entities_masked": sum(entry.entities.values()),
    }
    if entry.id is not None:
        attributes["maskwire.ledger.id"] = entry.id
    if entry.source:
        attributes["maskwire.source"] = entry.source
    if entry.status != "ok" and entry.error_class:
        attributes["error.type"] = entry.error_class
    span.set_attributes(attributes)


def replace_sdk_spans(middleware: list[Any], spans: SpanMiddleware | None) -> None:
    """Swap the SDK's default span middleware for Maskwire's (or for nothing when telemetry is off)."""
    from mcp.server._otel import OpenTelemetryMiddleware

    kept = [m for m in middleware if not isinstance(m, OpenTelemetryMiddleware)]
    middleware[:] = ([spans] if spans is not None else []) + kept


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("maskwire")
    except PackageNotFoundError:  # running from a source tree
        return "0"


def _parent(meta: Mapping[str, Any] | None) -> Context | None:
    """The client's trace context from `_meta`, or None (then the span is a root, or nests in the ambient one)."""
    if not meta:
        return None
    carrier = {k: v for k, v in meta.items() if k in ("traceparent", "tracestate") and isinstance(v, str)}
    if not carrier:
        return None
    try:
        context = propagate.extract(carrier)
    except (ValueError, TypeError):
        return None
    return context if get_current_span(context).get_span_context().is_valid else None


def _request_id(request_id: int | str, mask_literal: Callable[[str], str]) -> str:
    """Integer ids as they are; a string id is client input and gets its keyed token."""
    if isinstance(request_id, int):
        return str(request_id)
    return mask_literal(str(request_id)[:200])


def _failed(span: Span, error_type: str) -> None:
    span.set_attribute("error.type", error_type)
    span.set_status(StatusCode.ERROR)


def _is_tool_error(result: HandlerResult) -> bool:
    if isinstance(result, CallToolResult):
        return bool(result.is_error)
    return isinstance(result, Mapping) and result.get("isError") is True


def _attributes(span: Span) -> Mapping[str, Any]:
    return getattr(span, "attributes", None) or {}
