"""`mm sessions [list | forget] [NAME]`: conversations kept by `mm ask --session`."""

from __future__ import annotations

import argparse
import os
import sys

from multi_model import render
from multi_model.commands import common, exits
from multi_model.errors import UsageError
from multi_model.sessions import Sessions, check_name
from multi_model.store import Store


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=("list", "forget"), default="list")
    p.add_argument("name", nargs="?", help="session name (list: only this one)")
    common.add_format(p)


def run(args: argparse.Namespace) -> int:
    sessions = Sessions(Store.of(os.environ))
    if args.action == "forget":
        if not args.name:
            raise UsageError("mm sessions forget needs a session name (see `mm sessions`)")
        count = sessions.forget(check_name(args.name))
        if not count:
            raise UsageError(f"no session {args.name!r} (see `mm sessions`)")
        print(
            f"session {args.name}: forgot {count} conversation{'s' * (count != 1)}; the "
            "next --session turn starts anew"
        )
        return exits.Exit.OK
    rows = sessions.list(args.name)
    if args.format == "json":
        common.write_json([c.__dict__ for c in rows])
    else:
        sys.stdout.write(render.sessions_table(rows))
    return exits.Exit.OK
