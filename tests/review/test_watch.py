"""The session's background reviewer: batches of edits (review/watch.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from multi_model.review import watch
from multi_model.review.session import Session
from multi_model.review.watch import build_change


def test_new_content_replaces_earlier_edits_and_oversize_keeps_the_latest() -> None:
    edits = [
        {"file": "a.py", "tool": "Edit", "kind": "hunks", "text": "@@ -1 +1 @@\n-x\n+y"},
        {"file": "a.py", "tool": "Write", "kind": "content", "text": "z = 1\n"},
        {"file": "a.py", "tool": "Edit", "kind": "hunks", "text": "@@ -1 +1 @@\n-z\n+w"},
        {"file": "b.py", "tool": "Edit", "kind": "hunks", "text": "+" + "b" * 60_000},
        {"file": "b.py", "tool": "Edit", "kind": "hunks", "text": "+" + "c" * 60_000},
    ]
    change = build_change(edits, [])
    assert change.parts["a.py"] == (
        "new content (whole file):\nz = 1\n\n\nEdit:\n@@ -1 +1 @@\n-z\n+w"
    )
    assert "c" * 60_000 in change.parts["b.py"] and "b" * 100 not in change.parts["b.py"]
    assert change.skipped == ["b.py: its 1 earliest edit(s) in this batch (too large together)"]


def test_a_review_that_raises_is_recorded_and_the_cursor_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"MULTI_MODEL_HOME": str(tmp_path / "home"), "CLAUDE_PLUGIN_OPTION_REVIEWERS": "codex"}
    session = Session(tmp_path / "session")
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
