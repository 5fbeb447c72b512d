"""The edit review's session state in-process: where the mode comes from, the cached
`[review]` settings, session folders, and
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


def test_mode_precedence_from_kill_switch_down_to_default(
    env: dict[str, str], tmp_path: Path
) -> None:
    project = str(tmp_path / "app")
    (tmp_path / "app" / ".git").mkdir(parents=True)
    assert s.resolve_mode(env, project) == ("off", "default")
    config(env, '[review]\nmode = "stop"\n')
    assert s.resolve_mode(env, project)[0] == "stop"
    env[s.OPTION_MODE] = "EDIT"
    assert s.resolve_mode(env, project) == ("edit", "plugin option review_mode")
    s.set_mode(env, "off", None)
    assert s.resolve_mode(env, project) == ("off", "`mm review --global`")
    s.set_mode(env, "stop", project)
    assert s.resolve_mode(env, project + "/sub/dir") == (
        "stop",
        f"`mm review` for {project} (a parent folder of this project)",
    )
    assert s.resolve_mode(env, project) == ("stop", f"`mm review` for {project}")
    assert s.resolve_mode(env, str(tmp_path / "other"))[0] == "off"
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
    config(env, '[review]\nstop_wait = 500\nblock_on = "bogus"\n')  # new size: re-read
    assert s.setting(env, "stop_wait") == s.STOP_WAIT_MAX
    assert s.setting(env, "block_on") == "high"


def test_review_section_is_user_file_only(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "cloned" / ".claude").mkdir(parents=True)
    (tmp_path / "cloned" / ".claude" / "multi-model.toml").write_text('[review]\nmode = "edit"\n')
    with pytest.raises(ConfigError, match=r"review\.mode may only be set in the user config"):
        load_settings(tmp_path / "cloned", env)
    config(env, '[review]\nmode = "edit"\nreviewers = ["codex"]\n')
    assert load_settings(tmp_path, env).settings.review.reviewers == ["codex"]


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


def test_on_off_and_status(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("CLAUDE_PLUGIN_OPTION_REVIEWERS", "codex,gemini")
    code, out, _ = mm(capsys, "on")
    assert code == 0 and f"edit for {tmp_path}." in out and "reviewers: codex, gemini" in out
    env = dict(os.environ)
    session = s.Session.of(env, "abc")
    session.create(str(tmp_path))
    session.append({"t": time.time(), "file": "a.py", "kind": "content", "text": "x"})
    session.add_review(
        {
            "id": 1,
            "t": time.time(),
            "edits": 1,
            "reviewers": [{"model": "gemini", "status": "timeout", "error": "no answer in 300 s"}],
            "findings": [
                {
                    "file": "a.py",
                    "line": 1,
                    "severity": "high",
                    "title": "Bug",
                    "detail": "It breaks.",
                    "reviewers": ["codex"],
                    "agreement": "1 of 2",
                }
            ],
        }
    )
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
    code, _, err = mm(capsys, "status", "--session", "nope")
    assert code == 2 and err.count("\n") == 1 and "no review session 'nope'" in err


def test_a_parent_folder_setting_does_not_reach_other_projects(
    env: dict[str, str], tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"  # not a repository: `mm review on` run from here
    (workspace / "repo-a" / ".git").mkdir(parents=True)
    (workspace / "plain" / "deeper").mkdir(parents=True)
    s.set_mode(env, "edit", str(workspace))
    assert s.resolve_mode(env, str(workspace))[0] == "edit"
    assert s.resolve_mode(env, str(workspace / "repo-a")) == ("off", "default")
    assert s.resolve_mode(env, str(workspace / "plain" / "deeper")) == ("off", "default")
    s.set_mode(env, "stop", str(workspace / "repo-a"))
    assert s.resolve_mode(env, str(workspace / "repo-a" / "src"))[0] == "stop"


def test_review_on_outside_a_repository_and_without_reviewers_warns(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", str(tmp_path / "no-clis"))  # no reviewer CLI installed
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    monkeypatch.chdir(folder)
    code, out, err = run_mm(capsys, "review", "on")
    assert code == 0 and f"edit for {folder}" in out
    assert "mm: warning: " + str(folder) + " is not in a git repository" in err
    assert "mm: warning: no reviewer is available" in err
