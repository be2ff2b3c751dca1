"""One tool call between the MCP front door and the read pipeline: run the body off the event loop, and record
its outcome (status, masked arguments, rows, entities, tokens out) on the call the ledger middleware writes."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from mcp_types import CallToolResult, TextContent

from mcp_server.ledger.recorder import CallRecord, current_call
from mcp_server.runtime import Runtime
from mcp_server.tools.models import as_json
from mcp_server.tools.problems import ToolOutput, ToolProblem

log = logging.getLogger(__name__)


async def run_recorded(
    runtime: Runtime,
    tool: str,
    work: Callable[[], ToolOutput],
    arguments: Callable[[], dict[str, Any]],
    source: str | None = None,
) -> CallToolResult:
    """Run one tool body off the event loop and record its outcome on the current call.

    `arguments` builds the masked arguments for the ledger; it runs in the worker too (it parses SQL and may
    read the schema). If it fails, the ledger masks every argument generically instead. The result text is
    counted once, in the worker (the budget fitter's exact count when it took one).
    """
    record = current_call.get() or CallRecord(tool=tool)
    pipeline = runtime.pipeline

    def work_and_flush() -> ToolOutput:
        try:
            if source is not None:  # named on the row even when the call fails; a token when not a source
                record.source = pipeline.known_source_or_token(source)
            record.arguments = arguments()
        except Exception:
            record.arguments = None
        try:
            output = work()
            output.tokens = output.tokens if output.tokens is not None else runtime.counter.count(output.text)
            return output
        finally:
            runtime.masker.pseudonyms.flush()  # tokens issued by this call outlive the process
            runtime.answered.set()

    try:
        output = await anyio.to_thread.run_sync(work_and_flush)
    except ToolProblem as problem:
        message = str(problem)
        if tool == "query":  # the guard's and the database's messages echo names the agent wrote
            try:
                message = await anyio.to_thread.run_sync(pipeline.masked_message, message, source)
            except Exception:
                message = f"the query was refused ({problem.error_class})"
        record.status, record.error_class, record.error_message = problem.status, problem.error_class, message
        return CallToolResult(content=[TextContent(text=str(problem))], is_error=True)
    except Exception as exc:  # never a traceback, never a message that could carry a value
        # Exception messages can carry values (KeyError('ann@example.com')): log the type and where, not the text.
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f"{frame.filename}:{frame.lineno}" if frame else "?"
        log.error("tool %s failed: %s at %s", tool, type(exc).__name__, where)
        record.status, record.error_class = "error", type(exc).__name__
        record.error_message = f"internal error ({type(exc).__name__})"
        return CallToolResult(
            content=[
                TextContent(
                    text=f"Maskwire hit an internal error ({type(exc).__name__}); the call was "
                    "recorded. Try a simpler request or ask the operator to check the server log."
                )
            ],
            is_error=True,
        )
    record.status = "ok"
    if output.facts and record.arguments is not None:
        record.arguments = {**record.arguments, **output.facts}
    record.source = output.source or record.source
    record.rows = output.rows
    record.entities = output.counts.as_dict()
    record.tokens_out = output.tokens
    return CallToolResult(
        content=[TextContent(text=output.text)],
        structured_content=as_json(output.structured),
    )
