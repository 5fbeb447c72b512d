"""What several commands share: the run flags, the prompt (--prompt, --prompt-file or stdin),
--output and JSON on stdout, --task/--profile, and `--demo`, read here and nowhere else."""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from multi_model import demo, store, tasks
from multi_model.config import Settings, load_settings
from multi_model.errors import UsageError

FORMATS = ("text", "md", "json")
_FORMAT_ALIASES = {"table": "text"}  # `--format table`, the old name of text


def add_format(
    p: argparse.ArgumentParser, default: str | None = "text", extra: tuple[str, ...] = ()
) -> None:
    """`--format text|md|json` (and `extra`), with `--json` as its alias; default None: the
    command decides (`ask`: text on a terminal, JSON when piped)."""
    p.add_argument(
        "--format",
        type=lambda value: _FORMAT_ALIASES.get(value, value),
        choices=(*FORMATS, *extra),
        default=default,
        help="output on stdout (default: "
        + (default or "text on a terminal, json when piped")
        + ")",
    )
    p.add_argument(
        "--json", dest="format", action="store_const", const="json", help="same as --format json"
    )


DEMOS = ("canned", "local")


def add_run_flags(p: argparse.ArgumentParser) -> None:
    """The flags of every command that asks models: prompt source, output, timeout, Claude
    opt-ins, verbosity, the demo panel, task and profile."""
    source = p.add_mutually_exclusive_group()
    source.add_argument("--prompt", help="the prompt text (else --prompt-file, else stdin)")
    source.add_argument("--prompt-file", type=Path)
    p.add_argument("--output", type=Path, help="write the full JSON here")
    p.add_argument("--timeout", type=float, help="seconds per model (default 300)")
    p.add_argument(
        "--allow-cursor-claude",
        action="store_true",
        help="let Claude models run through cursor-agent",
    )
    p.add_argument(
        "--allow-claude-cli", action="store_true", help="let Claude models run through `claude -p`"
    )
    p.add_argument("--verbose", action="store_true", help="routing and progress on stderr")
    p.add_argument(
        "--demo",
        nargs="?",
        const="canned",
        choices=DEMOS,
        help="use a DEMO panel: `--demo` stand-in executables with canned text (instant), "
        "`--demo local` a real small model on this machine (first use installs 127 MB)",
    )
    p.add_argument(
        "--task",
        help="pick the models from the task table: simple, analysis, "
        "complex, code, review, private (local models only), or one of [tasks]",
    )
    p.add_argument(
        "--profile",
        help="lay a named set of settings over the config: budget, "
        "local-only, or one of [profiles] (env MULTI_MODEL_PROFILE)",
    )


def recorded(source: str, demo_run: bool, run_id: str = "") -> AbstractContextManager[None]:
    """Label the calls made inside in the history: a new run id (or `run_id`), `source`
    (ask, council, review), and demo for the --demo panel's stand-ins."""
    run_id = run_id or f"{source}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    return store.context(run_id=run_id, source=source, demo="1" if demo_run else "")


def panel(
    args: argparse.Namespace,
    models: str | None,
    own: Callable[[argparse.Namespace, str | None], demo.Panel],
    *,
    local: bool = False,
) -> demo.Panel:
    """The one place `--demo` is read: the bundled stand-ins, a real local model (`--demo
    local`, for commands that run in this process only: `local`), or `own(args, models)` (the
    user's CLIs and config, as the command loads them)."""
    if args.demo == "local":
        if not local:
            raise UsageError("--demo local runs with `mm ask` and `mm council` only")
        if args.task or args.profile:
            raise UsageError("--demo local picks its own seats: drop --task/--profile")
        if getattr(args, "background", False):
            raise UsageError("--background does not run the --demo panel")
        from multi_model.demo import local as local_demo  # noqa: PLC0415 - start-up: --demo local only

        return local_demo.panel(models)
    return demo.panel(models) if args.demo else own(args, models)


def profiled(args: argparse.Namespace, models: str | None) -> demo.Panel:
    """The user's panel with --profile laid over the config (settings None: none given, the
    plain config is loaded where it is used) and the models of --task, when given."""
    profile = args.profile or tasks.env_profile()
    if not (profile or args.task):
        return demo.Panel(models=models)
    settings, _ = tasks.apply_profile(load_settings().settings, profile)
    if args.task:
        if models:
            raise UsageError("--task picks the models: drop --models/--panel, or --task")
        table, _ = tasks.task(args.task, settings)
        models = ",".join(table.models)
        if args.timeout is None and table.timeout:
            args.timeout = table.timeout
    return demo.Panel(settings=settings, models=models)


def settings_of(found: demo.Panel) -> Settings:
    """The panel's settings, else the plain config."""
    return found.settings or load_settings().settings


def check_run_args(args: argparse.Namespace) -> None:
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        raise UsageError(f"--timeout {args.timeout:g}: must be a positive number of seconds")
    if args.output is not None and not os.access(args.output.parent.resolve(), os.W_OK):
        raise UsageError(f"cannot write --output {args.output}: its folder is not writable")


def read_prompt(args: argparse.Namespace) -> str:
    """--prompt, else --prompt-file, else piped stdin; UsageError for none or an empty one."""
    if args.prompt is not None:
        text: str = args.prompt
    elif args.prompt_file is not None:
        text = read_file(args.prompt_file, "--prompt-file")
    elif sys.stdin is not None and not sys.stdin.isatty():
        text = read_stdin()
    else:
        raise UsageError("no prompt: give --prompt, --prompt-file, or pipe it on stdin")
    if not text.strip():
        raise UsageError("the prompt is empty")
    return text


def read_file(path: Path, what: str) -> str:
    """The file as UTF-8; UsageError naming `what` when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {what} {path}: {exc}") from None


def read_stdin() -> str:
    """The piped prompt, decoded as UTF-8 whatever the locale says."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # a text stream with no bytes underneath (embedding, tests)
        return sys.stdin.read()
    try:
        data: bytes = raw.read()
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"the prompt on stdin is not UTF-8: {exc}") from None


def write_json(data: object, path: Path | None = None) -> None:
    """Indented JSON to stdout, or to `path` (--output; UsageError when not writable)."""
    write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", path)


def write_text(text: str, path: Path | None = None) -> None:
    """`text` to stdout, or to `path` (--output; UsageError when not writable)."""
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --output {path}: {exc}") from None
