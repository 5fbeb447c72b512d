"""`mm council`: the one-shot council (answers, blind peer review, chairman synthesis)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from multi_model.commands import common, council_runs, exits
from multi_model.config import Settings
from multi_model.council import command
from multi_model.council.report import render_report
from multi_model.council.run import save
from multi_model.council.store import RunStore
from multi_model.demo import Panel


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--panel",
        help="comma-separated specs (default: one seat per logged-in "
        "CLI's rate bucket, on its default model)",
    )
    p.add_argument("--chairman", help="model spec of the chairman (default: best-ranked seat)")
    p.add_argument("--seed", type=int, help="seed of the label shuffles (default: random)")
    p.add_argument("--min-answers", type=int, default=2, help="quorum for the review (2)")
    common.add_format(p, default="md", extra=("html",))
    p.add_argument(
        "--reviewers-per-answer",
        type=int,
        metavar="K",
        help="have each answer reviewed by K seeded reviewers instead of all "
        "(large panels: review prompts grow with the square of the seats)",
    )
    common.add_run_flags(p)


def run(args: argparse.Namespace) -> int:
    common.check_run_args(args)
    question = common.read_prompt(args)
    panel = common.panel(args, args.panel, common.profiled, local=True)
    env = panel.env or dict(os.environ)
    settings = common.settings_of(panel)
    options = command.CouncilOptions(
        panel=command.split(panel.models or _default(settings, env)),
        chairman=args.chairman,
        timeout=args.timeout,
        seed=args.seed,
        min_answers=args.min_answers,
        allow_cursor_claude=args.allow_cursor_claude,
        allow_claude_cli=args.allow_claude_cli,
        panel_from=panel_from(args, panel.models),
        reviewers_per_answer=args.reviewers_per_answer,
    )
    if panel.marks.note:  # DEMO says so on stderr too, not only in the report
        sys.stderr.write(panel.marks.note + "\n")
    with common.recorded("council", panel.stand_ins):
        found = command.run(question, options, settings, env, progress_stream(args.verbose, panel))
    result = panel.marks.mark(found)
    if result is not found:  # the run directory says DEMO too, for `mm council show`
        save(RunStore(Path(str(result.metadata["run_dir"]))), result)
    if args.format == "html":  # --output is the HTML file, not the JSON
        council_runs.emit(result, "html", args.output)
    else:
        if args.output:
            common.write_json(result.to_dict(), args.output)
        if args.format == "json":
            common.write_json(result.to_dict())
        else:
            sys.stdout.write(panel.marks.banner + render_report(result))
    return exits.of_council(result.synthesis is not None)


def panel_from(args: argparse.Namespace, models: str | None) -> str:
    """How the user chose the panel, as they typed it (for error messages)."""
    if args.panel:
        return f"--panel {args.panel}"
    if args.task:
        return f"--task {args.task} ({models})"
    if args.demo:
        return f"the --demo panel ({models})"
    return "the default panel (one seat per logged-in CLI)"


def _default(settings: Settings, env: dict[str, str]) -> str:
    return ",".join(command.default_panel(settings, env))


def progress_stream(verbose: bool, panel: Panel) -> TextIO | None:
    """stderr when asked (--verbose, or a panel that announces itself) or a terminal."""
    wanted = verbose or bool(panel.marks.note)
    return sys.stderr if wanted or sys.stderr.isatty() else None
