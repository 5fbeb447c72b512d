"""The edit-review hooks inside the real Claude Code: a scripted Write fires the PostToolUse
hook, the session's background reviewer (the demo stand-ins as reviewer CLIs) finds the
eval(), and the finding reaches the model in a later request; the Stop gate blocks exactly
once; with the review off nothing is recorded or sent."""

from __future__ import annotations

import json
from pathlib import Path

from multi_model.review.session import Session
from tests.plugin.conftest import Claude, Run
from tests.review.test_hook import assert_no_reviewer_left

CONTEXT = "PostToolUse:Read hook additional context: [multi-model review]"
FINDING = "app.py:2: [DEMO] eval() on data (2 of 2: codex, gemini)"
FEEDBACK = "Stop hook feedback:"


def run_edit(claude: Claude, tmp_path: Path, mode: str | None, wait: float) -> tuple[Run, Session]:
    config = tmp_path / "xdg" / "multi-model"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(
        '[review]\nreviewers = ["codex", "gemini"]\nquiet = 0.3\nidle_exit = 20\n'
    )
    settings = (
        []
        if mode is None
        else [
            "--settings",
            json.dumps(
                {"pluginConfigs": {"multi-model@inline": {"options": {"review_mode": mode}}}}
            ),
        ]
    )
    run = claude.run(
        f"PLEASE_EDIT {{project}}/app.py wait={wait}",
        "--permission-mode",
        "acceptEdits",
        *settings,
        env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
    )
    assert run.code == 0, run.stderr[-2000:]
    assert run.result["subtype"] == "success"
    assert [c["name"] for c in run.tool_calls()] == ["Write", "Read"]
    sid = run.init["session_id"]
    return run, Session.of({"HOME": str(run.home)}, sid)


def request_texts(run: Run) -> list[str]:
    """Per request, everything after the model's last turn: hook output arrives there in a
    tool_result's reminder (2.1.197), a role "system" message, or a user reminder followed
    by a system message (2.1.198+)."""
    return [json.dumps(after_last_turn(r["body"].get("messages", []))) for r in run.requests]


def after_last_turn(messages: list[dict]) -> list[dict]:
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1)
    return messages[last + 1 :]


def test_edit_mode_finding_reaches_the_model_and_stop_blocks_once(
    claude: Claude, tmp_path: Path
) -> None:
    run, session = run_edit(claude, tmp_path, "edit", wait=8)
    texts = request_texts(run)
    with_context = [i for i, t in enumerate(texts) if CONTEXT in t]
    assert len(with_context) == 1 and FINDING in texts[with_context[0]]
    feedback = [i for i, t in enumerate(texts) if FEEDBACK in t]
    assert len(feedback) == 1 and feedback[0] > with_context[0]
    assert "not addressed" in texts[feedback[0]] and FINDING in texts[feedback[0]]
    [review] = session.reviews()
    assert review["sent"] == ["app.py"] and review["edits"] == 1
    assert_no_reviewer_left(session)  # SessionEnd: it exits once nothing is left


def test_stop_mode_reviews_at_stop_and_blocks_once(claude: Claude, tmp_path: Path) -> None:
    run, session = run_edit(claude, tmp_path, "stop", wait=0)
    texts = request_texts(run)
    assert not any(CONTEXT in t for t in texts)
    feedback = [t for t in texts if FEEDBACK in t]
    assert len(feedback) == 1 and FINDING in feedback[0]
    assert len(session.reviews()) == 1
    assert_no_reviewer_left(session)


def test_review_off_records_and_sends_nothing(claude: Claude, tmp_path: Path) -> None:
    run, session = run_edit(claude, tmp_path, None, wait=0)
    assert not any("multi-model review" in json.dumps(r["body"]) for r in run.requests)
    assert not session.dir.exists()
    audit = session.dir.parents[2] / "review-audit.jsonl"
    lines = audit.read_text().splitlines() if audit.exists() else []
    assert not [x for x in lines if session.dir.name in x]
    hooks = [e for e in run.events if e.get("subtype") == "hook_response"]
    assert hooks and all(e.get("outcome") == "success" for e in hooks), hooks[:3]
