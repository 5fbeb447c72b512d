"""`mm council <step>` on the command line: build the run from arguments, and show a step to
the host (Markdown written for Claude to act on, or JSON for scripts)."""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shlex
import shutil
import sys
from pathlib import Path
from typing import TextIO

from multi_model.council import command
from multi_model.council.hosted import host, job, machine
from multi_model.council.hosted.plan import Step
from multi_model.council.hosted.rundir import Run
from multi_model.council.report import render_report
from multi_model.council.store import RunStore, new_run_id
from multi_model.errors import UsageError

DEFAULT_CLAUDE_SEAT = "claude"  # the host's own model, through the Agent tool


def start(args: argparse.Namespace, question: str) -> int:
    """`mm council start`: the panel (default: the CLI buckets plus one Claude seat), checks,
    the run; prints what the host does first (as `next` does)."""
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
    first = host.next_step(Run(Path(step.run_dir)), wait=0)
    first.joined = step.joined
    show_host(first, args.format, sys.stdout)
    return 0


def next_step(run: Run, wait: float, fmt: str) -> int:
    """`mm council next`: one step for the host. Exit 0 while there is something to do and
    once the council is done; 5 when it ended without a synthesis; 6 when too few seats
    answered."""
    if not (math.isfinite(wait) and 0 <= wait <= 3600):
        raise UsageError("--wait must be a number of seconds between 0 and 3600")
    step = host.next_step(run, wait)
    show_host(step, fmt, sys.stdout)
    if step.error:
        return 6
    if step.result is not None and step.result.stage3_synthesis is None:
        return 5
    return 0


def launcher() -> str:
    """How the host runs `mm`: this plugin's launcher by its full path (never a bare `mm`)."""
    path = os.environ.get("MM_LAUNCHER") or sys.argv[0]
    found = path if os.sep in path else shutil.which(path)
    return os.path.abspath(found) if found else "mm"


def show_host(step: Step, fmt: str, out: TextIO) -> None:
    """What the host does now, as JSON (`agent_calls`, `then`, `done`, the report) or as
    Markdown for a person."""
    if not step.done:
        step.then = shlex.join([launcher(), "council", "next", step.run_dir, "--format", fmt])
    data = step.for_host()
    if step.result is not None:
        store = RunStore(Path(step.run_dir))
        data.update(report=_report(step), report_file=str(store.path(RunStore.REPORT)),
                    result_file=str(store.path(RunStore.RESULT)))
    if fmt == "json":
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(render_host(data))


def _report(step: Step) -> str:
    assert step.result is not None
    demo = bool(step.result.metadata.get("demo"))
    return ("**DEMO** stand-in executables, no real model.\n\n" if demo else "") + render_report(
        step.result)


def render_host(data: dict[str, object]) -> str:
    lines = [f"Council run {data['run_id']}: stage {data['stage']}"
             + (" (done)" if data["done"] else ""), f"Run directory: {data['run_dir']}", ""]
    calls = data.get("agent_calls") or []
    if calls:
        lines.append("Make these Agent calls, all in one message, with exactly these arguments:")
        lines += [f"- {json.dumps(c, ensure_ascii=False)}" for c in calls]  # type: ignore[union-attr]
        lines.append("")
    for key, title in (("waiting", "Waiting for"), ("notes", "Notes")):
        if data.get(key):
            lines += [f"{title}:", *(f"- {x}" for x in data[key]), ""]  # type: ignore[union-attr]
    if data.get("error"):
        lines += [f"Stopped: {data['error']}", ""]
    if data.get("report"):
        lines += [str(data["report"]).rstrip("\n"), "", f"Report file: {data['report_file']}"]
    elif data.get("then"):
        lines.append(f"Then run: {data['then']}")
    return "\n".join(lines).rstrip("\n") + "\n"


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
