"""The hook-driven review's switch and its view, behind `mm review on | off | mode | status`
(commands/review_control.py): the project a mode is kept for, the reviewers, the status."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from multi_model import runner
from multi_model.config import load_settings
from multi_model.errors import UsageError
from multi_model.review import engine
from multi_model.review.findings import all_findings, failures
from multi_model.review.session import (
    KILL_SWITCH,
    Session,
    resolve_mode,
    review_root,
)


def project_dir(env: dict[str, str]) -> str:
    """The folder a mode is remembered for: $CLAUDE_PROJECT_DIR, else the git top level of
    the current folder, else the current folder."""
    if env.get("CLAUDE_PROJECT_DIR"):
        return env["CLAUDE_PROJECT_DIR"]
    top = runner.run_quick(
        ["git", "rev-parse", "--show-toplevel"],
        timeout=10,
        env={k: v for k, v in env.items() if k in ("PATH", "HOME")},
    )
    return top.strip() if top and top.strip() else os.getcwd()


def describe_reviewers(env: dict[str, str], project: str) -> str:
    found, why = reviewers(env, project)
    return ", ".join(found) if found else f"none yet ({why})"


def reviewers(env: dict[str, str], project: str) -> tuple[list[str], str]:
    """(the reviewers a review here would ask, why there are none)."""
    try:
        return engine.reviewers(None, load_settings(project, env).settings, env), ""
    except (engine.ReviewInputError, UsageError) as exc:
        return [], str(exc)


def in_repository(folder: str) -> bool:
    return any((p / ".git").exists() for p in (Path(folder), *Path(folder).parents))


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
    view: dict[str, Any] = {
        "mode": mode,
        "mode_source": source,
        "project": project,
        "session": None,
    }
    if session is not None:
        seen = session.delivery()
        reviews = session.reviews()
        findings = []
        for key, f, t in all_findings(reviews):
            state = (
                "listed at Stop"
                if key in seen["gated"]
                else "shown to Claude"
                if key in seen["shown"]
                else "not shown yet"
            )
            findings.append({**f, "key": key, "found_at": t, "state": state})
        view["session"] = {
            "id": session.dir.name,
            "dir": str(session.dir),
            "reviewer_running": session.worker_running(),
            "edits": len(session.edits()),
            "pending_edits": len(session.edits(session.cursor())),
            "reviews": len(reviews),
            "findings": findings,
            "failures": [x for r in reviews for x in failures(r)]
            + [str(r["error"]) for r in reviews if r.get("error")],
        }
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
    lines += [
        f"Session {s['id']}: {s['edits']} edit(s) recorded, {s['pending_edits']} waiting "
        f"for review; {s['reviews']} review(s); reviewer {running}.",
        "",
    ]
    if not s["findings"]:
        lines.append("No findings.")
    for n, f in enumerate(s["findings"], 1):
        where = f"{f['file']}:{f['line']}" if f.get("line") else f["file"]
        when = time.strftime("%H:%M:%S", time.localtime(f["found_at"]))
        lines.append(
            f"{n}. **{f['severity']}** {where}: {f['title']} ({f.get('agreement')}: "
            f"{', '.join(f.get('reviewers') or [])}; {when}, {f['state']})"
        )
        lines.append(f"   {f['detail']}")
    if s["failures"]:
        lines += ["", "Reviewer problems: " + "; ".join(s["failures"])]
    return "\n".join(lines) + "\n"
