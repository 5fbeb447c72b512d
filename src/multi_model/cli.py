"""`mm` command line: parse arguments, make one package call, map the outcome to an exit code.

Exit codes (every subcommand):
    0  ok (`ask`: at least one answer)
    2  bad arguments or input, unreadable config
    3  a Claude model was requested without --allow-claude-cli / --allow-cursor-claude
    4  unreachable model: unknown provider, or no answer and every failure was
       not_installed / model_not_found
    5  every dispatch failed (`council`: no chairman could write the synthesis)
    6  `council`: quorum not met (too few seats answered for a peer review)
    7  `council <step>` / `jobs result`: not finished yet (a CLI still running, a Claude seat
       not in); run the same command again to continue
    8  refused by `[policy]` in the user config (the message names the rule)
  130  interrupted
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from multi_model import __version__, render
from multi_model.errors import (
    ClaudeModelRefused,
    MultiModelError,
    PolicyViolation,
    QuorumNotMet,
    UnknownProvider,
    UsageError,
)

EXIT_OK, EXIT_USAGE, EXIT_CLAUDE, EXIT_UNREACHABLE, EXIT_ALL_FAILED = 0, 2, 3, 4, 5
EXIT_QUORUM, EXIT_PENDING, EXIT_POLICY = 6, 7, 8
EXIT_CODES: dict[type[MultiModelError], int] = {
    QuorumNotMet: EXIT_QUORUM,
    PolicyViolation: EXIT_POLICY,
    ClaudeModelRefused: EXIT_CLAUDE,
    UnknownProvider: EXIT_UNREACHABLE,
    MultiModelError: EXIT_USAGE,
}
UNREACHABLE = {"not_installed", "model_not_found"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as documented
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mm", description="Ask other AI models through their own CLIs.")
    parser.add_argument("--version", action="version", version=f"multi-model {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_ask(sub.add_parser("ask", help="send one prompt to several models in parallel"))
    _add_detect(sub.add_parser("detect", help="which model CLIs are installed and logged in"))
    cfg = sub.add_parser("config", help="resolved settings and where each value comes from")
    cfg.add_argument("--json", action="store_true")
    cfg.add_argument("--task", help="show the seats of this task and how each spec routes")
    cfg.add_argument("--profile", help="with this profile laid over the config")
    models = sub.add_parser("models", help="models each provider offers")
    models.add_argument("provider", nargs="?")
    models.add_argument("--json", action="store_true")
    _add_council(sub.add_parser("council", help="blind peer-ranked council: answers, "
                                                "anonymous ranking, chairman synthesis"))
    jobs = sub.add_parser("jobs", help="background jobs: list, status, result, cancel")
    jobs.add_argument("action", choices=("list", "status", "result", "cancel"))
    jobs.add_argument("job", nargs="?", help="job id (not for list)")
    jobs.add_argument("--format", choices=("table", "json"), default="table")
    sess = sub.add_parser("sessions", help="conversations kept by `mm ask --session`")
    sess.add_argument("action", nargs="?", choices=("list", "forget"), default="list")
    sess.add_argument("name", nargs="?", help="session name (list: only this one)")
    sess.add_argument("--format", choices=("table", "json"), default="table")
    hist = sub.add_parser("history", help="recorded calls: list, per-provider stats, costs")
    hist.add_argument("--since", help="a span (24h, 7d, 90m) or an ISO date (default: all)")
    hist.add_argument("--provider", help="only this provider")
    view = hist.add_mutually_exclusive_group()
    view.add_argument("--stats", action="store_true", help="per provider: calls, success rate, "
                      "p50/p95 latency, tokens, estimated cost")
    view.add_argument("--costs", action="store_true", help="estimated cost per provider and "
                      "model (cached input priced as cached)")
    hist.add_argument("--format", choices=("table", "json", "csv"), default="table")
    hist.add_argument("--limit", type=int, default=50, help="rows listed (default 50)")
    review = sub.add_parser("review", help="other models review the working tree's change "
                                           "(git diff HEAD) or the named files")
    review.add_argument("paths", nargs="*", help="files to review (default: the change); "
                        "`mm review on|off|mode|status` control the review of Claude's edits "
                        "(`mm review -- status` reviews a file named status)")
    review.add_argument("--models", help="reviewers (default: the first logged-in CLI)")
    review.add_argument("--timeout", type=float, help="seconds per reviewer (default 300)")
    review.add_argument("--format", choices=("md", "json"), default="md")
    review.add_argument("--output", type=Path, help="write the full JSON here")
    review.add_argument("--deny", action="append", default=[], metavar="PATTERN",
                        help="never send files matching PATTERN (gitignore syntax, any case; "
                        "added to the built-in list and [review] deny)")
    review.add_argument("--explain-deny", metavar="PATH", help="say whether PATH (and its link "
                        "target) would be held back, and by which pattern; sends nothing, "
                        "exit 0 either way")
    return parser


def _add_ask(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", help="comma-separated specs: codex, gpt-5.4-high, gemini:gemini-3-pro, ...")
    p.add_argument("--background", action="store_true", help="return a job id at once; see "
                   "`mm jobs`")
    p.add_argument("--fresh", action="store_true", help="with --background: start a new job "
                   "even if an identical one is running or just finished")
    p.add_argument("--session", metavar="NAME", help="continue the conversation NAME with "
                   "each model (the CLI's own resume); the first use starts it")
    _add_common(p)


def _add_council(p: argparse.ArgumentParser) -> None:
    p.add_argument("--panel", help="comma-separated specs (default: one seat per logged-in "
                                   "CLI's rate bucket, on its default model)")
    p.add_argument("--chairman", help="model spec of the chairman (default: best-ranked seat)")
    p.add_argument("--seed", type=int, help="seed of the label shuffles (default: random)")
    p.add_argument("--min-answers", type=int, default=2, help="quorum for the review (2)")
    p.add_argument("--format", choices=("md", "json"), default="md", help="stdout format")
    _add_common(p)


COUNCIL_STEPS = ("prepare", "start", "next", "submit", "rank", "synthesize", "result", "status")


def build_steps_parser() -> argparse.ArgumentParser:
    """`mm council <step>`: the council in resumable steps, for a host that runs the Claude
    seats itself (Claude Code's Agent tool). `mm council` with no step is the one-shot run."""
    parser = _Parser(prog="mm council", description="The council in resumable steps.")
    sub = parser.add_subparsers(dest="step", required=True, parser_class=_Parser)
    prepare = sub.add_parser("prepare", help="a fresh path for the question, for a host that "
                                             "writes it with a file tool (prints JSON)")
    prepare.add_argument("--format", choices=("json",), default="json")
    start = sub.add_parser("start", help="create a run: CLI seats answer in the background, "
                                         "Claude seats get a task each")
    start.add_argument("--panel", help="comma-separated specs; Claude models (opus, "
                                       "claude:sonnet, ...) become Agent-tool seats (default: "
                                       "one seat per logged-in CLI's rate bucket, plus claude)")
    start.add_argument("--chairman", help="model spec of the chairman (default: best-ranked)")
    start.add_argument("--seed", type=int)
    start.add_argument("--min-answers", type=int, default=2)
    start.add_argument("--runs-dir", type=Path, help="where the run directory goes "
                                                     "(default: <data dir>/runs)")
    start.add_argument("--deadline", type=float, default=900.0,
                       help="seconds per stage; Claude seats not in by then are missing (900)")
    _add_common(start)
    start.add_argument("--format", choices=("md", "json"), default="md")
    start.add_argument("--fresh", action="store_true", help="start a new run even if an "
                       "identical one was started moments ago (default: join that one)")
    nxt = sub.add_parser("next", help="the host's one step: take the run as far as it goes and "
                                      "say what to do now (Agent calls, this step again, or "
                                      "the report)")
    nxt.add_argument("run", nargs="?", help="run id or directory (default: the newest)")
    nxt.add_argument("--format", choices=("md", "json"), default="md")
    nxt.add_argument("--wait", type=float, default=90.0,
                     help="seconds to wait while seats are at work (90)")
    submit = sub.add_parser("submit", help="a Claude seat's answer, ballot or synthesis")
    submit.add_argument("run", nargs="?", help="run id or directory (default: the newest)")
    submit.add_argument("--seat", required=True)
    submit.add_argument("--stage", choices=("answer", "review", "synthesis"))
    submit.add_argument("--file", help="the reply (default: the task's output file; - : stdin)")
    submit.add_argument("--format", choices=("md", "json"), default="md")
    for name, text in (("rank", "once the answers are in: the blind peer review"),
                       ("synthesize", "once the ballots are in: tally and chairman"),
                       ("result", "once the synthesis is in: the merged result and report"),
                       ("status", "where a run is, seat by seat")):
        p = sub.add_parser(name, help=text)
        p.add_argument("run", nargs="?", help="run id or directory (default: the newest)")
        p.add_argument("--format", choices=("md", "json"), default="md")
        if name != "status":
            p.add_argument("--wait", type=float, default=100.0,
                           help="seconds to wait for CLIs still running (100)")
        if name == "result":
            p.add_argument("--output", type=Path, help="write the full JSON here")
    return parser


def _add_common(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group()
    source.add_argument("--prompt", help="the prompt text (else --prompt-file, else stdin)")
    source.add_argument("--prompt-file", type=Path)
    p.add_argument("--output", type=Path, help="write the full JSON here")
    p.add_argument("--timeout", type=float, help="seconds per model (default 300)")
    p.add_argument("--allow-cursor-claude", action="store_true",
                   help="let Claude models run through cursor-agent")
    p.add_argument("--allow-claude-cli", action="store_true",
                   help="let Claude models run through `claude -p`")
    p.add_argument("--verbose", action="store_true", help="routing and progress on stderr")
    p.add_argument("--demo", action="store_true",
                   help="use the bundled DEMO panel (stand-in executables, no real model)")
    p.add_argument("--task", help="pick the models from the task table: simple, analysis, "
                   "complex, code, review, private (local models only), or one of [tasks]")
    p.add_argument("--profile", help="lay a named set of settings over the config: budget, "
                   "local-only, or one of [profiles] (env MULTI_MODEL_PROFILE)")


def _add_detect(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")
    p.add_argument("--check-auth", action="store_true",
                   help="also run each CLI's cheap login check (no model call)")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if threading.current_thread() is not threading.main_thread():
        return _main(argv)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # same clean stop as Ctrl-C
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str]) -> int:
    if argv[:1] == ["council"] and argv[1:2] and argv[1] in COUNCIL_STEPS:
        args = build_steps_parser().parse_args(argv[1:])
        args.command = "council-step"
    elif argv[:1] == ["review"] and argv[1:2] and argv[1] in _review_controls():
        from multi_model.review import control

        args = control.add_parser(_Parser(prog="mm review")).parse_args(argv[1:])
        args.command = "review-control"
    else:
        args = build_parser().parse_args(argv)
    try:
        return int(COMMANDS[args.command](args))
    except MultiModelError as exc:
        print(f"mm: {exc}", file=sys.stderr)
        return next(code for cls, code in EXIT_CODES.items() if isinstance(exc, cls))
    except KeyboardInterrupt:
        print("mm: interrupted", file=sys.stderr)
        return 130


def _review_controls() -> tuple[str, ...]:
    from multi_model.review.control import CONTROLS

    return CONTROLS


def cmd_ask(args: argparse.Namespace) -> int:
    from multi_model import demo
    from multi_model.fanout import dispatch
    from multi_model.routing import split_specs

    _check_run_args(args)
    prompt = _read_prompt(args)
    if args.demo:
        env, settings, models = demo.setup(args.models)
    else:
        env = None
        settings, models = _task_and_profile(args, args.models)
    if not models:
        raise UsageError("--models is required (e.g. --models codex,gemini), or --task, "
                         "or --demo")
    specs = split_specs(models)
    if args.background:
        return _ask_background(args, specs, prompt, settings)
    progress = render.Progress(specs, sys.stderr) if sys.stderr.isatty() else None
    responses = dispatch(
        specs, prompt, timeout=args.timeout, allow_cursor_claude=args.allow_cursor_claude,
        allow_claude_cli=args.allow_claude_cli, settings=settings, env=env,
        on_result=progress.update if progress else None, local_only=args.task == "private",
        session=args.session)
    if args.demo:
        responses = demo.label(responses)
    if args.verbose or args.demo:
        sys.stderr.write(render.routing_summary(responses, demo=args.demo))
    _write_json([r.model_dump(mode="json") for r in responses], args.output)
    return _ask_exit(responses)


def _ask_background(args: argparse.Namespace, specs: list[str], prompt: str,
                    settings: object) -> int:
    from multi_model import tasks
    from multi_model.jobs import Jobs

    if args.demo:
        raise UsageError("--background does not run the --demo panel")
    if args.session:
        from multi_model.sessions import preflight

        preflight(args.session, specs, settings,  # type: ignore[arg-type]
                  args.allow_claude_cli, args.allow_cursor_claude)
    request = {"models": specs, "timeout": args.timeout,
               "profile": args.profile or tasks.env_profile(),
               "allow_cursor_claude": args.allow_cursor_claude,
               "allow_claude_cli": args.allow_claude_cli, "local_only": args.task == "private",
               "session": args.session}
    # a session's turn is never joined: the same words may well be the next turn
    job_id, joined = Jobs(os.environ).submit("ask", request, prompt,
                                             fresh=args.fresh or bool(args.session))
    _write_json({"job": job_id, "joined": joined, "status": "running",
                 "next": f"mm jobs result {job_id}"}, None)
    return EXIT_OK


def cmd_jobs(args: argparse.Namespace) -> int:
    from multi_model.council.hosted import job as council_job
    from multi_model.jobs import Jobs

    council_job.register()  # a council run is a job too
    jobs = Jobs(os.environ)
    if args.action == "list":
        rows = jobs.list()
        if args.format == "json":
            _write_json(rows, None)
        else:
            sys.stdout.write(render.jobs_table(rows))
        return EXIT_OK
    if not args.job:
        raise UsageError(f"mm jobs {args.action} needs a job id (see `mm jobs list`)")
    if args.action == "cancel":
        print(f"job {args.job}: {jobs.cancel(args.job)}")
        return EXIT_OK
    row = jobs.refresh(args.job)
    if args.action == "status":
        _write_json(row, None) if args.format == "json" else sys.stdout.write(
            render.jobs_table([row]))
        return EXIT_OK
    if row["status"] == "running":
        print(f"mm: job {args.job} is still running; run this again later", file=sys.stderr)
        return EXIT_PENDING
    result = jobs.result(args.job)
    if result is None:
        print(f"mm: job {args.job} {row['status']}: {row['error'] or 'no result'}",
              file=sys.stderr)
        return EXIT_ALL_FAILED
    _write_json(result, None)
    if row["kind"] == "council":
        assert isinstance(result, dict)
        return EXIT_OK if result.get("stage3_synthesis") else EXIT_ALL_FAILED
    from multi_model.models import Response

    return _ask_exit([Response.model_validate(r) for r in result])


def cmd_sessions(args: argparse.Namespace) -> int:
    from multi_model.sessions import Sessions, check_name
    from multi_model.store import Store

    sessions = Sessions(Store.of(os.environ))
    if args.action == "forget":
        if not args.name:
            raise UsageError("mm sessions forget needs a session name (see `mm sessions`)")
        count = sessions.forget(check_name(args.name))
        if not count:
            raise UsageError(f"no session {args.name!r} (see `mm sessions`)")
        print(f"session {args.name}: forgot {count} conversation{'s' * (count != 1)}; the "
              "next --session turn starts anew")
        return EXIT_OK
    rows = sessions.list(args.name)
    if args.format == "json":
        _write_json([c.__dict__ for c in rows], None)
    else:
        sys.stdout.write(render.sessions_table(rows))
    return EXIT_OK


def _task_and_profile(args: argparse.Namespace, models: str | None) -> tuple[object, str | None]:
    """(settings with --profile applied, or None for the plain config; the models, from
    --task when given)."""
    from multi_model import tasks
    from multi_model.config import load_settings

    profile = args.profile or tasks.env_profile()
    if not (profile or args.task):
        return None, models
    settings, _ = tasks.apply_profile(load_settings().settings, profile)
    if args.task:
        if models:
            raise UsageError("--task picks the models: drop --models/--panel, or --task")
        table, _ = tasks.task(args.task, settings)
        models = ",".join(table.models)
        if args.timeout is None and table.timeout:
            args.timeout = table.timeout
    return settings, models


def cmd_council(args: argparse.Namespace) -> int:
    from multi_model import demo
    from multi_model.config import load_settings
    from multi_model.council import command

    _check_run_args(args)
    question = _read_prompt(args)
    if args.demo:
        env, settings, panel = demo.setup(args.panel)
    else:
        env = dict(os.environ)
        profiled, panel = _task_and_profile(args, args.panel)
        settings = profiled or load_settings().settings
        panel = panel or ",".join(command.default_panel(settings, env))
    options = command.CouncilOptions(
        panel=command.split(panel), chairman=args.chairman, timeout=args.timeout,
        seed=args.seed, min_answers=args.min_answers,
        allow_cursor_claude=args.allow_cursor_claude, allow_claude_cli=args.allow_claude_cli)
    result = command.run(question, options, settings, env,
                         command.progress_stream(args.verbose or args.demo))
    if args.demo:
        result = result.model_copy(update={
            "stage1_responses": demo.label(result.stage1_responses),
            "metadata": {**result.metadata, "demo": True}})
    if args.output:
        _write_json(result.to_dict(), args.output)
    if args.format == "json":
        _write_json(result.to_dict(), None)
    else:
        from multi_model.council.report import render_report

        sys.stdout.write(("**DEMO** stand-in executables, no real model.\n\n" if args.demo
                          else "") + render_report(result))
    return command.exit_code(result)


def _check_run_args(args: argparse.Namespace) -> None:
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        raise UsageError("--timeout must be a positive number of seconds")
    if args.output is not None and not os.access(args.output.parent.resolve(), os.W_OK):
        raise UsageError(f"cannot write --output {args.output}: its folder is not writable")


def _ask_exit(responses: list) -> int:  # type: ignore[type-arg]
    if any(r.status == "ok" for r in responses):
        return EXIT_OK
    if responses and all(r.status in UNREACHABLE for r in responses):
        return EXIT_UNREACHABLE
    return EXIT_ALL_FAILED


def _read_prompt(args: argparse.Namespace) -> str:
    if args.prompt is not None:
        text = args.prompt
    elif args.prompt_file is not None:
        try:
            text = args.prompt_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read --prompt-file {args.prompt_file}: {exc}") from None
    elif sys.stdin is not None and not sys.stdin.isatty():
        text = _read_stdin()
    else:
        raise UsageError("no prompt: give --prompt, --prompt-file, or pipe it on stdin")
    if not text.strip():
        raise UsageError("the prompt is empty")
    return text


def _read_stdin() -> str:
    """The piped prompt, decoded as UTF-8 whatever the locale says."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # a text stream with no bytes underneath (embedding, tests)
        return sys.stdin.read()
    try:
        return raw.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"the prompt on stdin is not UTF-8: {exc}") from None


def _write_json(data: object, path: Path | None) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --output {path}: {exc}") from None


def cmd_detect(args: argparse.Namespace) -> int:
    from multi_model.config import load_settings
    from multi_model.detect import detect_all

    infos = detect_all(load_settings().settings, check_auth=args.check_auth)
    if args.json:
        _write_json([i.as_dict() for i in infos], None)
    else:
        sys.stdout.write(render.detect_table(infos, check_auth=args.check_auth))
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    from multi_model.config import load_settings, resolved_view

    if args.task or args.profile:
        return _config_task(args)
    rows = resolved_view(load_settings())
    if args.json:
        _write_json([{"key": k, "value": v, "source": s} for k, v, s in rows], None)
    else:
        sys.stdout.write(render.config_view(rows))
    return EXIT_OK


def _config_task(args: argparse.Namespace) -> int:
    from multi_model import tasks
    from multi_model.config import load_settings
    from multi_model.fanout import chain_of, route_all

    settings, profile = tasks.apply_profile(load_settings().settings, args.profile
                                            or tasks.env_profile())
    names = [args.task] if args.task else sorted({*tasks.TASKS, *settings.tasks})
    for name in names:
        table, source = tasks.task(name, settings)
        routes = [route_all(chain_of(seat), settings, os.environ) for seat in table.models]
        sys.stdout.write(tasks.describe(name, settings, routes, source, profile))
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from multi_model.catalog import list_models
    from multi_model.config import load_settings

    listings = list_models(load_settings().settings, os.environ, args.provider)
    if args.json:
        _write_json([listing.as_dict() for listing in listings], None)
    else:
        sys.stdout.write(render.models_view(listings))
    return EXIT_OK


def cmd_council_step(args: argparse.Namespace) -> int:
    from multi_model.council import stepview
    from multi_model.council.hosted import machine, rundir, submission

    if args.step == "start":
        _check_run_args(args)
        return stepview.start(args, _read_prompt(args))
    if args.step == "prepare":
        _write_json({"question_file": str(rundir.question_path(os.environ))}, None)
        return EXIT_OK
    run = rundir.find_run(args.run, os.environ)
    if args.step == "next":
        return stepview.next_step(run, args.wait, args.format)
    if args.step == "submit":
        text = _read_submission(args, run)
        step = submission.submit(run, args.seat, text, args.stage)
    elif args.step == "status":
        step = machine.status(run)
    else:
        if not (math.isfinite(args.wait) and args.wait >= 0):
            raise UsageError("--wait must be a number of seconds >= 0")
        target = {"rank": "review", "synthesize": "synthesis", "result": "done"}[args.step]
        step = machine.advance(run, target, args.wait)  # type: ignore[arg-type]
    if step.result is not None and args.output:
        _write_json(step.result.to_dict(), args.output)
    stepview.show(step, args.format, sys.stdout)
    if step.result is not None:
        return 0 if step.result.stage3_synthesis is not None else EXIT_ALL_FAILED
    return EXIT_OK if step.done else EXIT_PENDING


def _read_submission(args: argparse.Namespace, run: object) -> str:
    from multi_model.council.hosted import rundir, submission

    assert isinstance(run, rundir.Run)
    seat = submission.agent_seat(run, args.seat)
    if args.file == "-":
        return _read_stdin()
    if args.file:
        path = Path(args.file)
    else:
        stage = args.stage or submission.open_stage_of(run, seat)
        if stage is None:
            raise UsageError(f"{args.seat} has no open task (see `mm council status`)")
        path = run.task_paths(stage, args.seat)[1]
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the reply {path}: {exc}") from None


def cmd_review(args: argparse.Namespace) -> int:
    from multi_model.config import load_settings
    from multi_model.fanout import dispatch
    from multi_model.review import engine

    _check_run_args(args)
    env = dict(os.environ)
    settings = load_settings(None, env).settings
    if args.explain_deny is not None:
        return _explain_deny(args.explain_deny, [*settings.review.deny, *args.deny])
    try:
        models = engine.reviewers(args.models, settings, env)
        change = engine.collect(args.paths, Path.cwd(), [*settings.review.deny, *args.deny])
    except engine.ReviewInputError as exc:
        raise UsageError(str(exc)) from None
    read_project = settings.review.read_project
    with engine.reviewer_cwd(os.getcwd(), read_project) as where:
        result = engine.review(
            change, models, lambda prompt, specs: dispatch(specs, prompt, timeout=args.timeout,
                                                           settings=settings, env=env, cwd=where),
            audit=engine.audit_path(env), intro=engine.PROJECT_INTRO if read_project else "")
    if args.output:
        _write_json(result.model_dump(mode="json"), args.output)
    if args.format == "json":
        _write_json(result.model_dump(mode="json"), None)
    else:
        sys.stdout.write(engine.to_markdown(result))
    ran = [r for r in result.reviewers if r.status == "ok"]
    return EXIT_OK if ran or not result.reviewers else EXIT_ALL_FAILED


def _explain_deny(path: str, deny: list[str]) -> int:
    from multi_model.review import engine
    from multi_model.review.deny import DenyList, DenyPatternError

    try:
        rules = DenyList(deny)
    except DenyPatternError as exc:
        raise UsageError(str(exc)) from None
    sys.stdout.write(rules.explain(path, engine.repository_root(Path.cwd())))
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from multi_model import history
    from multi_model.store import Store

    since = history.parse_since(args.since)
    store = Store.of(os.environ)
    if not store.path.exists():
        sys.stdout.write(history.render([], (), args.format) if args.format == "table"
                         else ("[]\n" if args.format == "json" else ""))
        return EXIT_OK
    if args.stats:
        rows, columns = history.stats(store, since, args.provider), history.STATS_COLUMNS
    elif args.costs:
        rows, columns = history.costs(store, since, args.provider), history.COSTS_COLUMNS
    else:
        rows = history.listing(store, since, args.provider, max(1, args.limit))
        columns = history.LIST_COLUMNS
    sys.stdout.write(history.render(rows, columns, args.format))
    return EXIT_OK


def cmd_review_control(args: argparse.Namespace) -> int:
    from multi_model.review import control

    return control.run(args)


COMMANDS = {"ask": cmd_ask, "review": cmd_review, "review-control": cmd_review_control,
            "council-step": cmd_council_step, "detect": cmd_detect, "config": cmd_config,
            "history": cmd_history, "jobs": cmd_jobs, "sessions": cmd_sessions,
            "models": cmd_models, "council": cmd_council}


def main_ask() -> int:
    return main(["ask", *sys.argv[1:]])


def main_detect() -> int:
    return main(["detect", *sys.argv[1:]])


def main_council() -> int:
    return main(["council", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
