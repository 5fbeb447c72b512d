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
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from multi_model.errors import UsageError
from multi_model.review.session import (
    KILL_SWITCH,
    MODES,
    Session,
    all_findings,
    failures,
    resolve_mode,
    review_root,
    set_mode,
)

CONTROLS = ("on", "off", "mode", "status", "_watch")


def add_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    sub = parser.add_subparsers(dest="control", required=True, parser_class=type(parser))
    for name, text in (("on", "review Claude's edits as they happen (mode edit)"),
                       ("off", "stop reviewing Claude's edits")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--global", dest="everywhere", action="store_true",
                       help="the default for every project, not only this one")
    p = sub.add_parser("mode", help="set the mode: off, stop (at Stop), edit (as edits happen)")
    p.add_argument("mode", choices=MODES)
    p.add_argument("--global", dest="everywhere", action="store_true")
    p = sub.add_parser("status", help="mode, pending edits and findings of a session")
    p.add_argument("--session", help="session id (default: the newest of this project)")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p = sub.add_parser("_watch", help=argparse.SUPPRESS)  # started by the hooks
    p.add_argument("session_dir", type=Path)
    p.add_argument("--lock-fd", type=int, required=True)
    return parser


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.control == "_watch":
        from multi_model.review import watch

        return watch.main(args.session_dir, args.lock_fd)
    project = project_dir(env)
    if args.control == "status":
        return status(env, project, args.session, args.format)
    mode = {"on": "edit", "off": "off"}.get(args.control) or args.mode
    set_mode(env, mode, None if args.everywhere else project)
    effective, source = resolve_mode(env, project)
    scope = "every project" if args.everywhere else project
    print(f"Review of Claude's edits: {mode} for {scope}.")
    if effective != mode:
        print(f"Still {effective} here, set by {source}.")
    elif mode != "off":
        print("Claude's edits (deny-listed files excepted, secrets redacted) go to the "
              f"reviewers: {describe_reviewers(env, project)}. Turn it off with "
              "`/multi-model:review off`.")
    return 0


def project_dir(env: dict[str, str]) -> str:
    """The folder a mode is remembered for: $CLAUDE_PROJECT_DIR, else the git top level of
    the current folder, else the current folder."""
    if env.get("CLAUDE_PROJECT_DIR"):
        return env["CLAUDE_PROJECT_DIR"]
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=10, check=False,
                              env={k: v for k, v in env.items() if k in ("PATH", "HOME")})
    except (OSError, subprocess.TimeoutExpired):
        return os.getcwd()
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else os.getcwd()


def describe_reviewers(env: dict[str, str], project: str) -> str:
    from multi_model.config import load_settings
    from multi_model.review import engine

    try:
        return ", ".join(engine.reviewers(None, load_settings(project, env).settings, env))
    except (engine.ReviewInputError, UsageError) as exc:
        return f"none yet ({exc})"


def find_session(env: dict[str, str], project: str, session_id: str | None) -> Session | None:
    if session_id:
        session = Session.of(env, session_id)
        if not session.dir.is_dir():
            raise UsageError(f"no review session {session_id!r} under {review_root(env)}")
        return session
    sessions = [Session(p) for p in (review_root(env) / "sessions").glob("*") if p.is_dir()]
    mine = [s for s in sessions if s.meta.get("project") == os.path.realpath(project)]
    return max(mine, key=lambda s: s.dir.stat().st_mtime, default=None)


def status(env: dict[str, str], project: str, session_id: str | None, fmt: str) -> int:
    mode, source = resolve_mode(env, project)
    session = find_session(env, project, session_id)
    view: dict[str, Any] = {"mode": mode, "mode_source": source, "project": project,
                            "session": None}
    if session is not None:
        seen = session.delivery()
        reviews = session.reviews()
        findings = []
        for key, f, t in all_findings(reviews):
            state = ("listed at Stop" if key in seen["gated"] else
                     "shown to Claude" if key in seen["shown"] else "not shown yet")
            findings.append({**f, "key": key, "found_at": t, "state": state})
        view["session"] = {
            "id": session.dir.name, "dir": str(session.dir),
            "reviewer_running": session.worker_running(),
            "edits": len(session.edits()), "pending_edits": len(session.edits(session.cursor())),
            "reviews": len(reviews), "findings": findings,
            "failures": [x for r in reviews for x in failures(r)]
            + [str(r["error"]) for r in reviews if r.get("error")]}
    if fmt == "json":
        json.dump(view, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_markdown(view))
    return 0


def to_markdown(view: dict[str, Any]) -> str:
    lines = [f"## Edit review: {view['mode']} (set by {view['mode_source']})", ""]
    if view["mode_source"].startswith("env"):
        lines.append(f"The kill switch {KILL_SWITCH} is set: nothing is recorded or sent.")
    s = view["session"]
    if s is None:
        lines.append(f"No review session yet for {view['project']}.")
        return "\n".join(lines) + "\n"
    running = "running" if s["reviewer_running"] else "not running"
    lines += [f"Session {s['id']}: {s['edits']} edit(s) recorded, {s['pending_edits']} waiting "
              f"for review; {s['reviews']} review(s); reviewer {running}.", ""]
    if not s["findings"]:
        lines.append("No findings.")
    for n, f in enumerate(s["findings"], 1):
        where = f"{f['file']}:{f['line']}" if f.get("line") else f["file"]
        when = time.strftime("%H:%M:%S", time.localtime(f["found_at"]))
        lines.append(f"{n}. **{f['severity']}** {where}: {f['title']} ({f.get('agreement')}: "
                     f"{', '.join(f.get('reviewers') or [])}; {when}, {f['state']})")
        lines.append(f"   {f['detail']}")
    if s["failures"]:
        lines += ["", "Reviewer problems: " + "; ".join(s["failures"])]
    return "\n".join(lines) + "\n"
