"""The Claude Code hooks of the edit review (stdlib only; never runs a model).

    PostToolUse   Edit / Write / NotebookEdit: record the change in the session's queue and,
                  in `edit` mode, make sure the session's background reviewer runs. Any tool
                  (main conversation only): new findings go to Claude as additionalContext.
    UserPromptSubmit  new findings as additionalContext.
    Stop          wait up to `stop_wait` s for the turn's edits to be reviewed (`stop` mode
                  starts the review here); if findings at or above `block_on` are left that
                  Claude has not seen, or saw and did not touch the file since, block the stop
                  once with a short list. With `stop_hook_active` it never blocks.
    SessionEnd    the reviewer exits once nothing is left to review.

Every path exits 0. An internal error is logged under the data dir and costs the session
nothing; a reviewer that fails costs a status line (systemMessage).
"""

from __future__ import annotations

import json
import os
import sys
import time

from multi_model.review.entries import entry_from_payload, relative
from multi_model.review.findings import TAG, all_findings, at_least, failures, format_findings
from multi_model.review.session import (
    Session,
    resolve_mode,
    review_root,
    setting,
    user_review_settings,
)

TYPE_CHECKING = False  # no `typing` at run time: this runs on every tool call
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

EDIT_TOOLS = ("Edit", "Write", "NotebookEdit", "MultiEdit")
PER_DELIVERY = 10  # findings per additionalContext; the rest come with the next event
POLL_S = 0.2


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    try:
        payload = json.loads(sys.stdin.read() or "{}")
        out = handle(payload, env) if isinstance(payload, dict) else None
        if out:
            sys.stdout.write(json.dumps(out))
            sys.stdout.flush()
    except Exception:  # noqa: BLE001 - a hook must never break the session
        _log_error(env)
    return 0


def handle(payload: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any] | None:
    project = env.get("CLAUDE_PROJECT_DIR") or payload.get("cwd") or os.getcwd()
    mode, _ = resolve_mode(env, project)
    session_id = payload.get("session_id") or env.get("CLAUDE_CODE_SESSION_ID")
    if mode == "off" or not session_id:
        return None
    session = Session.of(env, str(session_id))
    event = payload.get("hook_event_name")
    if event == "PostToolUse":
        return post_tool(payload, session, mode, project, env)
    if event == "UserPromptSubmit":
        return deliver(session, "UserPromptSubmit")
    if event == "Stop":
        return stop(payload, session, project, env)
    if event == "SessionEnd" and session.dir.is_dir():
        (session.dir / "ended").write_text(str(time.time()))
    return None


def post_tool(
    payload: Mapping[str, Any], session: Session, mode: str, project: str, env: Mapping[str, str]
) -> dict[str, Any] | None:
    if payload.get("tool_name") in EDIT_TOOLS:
        deny = user_review_settings(env).get("deny") or ()
        entry = entry_from_payload(payload, project, tuple(x for x in deny if isinstance(x, str)))
        if entry is not None:
            session.create(project)
            session.append(entry)
            if mode == "edit":
                session.start_worker(env, project)
    if payload.get("agent_id"):  # a subagent's tool: its context is not the one that edited
        return None
    return deliver(session, "PostToolUse")


def deliver(session: Session, event: str) -> dict[str, Any] | None:
    """New findings (and new reviewer failures) since the last delivery."""
    if not session.reviews_file.exists():
        return None
    reviews = session.reviews()
    with session.delivering() as seen:
        new = [
            (k, f)
            for k, f, _ in all_findings(reviews)
            if k not in seen["shown"] and k not in seen["gated"]
        ]
        text, shown = format_findings(new[:PER_DELIVERY])
        now = time.time()
        for key in shown:
            seen["shown"][key] = now
        notes = _new_failures(reviews, seen)
    out: dict[str, Any] = {}
    if shown:
        out["hookSpecificOutput"] = {"hookEventName": event, "additionalContext": f"{TAG}\n{text}"}
    if notes:
        out["systemMessage"] = "multi-model review: " + "; ".join(notes)
    return out or None


def _new_failures(reviews: list[dict[str, Any]], seen: dict[str, Any]) -> list[str]:
    notes = []
    for review in reviews:
        rid = review.get("id")
        if rid in seen["statuses"]:
            continue
        seen["statuses"].append(rid)
        notes += failures(review)
        notes += [f"not sent: {x}" for x in review.get("skipped") or []]
        if review.get("error"):
            notes.append(str(review["error"]))
    return notes


def stop(
    payload: Mapping[str, Any], session: Session, project: str, env: Mapping[str, str]
) -> dict[str, Any] | None:
    if payload.get("stop_hook_active") or not session.dir.is_dir():
        return None  # blocked once already: never again in this stop
    notes = []
    target = session.reviewable_end()
    if session.cursor() < target:
        session.request_flush(target)
        waited = wait_for_reviews(session, target, float(setting(env, "stop_wait")), env, project)
        if waited:
            notes.append(waited)
    threshold = str(setting(env, "block_on"))
    edits = [e for e, _ in session.edits()]
    reviews = session.reviews()
    with session.delivering() as seen:
        now = time.time()
        listed = []
        for key, finding, _ in all_findings(reviews):
            if key in seen["gated"] or not at_least(finding.get("severity"), threshold):
                continue
            shown = seen["shown"].get(key)
            if shown is not None and edited_since(edits, finding, shown, project):
                continue  # Claude was told and changed the file since: taken as addressed
            listed.append((key, finding))
        text, included = format_findings(listed)
        for key in included:
            seen["gated"].append(key)
            seen["shown"].setdefault(key, now)
        notes += _new_failures(reviews, seen)
    out: dict[str, Any] = {}
    if notes:
        out["systemMessage"] = "multi-model review: " + "; ".join(notes)
    if included:
        out["decision"] = "block"
        out["reason"] = (
            f"{TAG}\n{len(listed)} finding(s) at or above '{threshold}' are not addressed:\n"
            f"{text}\n"
            "Fix the real ones now, or tell the user which you are leaving and why. "
            "This check will not block again for these findings."
        )
    return out or None


def wait_for_reviews(
    session: Session, target: int, wait_s: float, env: Mapping[str, str], project: str
) -> str | None:
    """Until the queue up to `target` is reviewed, or `wait_s` passes. Starts the reviewer
    when none runs (at most twice, in case it dies). A note when it did not finish."""
    deadline = time.monotonic() + wait_s
    starts = 0
    while session.cursor() < target:
        if time.monotonic() >= deadline:
            return "still reviewing the last edits; findings will follow"
        if not session.worker_running():
            if starts == 2:
                return f"the reviewer stopped without finishing (log: {session.log})"
            starts += session.start_worker(env, project)  # False: one holds the lock
        time.sleep(POLL_S)
    return None


def edited_since(
    edits: list[dict[str, Any]], finding: Mapping[str, Any], since: float, project: str
) -> bool:
    name = str(finding.get("file") or "")
    target = relative(name, project) if os.path.isabs(name) else os.path.normpath(name)
    return any(
        e.get("t", 0) > since and os.path.normpath(str(e.get("file"))) == target for e in edits
    )


def _log_error(env: Mapping[str, str]) -> None:
    import traceback  # noqa: PLC0415 - the error path only: a hook that works skips ~2 ms

    try:
        folder = review_root(env)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(folder / "hook-errors.log", "a", encoding="utf-8") as f:
            f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n{traceback.format_exc()}")
    except Exception:  # noqa: BLE001, S110 - nowhere left to report it
        pass
