"""`mm detect`: which model CLIs are installed and logged in."""

from __future__ import annotations

import argparse
import sys

from multi_model import render
from multi_model.commands import common, exits
from multi_model.config import load_settings
from multi_model.detect import detect_all


def add_arguments(p: argparse.ArgumentParser) -> None:
    common.add_format(p)
    p.add_argument(
        "--check-auth",
        action="store_true",
        help="also run each CLI's cheap login check (no model call)",
    )


def run(args: argparse.Namespace) -> int:
    infos = detect_all(load_settings().settings, check_auth=args.check_auth)
    if args.format == "json":
        common.write_json([i.as_dict() for i in infos])
    else:
        sys.stdout.write(render.detect_table(infos, check_auth=args.check_auth))
    return exits.Exit.OK
