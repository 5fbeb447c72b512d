"""`mm council show RUN` and `mm council list`: past runs, re-rendered or listed; and the one
place a council result is written out in a chosen format (`emit`, also `mm council`'s)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from multi_model import demo
from multi_model.commands import common, exits
from multi_model.council import runs
from multi_model.council.htmlreport import render_html
from multi_model.council.models import CouncilResult
from multi_model.council.report import render_report

STEPS = ("show", "list")


def add_arguments(show: argparse.ArgumentParser, listing: argparse.ArgumentParser) -> None:
    show.add_argument("run", help="run id (see `mm council list`) or run directory")
    common.add_format(show, default="md", extra=("html",))
    show.add_argument("--output", type=Path, help="write the report here instead of stdout")
    common.add_format(listing, default="md")


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.step == "list":
        listing = runs.summaries(env)
        if args.format == "json":
            sys.stdout.write(json.dumps([vars(s) for s in listing], indent=2) + "\n")
        else:
            sys.stdout.write(render_list(listing))
        return exits.Exit.OK
    result = runs.load(runs.locate(args.run, env))
    emit(result, args.format, args.output)
    return exits.Exit.OK


def emit(result: CouncilResult, fmt: str, output: Path | None) -> None:
    """The result as Markdown (under the demo's banner when it was one), JSON or HTML, to
    stdout or to `output` (then stdout names the file)."""
    if fmt == "json":
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "html":
        text = render_html(result)
    else:
        text = demo.marks(bool(result.metadata.get("demo"))).banner + render_report(result)
    common.write_text(text, output)
    if output is not None:
        sys.stdout.write(f"Report ({fmt}): {output.resolve()}\n")


def render_list(listing: list[runs.Summary]) -> str:
    if not listing:
        return "No council runs yet (`mm council --demo -p ...` tries one).\n"
    lines = ["| date | run | question | winner | seats | state |", "|---|---|---|---|---|---|"]
    for s in listing:
        cells = [s.date, s.run_id, s.question, s.winner or "-", ", ".join(s.seats), s.state]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
