"""What the review tests share: a git working tree with a change to review, and reviewers'
JSON replies."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from multi_model.review import privacy


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "app.py").write_text("def f(x):\n    return x\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\0\0")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "init")
    (tmp_path / "app.py").write_text(
        'def f(x):\n    return x / 0\nKEY = "sk-proj-' + "x" * 30 + '"\n'
    )
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\0\1")
    (tmp_path / "new.py").write_text("print('new')\n")
    (tmp_path / ".env").write_text("SECRET=1\n")
    (tmp_path / "big.txt").write_text("x" * (privacy.MAX_FILE_BYTES + 1))
    return tmp_path


def finding(line: int | None, title: str, severity: str = "high", file: str = "app.py") -> dict:
    return {
        "file": file,
        "line": line,
        "severity": severity,
        "title": title,
        "detail": f"detail of {title}",
        "suggestion": None,
    }


def reply(*findings: dict) -> str:
    return "Here you go:\n```json\n" + json.dumps({"findings": list(findings)}) + "\n```"
