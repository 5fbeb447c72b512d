"""`mm history`: recorded calls, per-provider stats, estimated costs."""

from __future__ import annotations

import argparse
import os
import sys

from multi_model import history
from multi_model.commands import common, exits
from multi_model.store import Store


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", help="a span (24h, 7d, 90m) or an ISO date (default: all)")
    p.add_argument("--provider", help="only this provider")
    view = p.add_mutually_exclusive_group()
    view.add_argument(
        "--stats",
        action="store_true",
        help="per provider: calls, success rate, p50/p95 latency, tokens, estimated cost",
    )
    view.add_argument(
        "--costs",
        action="store_true",
        help="estimated cost per provider and model (cached input priced as cached)",
    )
    common.add_format(p, extra=("csv",))
    p.add_argument("--limit", type=int, default=50, help="rows listed (default 50)")
    p.add_argument(
        "--include-demo",
        action="store_true",
        help="count calls of the --demo panel in --stats and --costs (listed always, marked)",
    )


def run(args: argparse.Namespace) -> int:
    since = history.parse_since(args.since)
    store = Store.of(os.environ)
    if not store.path.exists():
        sys.stdout.write(
            history.render([], (), args.format)
            if args.format in ("text", "md")
            else ("[]\n" if args.format == "json" else "")
        )
        return exits.Exit.OK
    columns: tuple[str, ...]
    if args.stats:
        rows, columns = (
            history.stats(store, since, args.provider, args.include_demo),
            history.STATS_COLUMNS,
        )
    elif args.costs:
        rows, columns = (
            history.costs(store, since, args.provider, args.include_demo),
            history.COSTS_COLUMNS,
        )
    else:
        rows = history.listing(store, since, args.provider, max(1, args.limit))
        columns = history.LIST_COLUMNS
    sys.stdout.write(history.render(rows, columns, args.format))
    return exits.Exit.OK
