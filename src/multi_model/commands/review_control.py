"""`mm review on | off | mode MODE | status`: the hook-driven review's switch and its view.

on [--global]         mode `edit` for this project (its git top level, else the current
                      folder), or the default for every project
off [--global]        nothing is recorded or sent
mode off|stop|edit    as above, naming the mode (`stop`: one review per turn, at Stop)
status [--session ID] [--format md|json]
                      mode and where it came from, the session's reviewer, pending edits,
                      and its findings (newest session of this project by default)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from multi_model.commands import REVIEW_CONTROLS, common, exits
from multi_model.review import control, watch
from multi_model.review.session import MODES, resolve_mode, set_mode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="control", required=True, parser_class=type(parser))
    for name in ("on", "off"):
        p = sub.add_parser(name, help=REVIEW_CONTROLS[name])
        p.add_argument(
            "--global",
            dest="everywhere",
            action="store_true",
            help="the default for every project, not only this one",
        )
    p = sub.add_parser("mode", help=REVIEW_CONTROLS["mode"])
    p.add_argument("mode", choices=MODES)
    p.add_argument("--global", dest="everywhere", action="store_true")
    p = sub.add_parser("status", help=REVIEW_CONTROLS["status"])
    p.add_argument("--session", help="session id (default: the newest of this project)")
    common.add_format(p, default="md")
    p = sub.add_parser("_watch", help=argparse.SUPPRESS)  # started by the hooks
    p.add_argument("session_dir", type=Path)
    p.add_argument("--lock-fd", type=int, required=True)


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.control == "_watch":
        return watch.main(args.session_dir, args.lock_fd)
    project = control.project_dir(env)
    if args.control == "status":
        control.status(env, project, args.session, args.format)
        return exits.Exit.OK
    mode = {"on": "edit", "off": "off"}.get(args.control) or args.mode
    set_mode(env, mode, None if args.everywhere else project)
    effective, source = resolve_mode(env, project)
    scope = "every project" if args.everywhere else project
    print(f"Review of Claude's edits: {mode} for {scope}.")
    if not args.everywhere and mode != "off" and not control.in_repository(project):
        warn(
            f"{project} is not in a git repository: the setting covers this folder only, "
            "not the projects below it (run `mm review on` inside each)"
        )
    if effective != mode:
        print(f"Still {effective} here, set by {source}.")
    elif mode != "off":
        found, why = control.reviewers(env, project)
        if not found:
            warn(f"no reviewer is available ({why}); edits are not reviewed until one is")
        print(
            "Claude's edits (deny-listed files excepted, secrets redacted) go to the "
            f"reviewers: {', '.join(found) or 'none yet'}. Turn it off with "
            "`/multi-model:review off`."
        )
    return exits.Exit.OK


def warn(text: str) -> None:
    """A warning on stderr, after what stdout already said (piped stdout is buffered: a
    reader of both streams, such as Claude's Bash tool, would see the warning first)."""
    sys.stdout.flush()
    print(f"mm: warning: {text}", file=sys.stderr)
