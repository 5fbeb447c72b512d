"""`mm council <step>`: the council in resumable steps, for a host that runs the Claude seats
itself (Claude Code's Agent tool). `mm council` with no step is the one-shot run."""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sys
from pathlib import Path

from multi_model.commands import COUNCIL_STEPS, common, council_runs, exits
from multi_model.config import load_settings
from multi_model.council import command, stepview
from multi_model.council.hosted import host, job, machine, rundir, submission
from multi_model.council.store import new_run_id
from multi_model.demo import Panel
from multi_model.errors import UsageError
from multi_model.routing import is_claude_model

DEFAULT_CLAUDE_SEAT = "claude"  # the host's own model, through the Agent tool
TARGETS = {"rank": "review", "synthesize": "synthesis", "result": "done"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "The council in resumable steps."
    sub = parser.add_subparsers(dest="step", required=True, parser_class=type(parser))
    steps = {name: sub.add_parser(name, help=text) for name, text in COUNCIL_STEPS.items()}
    steps["prepare"].add_argument("--format", choices=("json",), default="json")
    _add_start(steps["start"])
    nxt = steps["next"]
    _add_run(nxt)
    nxt.add_argument(
        "--wait", type=float, default=90.0, help="seconds to wait while seats are at work (90)"
    )
    submit = steps["submit"]
    submit.add_argument("run", nargs="?", help="run id or directory (default: the newest)")
    submit.add_argument("--seat", required=True)
    submit.add_argument("--stage", choices=("answer", "review", "synthesis"))
    submit.add_argument("--file", help="the reply (default: the task's output file; - : stdin)")
    common.add_format(submit, default="md")
    for name in ("rank", "synthesize", "result", "status"):
        p = steps[name]
        _add_run(p)
        if name != "status":
            p.add_argument(
                "--wait",
                type=float,
                default=100.0,
                help="seconds to wait for CLIs still running (100)",
            )
        if name == "result":
            p.add_argument("--output", type=Path, help="write the full JSON here")
    council_runs.add_arguments(steps["show"], steps["list"])


def _add_start(start: argparse.ArgumentParser) -> None:
    start.add_argument(
        "--panel",
        help="comma-separated specs; Claude models (opus, "
        "claude:sonnet, ...) become Agent-tool seats (default: "
        "one seat per logged-in CLI's rate bucket, plus claude)",
    )
    start.add_argument("--chairman", help="model spec of the chairman (default: best-ranked)")
    start.add_argument("--seed", type=int)
    start.add_argument("--min-answers", type=int, default=2)
    start.add_argument(
        "--reviewers-per-answer",
        type=int,
        metavar="K",
        help="have each answer reviewed by K seeded reviewers instead of all",
    )
    start.add_argument(
        "--runs-dir", type=Path, help="where the run directory goes (default: <data dir>/runs)"
    )
    start.add_argument(
        "--deadline",
        type=float,
        default=900.0,
        help="seconds per stage; Claude seats not in by then are missing (900)",
    )
    common.add_run_flags(start)
    common.add_format(start, default="md")
    start.add_argument(
        "--fresh",
        action="store_true",
        help="start a new run even if an "
        "identical one was started moments ago (default: join that one)",
    )


def _add_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", nargs="?", help="run id or directory (default: the newest)")
    common.add_format(p, default="md")


def run(args: argparse.Namespace) -> int:
    if args.step == "start":
        common.check_run_args(args)
        return start(args, common.read_prompt(args))
    if args.step in council_runs.STEPS:
        return council_runs.run(args)
    if args.step == "prepare":
        common.write_json({"question_file": str(rundir.question_path(os.environ))})
        return exits.Exit.OK
    found = rundir.find_run(args.run, os.environ)
    if args.step == "next":
        return next_step(found, args.wait, args.format)
    if args.step == "submit":
        step = submission.submit(found, args.seat, read_submission(args, found), args.stage)
    elif args.step == "status":
        step = machine.status(found)
    else:
        if not (math.isfinite(args.wait) and args.wait >= 0):
            raise UsageError(f"--wait {args.wait:g}: must be a number of seconds >= 0")
        step = machine.advance(found, TARGETS[args.step], args.wait)  # type: ignore[arg-type]
    if step.result is not None and args.output:
        common.write_json(step.result.to_dict(), args.output)
    stepview.show(step, args.format, sys.stdout)
    if step.result is not None:
        return exits.of_council(step.result.synthesis is not None)
    return exits.of_step(step.done)


def start(args: argparse.Namespace, question: str) -> int:
    """`mm council start`: the panel (default: the CLI buckets plus one Claude seat), checks,
    the run; prints what the host does first (as `next` does)."""
    if not (math.isfinite(args.deadline) and args.deadline > 0):
        raise UsageError(f"--deadline {args.deadline:g}: must be a positive number of seconds")
    if args.reviewers_per_answer is not None and args.reviewers_per_answer < 1:
        raise UsageError(f"--reviewers-per-answer {args.reviewers_per_answer}: must be at least 1")
    env = dict(os.environ)
    # the plugin's userConfig reaches its commands as CLAUDE_PLUGIN_OPTION_*; flags win
    specs = command.split(args.panel or env.get("CLAUDE_PLUGIN_OPTION_PANEL"))
    chairman = args.chairman or env.get("CLAUDE_PLUGIN_OPTION_CHAIRMAN") or None
    claude = [s for s in specs if _is_claude(s)]
    panel = common.panel(
        args,
        ",".join(s for s in specs if s not in claude) or None,
        lambda a, models: Panel(env=env, models=models),
    )
    env = panel.env or env
    settings = panel.settings or load_settings(None, env).settings
    if panel.stand_ins:
        specs = [*command.split(panel.models), *(claude if specs else [DEFAULT_CLAUDE_SEAT])]
    elif not specs:  # one CLI is enough: with the Claude seat it makes two
        specs = [*command.available_clis(settings, env), DEFAULT_CLAUDE_SEAT]
    given = (
        f"--panel {args.panel}"
        if args.panel
        else "the plugin's panel setting"
        if env.get("CLAUDE_PLUGIN_OPTION_PANEL")
        else "the default panel (logged-in CLIs)"
    )
    command.check_quorum(len(specs), args.min_answers, given)
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    job.register()  # the run is a job; joining one asks the council's kind
    step = machine.start(
        question,
        specs,
        chairman,
        settings=settings,
        env=env,
        seed=seed,
        min_answers=args.min_answers,
        timeout=args.timeout or settings.timeout,
        deadline_s=args.deadline,
        demo=panel.stand_ins,
        root=args.runs_dir / new_run_id(seed) if args.runs_dir else None,
        allow_cursor_claude=args.allow_cursor_claude,
        allow_claude_cli=args.allow_claude_cli,
        reviewers_per_answer=args.reviewers_per_answer,
        join=None
        if args.fresh
        else {
            "panel": specs,
            "chairman": chairman,
            "seed": args.seed,
            "demo": panel.stand_ins,
            "min_answers": args.min_answers,
            "timeout": args.timeout,
            "deadline": args.deadline,
            "cwd": os.getcwd(),
            "allow_cursor_claude": args.allow_cursor_claude,
            "allow_claude_cli": args.allow_claude_cli,
            "reviewers_per_answer": args.reviewers_per_answer,
        },
    )
    first = host.next_step(rundir.Run(Path(step.run_dir)), wait=0)
    first.joined = step.joined
    stepview.show_host(first, args.format, sys.stdout)
    return exits.Exit.OK


def next_step(found: rundir.Run, wait: float, fmt: str) -> int:
    """`mm council next`: one step for the host. Exit 0 while there is something to do and
    once the council is done; 5 when it ended without a synthesis; 6 when too few seats
    answered."""
    if not (math.isfinite(wait) and 0 <= wait <= 3600):
        raise UsageError(f"--wait {wait:g}: must be a number of seconds between 0 and 3600")
    step = host.next_step(found, wait)
    stepview.show_host(step, fmt, sys.stdout)
    synthesized = None if step.result is None else step.result.synthesis is not None
    return exits.of_host_step(bool(step.error), synthesized)


def read_submission(args: argparse.Namespace, found: rundir.Run) -> str:
    """The seat's reply: --file, stdin for `-`, else its open task's output file."""
    seat = submission.agent_seat(found, args.seat)
    if args.file == "-":
        return common.read_stdin()
    if args.file:
        path = Path(args.file)
    else:
        stage = args.stage or submission.open_stage_of(found, seat)
        if stage is None:
            raise UsageError(f"{args.seat} has no open task (see `mm council status`)")
        path = found.task_paths(stage, args.seat)[1]
    return common.read_file(path, "the reply")


def _is_claude(spec: str) -> bool:
    head, _, tail = spec.partition(":")
    return head == "claude" or is_claude_model(spec) or is_claude_model(tail)
