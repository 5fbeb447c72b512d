"""`mm mcp install --client NAME`: write (or `--print`) a client's MCP config entry for
`mm mcp`, in the client's own file, idempotently (mcp_server/install.py)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from multi_model.commands import MCP_ACTIONS, common, exits
from multi_model.commands.mcp import require_extra


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    p = sub.add_parser("install", help=MCP_ACTIONS["install"])
    p.add_argument("--client", required=True, choices=("claude", "codex", "gemini", "qwen"))
    p.add_argument("--scope", choices=("user", "project"), default="user")
    p.add_argument("--print", action="store_true", help="print the entry, write nothing")
    p.add_argument(
        "--trust",
        action="store_true",
        help="gemini, qwen: run our tools without asking (needed headless)",
    )
    p.add_argument(
        "--required",
        action="store_true",
        help="codex: wait for the server before the first turn (what `codex exec` needs to "
        "offer our tools at once) and start no session without it",
    )
    p.add_argument("--demo", action="store_true", help="the entry serves the bundled DEMO panel")
    common.add_format(p)


def run(args: argparse.Namespace) -> int:
    require_extra()
    from multi_model.mcp_server import install as setup  # noqa: PLC0415 - optional extra

    entry = setup.entry(args.client, os.environ, args.trust, args.demo, args.required)
    if args.print:
        sys.stdout.write(setup.render(args.client, entry))
        return exits.Exit.OK
    path = setup.config_path(args.client, args.scope, os.environ, Path.cwd())
    outcome = setup.install(args.client, path, entry)
    note = setup.note(args.client, args.scope)
    if args.format == "json":
        done = {"client": args.client, "scope": args.scope, "path": str(path)}
        common.write_json({**done, "server": setup.SERVER, "outcome": outcome, "note": note})
        return exits.Exit.OK
    tail = f" ({note})" if note else ""
    print(f"{args.client}: {outcome} server {setup.SERVER!r} in {path}{tail}")
    return exits.Exit.OK
