"""The edit review's session state in-process: where the mode comes from, the cached
`[review]` settings, hook payloads turned into queue entries, the findings text, and
`mm review on | off | mode | status`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from multi_model.config import load_settings
from multi_model.errors import ConfigError
from multi_model.review import session as s
from tests.conftest import run_mm


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"MULTI_MODEL_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}


def config(env: dict[str, str], text: str) -> None:
    path = Path(env["MULTI_MODEL_HOME"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- mode precedence ---------------------------------------------------------------------------

def test_mode_precedence_from_kill_switch_down_to_default(env: dict[str, str]) -> None:
    project = "/work/app"
    assert s.resolve_mode(env, project) == ("off", "default")
    config(env, '[review]\nmode = "stop"\n')
    assert s.resolve_mode(env, project)[0] == "stop"
    env[s.OPTION_MODE] = "EDIT"
    assert s.resolve_mode(env, project) == ("edit", "plugin option review_mode")
    s.set_mode(env, "off", None)
    assert s.resolve_mode(env, project) == ("off", "`mm review --global`")
    s.set_mode(env, "stop", project)
    assert s.resolve_mode(env, project + "/sub/dir") == ("stop", f"`mm review` for {project}")
    assert s.resolve_mode(env, "/work/other")[0] == "off"
    env[s.KILL_SWITCH] = "1"
    assert s.resolve_mode(env, project) == ("off", f"env {s.KILL_SWITCH}")
    env[s.KILL_SWITCH] = "0"
    assert s.resolve_mode(env, project)[0] == "stop"


def test_unknown_mode_values_are_ignored(env: dict[str, str]) -> None:
    config(env, '[review]\nmode = "always"\n')
    assert s.resolve_mode({**env, s.OPTION_MODE: "yes"}, "/p") == ("off", "default")
    s.mode_file(env).write_text("not json")
    assert s.resolve_mode(env, "/p") == ("off", "default")


def test_review_settings_are_cached_and_follow_the_file(env: dict[str, str]) -> None:
    config(env, "[review]\nstop_wait = 5\n")
    assert s.setting(env, "stop_wait") == 5.0
    cache = s.review_root(env) / "config-cache.json"
    assert json.loads(cache.read_text())["review"] == {"stop_wait": 5}
    config(env, "[review]\nstop_wait = 500\nblock_on = \"bogus\"\n")  # new size: re-read
    assert s.setting(env, "stop_wait") == s.STOP_WAIT_MAX
    assert s.setting(env, "block_on") == "high"


def test_review_section_is_user_file_only(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "cloned" / ".claude").mkdir(parents=True)
    (tmp_path / "cloned" / ".claude" / "multi-model.toml").write_text('[review]\nmode = "edit"\n')
    with pytest.raises(ConfigError, match="review.mode may only be set in the user config"):
        load_settings(tmp_path / "cloned", env)
    config(env, '[review]\nmode = "edit"\nreviewers = ["codex"]\n')
    assert load_settings(tmp_path, env).settings.review.reviewers == ["codex"]


# --- payloads to queue entries -----------------------------------------------------------------

def payload(tool: str, args: dict, response: dict | None = None) -> dict:
    return {"session_id": "s", "hook_event_name": "PostToolUse", "tool_name": tool,
            "tool_input": args, "tool_response": response or {}, "tool_use_id": "toolu_1"}


def test_notebook_edit_and_edit_without_patch() -> None:
    cell = s.entry_from_payload(payload("NotebookEdit", {
        "notebook_path": "/p/nb.ipynb", "cell_id": "c3", "new_source": "x = 1",
        "edit_mode": "replace"}), "/p")
    assert (cell["file"], cell["kind"], cell["text"]) == (
        "nb.ipynb", "cell", "notebook cell c3 (replace):\nx = 1")
    edit = s.entry_from_payload(payload("Edit", {"file_path": "/p/a.py", "old_string": "a\nb",
                                                 "new_string": "c"}), "/p")
    assert edit["text"] == "-a\n-b\n+c"


def test_oversize_binary_denied_and_outside_the_project() -> None:
    big = s.entry_from_payload(payload("Write", {"file_path": "/p/big.txt",
                                                 "content": "x" * 100_001}), "/p")
    assert (big["kind"], big["note"], "text" in big) == ("skipped", "too large (100001 bytes)",
                                                         False)
    binary = s.entry_from_payload(payload("Write", {"file_path": "/p/b", "content": "a\x00"}),
                                  "/p")
    assert binary["note"] == "binary"
    denied = s.entry_from_payload(payload("Write", {"file_path": "/p/data/people.csv",
                                                    "content": "ann"}), "/p", ("data/*",))
    assert (denied["kind"], denied["note"], "text" in denied) == (
        "denied", "on the deny list (data/*)", False)
    outside = s.entry_from_payload(payload("Write", {"file_path": "/etc/x.conf",
                                                     "content": "y"}), "/p")
    assert outside["file"] == "/etc/x.conf"
    assert s.entry_from_payload(payload("Write", {}), "/p") is None


def test_findings_text_is_cut_to_the_limit_and_says_which_it_holds() -> None:
    many = [(f"k{n}", {"file": "a.py", "line": n, "severity": "low" if n % 2 else "critical",
                       "title": f"issue {n}", "detail": "d" * 500, "reviewers": ["codex"],
                       "agreement": "1 of 1"}) for n in range(1, 60)]
    text, included = s.format_findings(many, limit=3000)
    assert len(text) <= 3000 and text.startswith("1. critical a.py:2: issue 2 (1 of 1: codex)")
    assert text.endswith(f"... and {59 - len(included)} more, shown next time")
    assert included[:2] == ["k2", "k4"] and all(f"issue {k[1:]}" in text for k in included)


def test_session_ids_become_safe_folder_names() -> None:
    assert s.safe_id("../../etc/passwd") == "------etc-passwd"
    assert s.safe_id("") == "unknown"


def test_a_torn_last_line_is_left_for_later(tmp_path: Path) -> None:
    session = s.Session(tmp_path)
    session.append({"file": "a.py", "text": "1"})
    with open(session.queue, "ab") as f:
        f.write(b'{"file": "b.py", "te')
    assert [e["file"] for e, _ in session.edits()] == ["a.py"]
    with open(session.queue, "ab") as f:
        f.write(b'xt": "2"}\nnot json\n')
    entries = session.edits()
    assert [e["file"] for e, _ in entries] == ["a.py", "b.py", "?"]
    assert entries[-1][1] == session.queue_size()


# --- mm review on | off | mode | status ------------------------------------------------------

def mm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_mm(capsys, "review", *argv)


def test_on_off_and_status(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("CLAUDE_PLUGIN_OPTION_REVIEWERS", "codex,gemini")
    code, out, _ = mm(capsys, "on")
    assert code == 0 and f"edit for {tmp_path}." in out and "reviewers: codex, gemini" in out
    env = dict(os.environ)
    session = s.Session.of(env, "abc")
    session.create(str(tmp_path))
    session.append({"t": time.time(), "file": "a.py", "kind": "content", "text": "x"})
    session.add_review({"id": 1, "t": time.time(), "edits": 1, "reviewers": [
        {"model": "gemini", "status": "timeout", "error": "no answer in 300 s"}],
        "findings": [{"file": "a.py", "line": 1, "severity": "high", "title": "Bug",
                      "detail": "It breaks.", "reviewers": ["codex"], "agreement": "1 of 2"}]})
    code, out, _ = mm(capsys, "status")
    assert code == 0
    assert "## Edit review: edit (set by `mm review` for" in out
    assert "Session abc: 1 edit(s) recorded, 1 waiting for review; 1 review(s)" in out
    assert "1. **high** a.py:1: Bug (1 of 2: codex;" in out and "not shown yet)" in out
    assert "Reviewer problems: gemini: timeout (no answer in 300 s)" in out
    code, out, _ = mm(capsys, "status", "--format", "json")
    assert json.loads(out)["session"]["findings"][0]["state"] == "not shown yet"
    code, out, _ = mm(capsys, "off")
    assert code == 0 and f"off for {tmp_path}." in out
    monkeypatch.setenv(s.OPTION_MODE, "edit")
    code, out, _ = mm(capsys, "mode", "stop", "--global")
    assert "stop for every project." in out and "Still off here, set by `mm review` for" in out


def test_status_of_an_unknown_session_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = mm(capsys, "status", "--session", "nope")
    assert code == 2 and err.count("\n") == 1 and "no review session 'nope'" in err


# --- batches -----------------------------------------------------------------------------------

def test_new_content_replaces_earlier_edits_and_oversize_keeps_the_latest() -> None:
    from multi_model.review.watch import build_change

    edits = [{"file": "a.py", "tool": "Edit", "kind": "hunks", "text": "@@ -1 +1 @@\n-x\n+y"},
             {"file": "a.py", "tool": "Write", "kind": "content", "text": "z = 1\n"},
             {"file": "a.py", "tool": "Edit", "kind": "hunks", "text": "@@ -1 +1 @@\n-z\n+w"},
             {"file": "b.py", "tool": "Edit", "kind": "hunks", "text": "+" + "b" * 60_000},
             {"file": "b.py", "tool": "Edit", "kind": "hunks", "text": "+" + "c" * 60_000}]
    change = build_change(edits, [])
    assert change.parts["a.py"] == ("new content (whole file):\nz = 1\n\n\n"
                                    "Edit:\n@@ -1 +1 @@\n-z\n+w")
    assert "c" * 60_000 in change.parts["b.py"] and "b" * 100 not in change.parts["b.py"]
    assert change.skipped == ["b.py: its 1 earliest edit(s) in this batch (too large together)"]


def test_a_review_that_raises_is_recorded_and_the_cursor_moves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from multi_model.review import watch

    env = {"MULTI_MODEL_HOME": str(tmp_path / "home"), "CLAUDE_PLUGIN_OPTION_REVIEWERS": "codex"}
    session = s.Session(tmp_path / "session")
    session.create(str(tmp_path))
    session.append({"t": 0, "file": "a.py", "tool": "Write", "kind": "content", "text": "x"})
    fd = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(watch.engine, "review", boom)
    w = watch.Watch(session, fd, env)
    w._review(*w._due("edit", w._work("edit")))
    [review] = session.reviews()
    assert review["error"] == "review failed: RuntimeError('disk on fire')"
    assert session.cursor() == session.queue_size() and w._due("edit", w._work("edit")) is None
    os.close(fd)
