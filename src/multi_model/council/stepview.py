"""`mm council <step>` on the command line: build the run from arguments, and show a step to
the host (Markdown written for Claude to act on, or JSON for scripts)."""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
from typing import TextIO

from multi_model.council import command
from multi_model.council.hosted import job, machine
from multi_model.council.hosted.plan import Step
from multi_model.council.report import render_report
from multi_model.council.store import new_run_id
from multi_model.errors import UsageError

DEFAULT_CLAUDE_SEAT = "claude"  # the host's own model, through the Agent tool


def start(args: argparse.Namespace, question: str) -> int:
    """`mm council start`: the panel (default: the CLI buckets plus one Claude seat), checks,
    the run; prints the first step."""
    import sys

    from multi_model import demo
    from multi_model.config import load_settings

    if not (math.isfinite(args.deadline) and args.deadline > 0):
        raise UsageError("--deadline must be a positive number of seconds")
    env = dict(os.environ)
    # the plugin's userConfig reaches its commands as CLAUDE_PLUGIN_OPTION_*; flags win
    specs = command.split(args.panel or env.get("CLAUDE_PLUGIN_OPTION_PANEL"))
    chairman = args.chairman or env.get("CLAUDE_PLUGIN_OPTION_CHAIRMAN") or None
    if args.demo:
        cli_specs = [s for s in specs if not _is_claude(s)] if specs else []
        env, settings, panel = demo.setup(",".join(cli_specs) or None)
        specs = (command.split(panel) + [s for s in specs if _is_claude(s)]) if specs else [
            *command.split(panel), DEFAULT_CLAUDE_SEAT]
    else:
        settings = load_settings(None, env).settings
        if not specs:
            # one CLI is enough here: with the Claude seat it makes two
            specs = [*command.available_clis(settings, env), DEFAULT_CLAUDE_SEAT]
    if len(specs) < 2:
        raise UsageError("a council needs at least two seats (see `mm detect --check-auth`)")
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    job.register()  # the run is a job; joining one asks the council's kind
    step = machine.start(
        question, specs, chairman, settings=settings, env=env,
        seed=seed,
        min_answers=args.min_answers, timeout=args.timeout or settings.timeout,
        deadline_s=args.deadline, demo=args.demo,
        root=args.runs_dir / new_run_id(seed) if args.runs_dir else None,
        allow_cursor_claude=args.allow_cursor_claude, allow_claude_cli=args.allow_claude_cli,
        join=None if args.fresh else {
            "panel": specs, "chairman": chairman, "seed": args.seed, "demo": args.demo,
            "min_answers": args.min_answers, "timeout": args.timeout, "deadline": args.deadline,
            "cwd": os.getcwd(), "allow_cursor_claude": args.allow_cursor_claude,
            "allow_claude_cli": args.allow_claude_cli})
    show(step, args.format, sys.stdout)
    return 0


def _is_claude(spec: str) -> bool:
    from multi_model.routing import is_claude_model

    head, _, tail = spec.partition(":")
    return head == "claude" or is_claude_model(spec) or is_claude_model(tail)


def show(step: Step, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        data = step.as_dict()
        if step.result is not None:
            data["result"] = step.result.to_dict()
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if step.result is not None:
        demo = bool(step.result.metadata.get("demo"))
        out.write(("**DEMO** stand-in executables, no real model.\n\n" if demo else "")
                  + render_report(step.result))
        return
    out.write(render_step(step))


def render_step(step: Step) -> str:
    state = ("finished" if step.stage == "done" else "open" if step.done
             else "not finished")
    lines = [f"Council run {step.run_id}: stage {step.stage} ({state})"
             + (" - joined: the same council was started moments ago" if step.joined else ""),
             f"Run directory: {step.run_dir}",
             f"Job: {step.run_id} (`mm jobs status {step.run_id}`, `mm jobs cancel "
             f"{step.run_id}`)", ""]
    if step.tasks:
        lines.append("Claude seats to run now with the Agent tool, one call per seat, all in "
                     "one message:")
        for n, t in enumerate(step.tasks, 1):
            lines += [f"{n}. seat {t.seat} ({t.stage}"
                      + (f", attempt {t.attempt}" if t.attempt > 1 else "")
                      + f"): subagent_type {t.agent}",
                      f"   prompt file: {t.prompt_file}",
                      f"   then submit its final message: mm council submit {step.run_id} "
                      f"--seat {t.seat} --file - (or write it to {t.output_file})",
                      f"   deadline: in {t.as_dict()['deadline_in_s']} s"]
            if t.note:
                lines.append(f"   note: {t.note}")
        lines += ["", "Agent prompt: \"Read the prompt file <prompt file> and do what it asks.\""
                  " Do not answer for a seat yourself.", ""]
    if step.waiting:
        lines += ["Waiting for:", *(f"- {w}" for w in step.waiting), ""]
    if step.notes:
        lines += ["Notes:", *(f"- {n}" for n in step.notes), ""]
    if step.next:
        lines.append("Next: " + ("after the tasks above, " if step.tasks else "") + step.next)
    elif not step.done:
        lines.append("Next: run the same step again (it continues where it stopped).")
    return "\n".join(lines).rstrip("\n") + "\n"
