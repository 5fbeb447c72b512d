"""`mm ask`: one prompt to several models in parallel; the answers for people on a terminal,
the responses as JSON when piped (or as `--format` says)."""

from __future__ import annotations

import argparse
import os
import sys

from multi_model import fanout, render, tasks
from multi_model.commands import common, exits
from multi_model.demo import Panel
from multi_model.errors import UsageError
from multi_model.routing import split_specs
from multi_model.sessions import preflight


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--models", help="comma-separated specs: codex, gpt-5.4-high, gemini:gemini-3-pro, ..."
    )
    p.add_argument(
        "--background", action="store_true", help="return a job id at once; see `mm jobs`"
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="with --background: start a new job "
        "even if an identical one is running or just finished",
    )
    p.add_argument(
        "--session",
        metavar="NAME",
        help="continue the conversation NAME with "
        "each model (the CLI's own resume); the first use starts it",
    )
    common.add_run_flags(p)
    common.add_format(p, default=None)


def run(args: argparse.Namespace) -> int:
    common.check_run_args(args)
    prompt = common.read_prompt(args)
    panel = common.panel(args, args.models, common.profiled, local=True)
    if not panel.models:
        raise UsageError("--models is required (e.g. --models codex,gemini), or --task, or --demo")
    specs = split_specs(panel.models)
    if args.background:
        return background(args, specs, prompt, panel)
    progress = render.Progress(specs, sys.stderr) if sys.stderr.isatty() else None
    with common.recorded("ask", panel.stand_ins):
        answers = fanout.dispatch(
            specs,
            prompt,
            timeout=args.timeout,
            allow_cursor_claude=args.allow_cursor_claude,
            allow_claude_cli=args.allow_claude_cli,
            settings=panel.settings,
            env=panel.env,
            on_result=progress.update if progress else None,
            local_only=args.task == "private",
            session=args.session,
        )
    responses = panel.marks.label(answers)
    if args.verbose or panel.marks.note:
        sys.stderr.write(render.routing_summary(responses, panel.marks.note))
    data = [r.model_dump(mode="json") for r in responses]
    if args.output:
        common.write_json(data, args.output)
    fmt = args.format or ("text" if sys.stdout.isatty() else "json")
    if args.output and args.format is None:
        pass  # the JSON went to --output; stdout stays empty unless --format asks
    elif fmt == "json":
        common.write_json(data)
    else:
        sys.stdout.write(render.answers_view(responses, markdown=fmt == "md"))
    return exits.of_answers(r.status for r in responses)


def background(args: argparse.Namespace, specs: list[str], prompt: str, panel: Panel) -> int:
    """Submit the call as a job; print its id (joined: an identical job already running)."""
    from multi_model.jobs import Jobs  # noqa: PLC0415 - start-up: only --background needs it

    if panel.env is not None:  # the job runs in a fresh process, with the user's own env
        raise UsageError("--background does not run the --demo panel")
    if args.session:
        preflight(
            args.session, specs, panel.settings, args.allow_claude_cli, args.allow_cursor_claude
        )
    request = {
        "models": specs,
        "timeout": args.timeout,
        "profile": args.profile or tasks.env_profile(),
        "allow_cursor_claude": args.allow_cursor_claude,
        "allow_claude_cli": args.allow_claude_cli,
        "local_only": args.task == "private",
        "session": args.session,
    }
    # a session's turn is never joined: the same words may well be the next turn
    job_id, joined = Jobs(os.environ).submit(
        "ask", request, prompt, fresh=args.fresh or bool(args.session)
    )
    common.write_json(
        {"job": job_id, "joined": joined, "status": "running", "next": f"mm jobs result {job_id}"}
    )
    return exits.Exit.OK
