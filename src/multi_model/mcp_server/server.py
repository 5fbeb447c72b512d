"""The stdio MCP server (the SDK's low-level `Server`: our schemas and error texts as they
are). A tool's work runs in a thread (work.py); an ask is a job the handler waits for,
reporting progress, and cancels when the client cancels the call. Errors are tool errors
(`isError`) carrying the CLI's one-line message; stdout carries only the protocol. SIGINT,
SIGTERM and the end of stdin stop the server at once, cancelling the asks it is waiting for.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio
import mcp_types as types
from anyio.abc import TaskGroup
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from pydantic import ValidationError

from multi_model import __version__
from multi_model.errors import MultiModelError
from multi_model.jobs import ACTIVE
from multi_model.mcp_server import tools, work

POLL_S = 0.1
PROGRESS_EVERY_S = 1.0
READ_ONLY = types.ToolAnnotations(read_only_hint=True, open_world_hint=True)
# codex runs a tool without asking only when it says it is read-only: these never write
Ctx = ServerRequestContext[Any, Any]


def error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


LISTS = {"detect": "clis", "models": "providers", "history": "stats"}
"""A list result goes out as an object under this key (else "answers"): gemini's client
rejects a result that is a JSON array."""


def ok(tool: str, data: object) -> types.CallToolResult:
    if isinstance(data, list):
        data = {LISTS.get(tool, "answers"): data}
    text = json.dumps(data, ensure_ascii=False)
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)])


def invalid(exc: ValidationError) -> str:
    """pydantic's errors as one line, without the input values (a prompt may be 10 MB)."""
    parts = [f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()]
    return "mm: invalid arguments: " + "; ".join(parts[:5])


class Handlers:
    def __init__(self, face: work.Face, table: tuple[tools.Tool, ...]) -> None:
        self.face = face
        self.table = {t.name: t for t in table}
        self.waiting: set[str] = set()  # jobs of asks a handler is waiting for

    async def list_tools(self, ctx: Ctx, params: object) -> types.ListToolsResult:
        listed = [
            types.Tool(
                name=t.name, description=t.description, input_schema=t.schema(),
                annotations=None if t.name == "job_cancel" else READ_ONLY,
            )
            for t in self.table.values()
        ]  # fmt: skip
        return types.ListToolsResult(tools=listed)

    async def call_tool(
        self, ctx: Ctx, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = self.table.get(params.name)
        if tool is None:
            return error(f"mm: unknown tool {params.name[:80]!r} (tools: {', '.join(self.table)})")
        try:
            args = tool.args.model_validate(params.arguments or {})
        except ValidationError as exc:
            return error(invalid(exc))
        try:
            return ok(tool.name, await self._run(ctx, tool, args))
        except MultiModelError as exc:
            return error(f"mm: {exc}")

    async def _run(self, ctx: Ctx, tool: tools.Tool, args: Any) -> object:
        if tool.model is not None:  # a named model tool
            args = tools.Ask(models=[tool.model], prompt=args.prompt, timeout=args.timeout)
            return (await self._ask(ctx, args))[0]
        if tool.name == "ask":
            return await self._ask(ctx, args)
        simple: dict[str, Callable[[], object]] = {
            "job_status": partial(work.status, getattr(args, "job", "")),
            "job_result": partial(work.result, getattr(args, "job", "")),
            "job_cancel": partial(work.cancel, getattr(args, "job", "")),
        }
        call = simple.get(tool.name) or partial(getattr(work, tool.name), self.face, args)
        return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)

    async def _ask(self, ctx: Ctx, args: tools.Ask) -> Any:
        """The answers (a background ask: its job id), waiting for the job with progress."""
        job_id, joined = await anyio.to_thread.run_sync(work.start_ask, self.face, args)
        if args.background:
            return {"job": job_id, "joined": joined, "status": ACTIVE}
        self.waiting.add(job_id)
        try:
            return await self._wait(ctx, job_id, len(args.models))
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):  # the client gave up: so do the CLIs
                await anyio.to_thread.run_sync(work.cancel, job_id)
            raise
        finally:
            self.waiting.discard(job_id)

    async def _wait(self, ctx: Ctx, job_id: str, count: int) -> Any:
        started = last = time.monotonic()
        while (await anyio.to_thread.run_sync(work.status, job_id))["status"] == ACTIVE:
            await anyio.sleep(POLL_S)
            if time.monotonic() - last >= PROGRESS_EVERY_S:
                last = time.monotonic()
                elapsed = round(last - started)
                await ctx.session.report_progress(elapsed, None, f"asking {count} model(s)")
        return await anyio.to_thread.run_sync(work.result, job_id)

    def cancel_waiting(self) -> None:
        for job_id in list(self.waiting):
            work.cancel(job_id)


async def serve(face: work.Face) -> None:
    """Serve MCP on stdin/stdout until stdin ends or a signal comes."""
    work.register()
    handlers = Handlers(face, tools.TOOLS + tools.named_tools(face.settings()))
    server: Server[Any] = Server(
        "multi-model",
        version=__version__,
        on_list_tools=handlers.list_tools,
        on_call_tool=handlers.call_tool,
    )
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_stop_on_signal, group)
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())
            group.cancel_scope.cancel()  # stdin ended
    finally:
        handlers.cancel_waiting()


async def _stop_on_signal(group: TaskGroup) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            group.cancel_scope.cancel()
            return


def run(face: work.Face) -> None:
    anyio.run(serve, face)
