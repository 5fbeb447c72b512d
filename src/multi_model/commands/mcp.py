"""`mm mcp`: the MCP server on stdio (`--demo`: the bundled demo panel). It needs the optional
`mcp` extra (`pip install 'multi-model[mcp]'`; the plugin's launcher installs it itself), as
`mm mcp install` (commands/mcp_install.py) does."""

from __future__ import annotations

import argparse
import importlib.util

from multi_model.commands import exits
from multi_model.errors import MissingExtra

NEEDS = ("mcp", "tomlkit")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo", action="store_true", help="serve the bundled DEMO panel")


def require_extra() -> None:
    """MissingExtra (exit 9), naming the install, when the `mcp` extra is missing."""
    missing = [name for name in NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtra(
            f"`mm mcp` needs the mcp extra ({', '.join(missing)} missing): "
            "pip install 'multi-model[mcp]'"
        )


def run(args: argparse.Namespace) -> int:
    require_extra()
    from multi_model.mcp_server import server, work  # noqa: PLC0415 - the SDK loads ~0.5 s

    server.run(work.Face(demo=args.demo))
    return exits.Exit.OK
