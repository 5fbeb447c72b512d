"""`mm mcp`: the MCP server on stdio (`--demo`: the bundled demo panel); `mm mcp install
--client NAME`: write (or `--print`) a client's MCP config for it. Both need the optional
`mcp` extra (`pip install 'multi-model[mcp]'`; the plugin's launcher installs it itself)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from multi_model.commands import exits
from multi_model.errors import MissingExtra, UsageError

NEEDS = ("mcp", "tomlkit")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=("install",), help="install: a client's config")
    p.add_argument("--demo", action="store_true", help="serve the bundled DEMO panel")
    p.add_argument("--client", choices=("claude", "codex", "gemini", "qwen"))
    p.add_argument("--scope", choices=("user", "project"), default="user")
    p.add_argument("--print", action="store_true", help="print the entry, write nothing")
    p.add_argument(
        "--trust",
        action="store_true",
        help="gemini, qwen: run our tools without asking (needed headless)",
    )


def run(args: argparse.Namespace) -> int:
    missing = [name for name in NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtra(
            f"`mm mcp` needs the mcp extra ({', '.join(missing)} missing): "
            "pip install 'multi-model[mcp]'"
        )
    if args.action == "install":
        return install(args)
    from multi_model.mcp_server import server, work  # noqa: PLC0415 - the SDK loads ~0.5 s

    server.run(work.Face(demo=args.demo))
    return exits.Exit.OK


def install(args: argparse.Namespace) -> int:
    from multi_model.mcp_server import install as setup  # noqa: PLC0415 - optional extra

    if not args.client:
        raise UsageError("mm mcp install needs --client claude|codex|gemini|qwen")
    entry = setup.entry(args.client, os.environ, args.trust, args.demo)
    if args.print:
        sys.stdout.write(setup.render(args.client, entry))
        return exits.Exit.OK
    path = setup.config_path(args.client, args.scope, os.environ, Path.cwd())
    outcome = setup.install(args.client, path, entry)
    note = setup.note(args.client, args.scope)
    tail = f" ({note})" if note else ""
    print(f"{args.client}: {outcome} server {setup.SERVER!r} in {path}{tail}")
    return exits.Exit.OK
