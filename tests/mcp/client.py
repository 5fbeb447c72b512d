"""Drive `mm mcp` over stdio with the SDK's own client (a real subprocess, stopped on exit)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

Script = Callable[[ClientSession], Awaitable[Any]]


def with_server(env: dict[str, str], script: Script, *flags: str, timeout: float = 120) -> Any:
    """`script(session)` against `python -m multi_model mcp FLAGS` started with `env`."""

    async def main() -> Any:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "multi_model", "mcp", *flags], env=env
        )
        with anyio.fail_after(timeout):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                return await script(s)

    return anyio.run(main)


def text(result: Any) -> str:
    return str(result.content[0].text)
