"""The plugin's other commands inside the real Claude Code: /multi-model:ask, detect and
review (a change, named files, and the edit-review switch), run by a model that follows each
command's text (claudeapi.py). The provider CLIs are the demo stand-ins behind a recorder
that keeps what each call was given (argv and stdin), so a test can say what left the
machine: the question byte for byte, and never a deny-listed file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from multi_model.review.session import resolve_mode
from tests.plugin.conftest import ROOT, Claude, Run

MM = str(ROOT / "scripts" / "mm")
SECRET = "MM_TEST_SECRET=do-not-send-4f1c9a"
BUGGY = "import os\nprint(eval(os.environ['EXPR']))\n"
FINDING = "1. **high** app.py:2 — [DEMO] eval() on data (2 of 2: codex, gemini)"
RECORDER = """#!{python}
import json, os, subprocess, sys
data = b"" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.buffer.read()
record = {{"cli": {name!r}, "argv": sys.argv[1:], "stdin": data.decode("utf-8", "replace")}}
with open(os.path.join({calls!r}, f"{name}-{{os.getpid()}}.json"), "w") as f:
    json.dump(record, f)
sys.exit(subprocess.run([{standin!r}, *sys.argv[1:]], input=data).returncode)
"""


class Recorded:
    """The stand-ins behind recorders, first on PATH: `calls()` is what each run was given."""

    def __init__(self, claude: Claude, tmp_path: Path) -> None:
        self.bin, self.dir = tmp_path / "bin", tmp_path / "calls"
        self.bin.mkdir()
        self.dir.mkdir()
        for name in ("codex", "gemini", "cursor-agent"):
            path = self.bin / name
            path.write_text(
                RECORDER.format(
                    python=sys.executable,
                    name=name,
                    calls=str(self.dir),
                    standin=str(claude.bin / name),
                )
            )
            path.chmod(0o755)
        self.path = f"{self.bin}:{claude.bin}:/usr/local/bin:/usr/bin:/bin"

    def calls(self, with_input: bool = True) -> list[dict]:
        found = [json.loads(p.read_text()) for p in sorted(self.dir.glob("*.json"))]
        return [c for c in found if c["stdin"] or not with_input]


@pytest.fixture
def clis(claude: Claude, tmp_path: Path) -> Recorded:
    return Recorded(claude, tmp_path)


def tool_result(run: Run, call: dict) -> str:
    """The text the model was given for `call` (the first request that carries it)."""
    for request in run.requests:
        for message in request["body"].get("messages", []):
            for block in message["content"] if isinstance(message["content"], list) else []:
                if block.get("type") == "tool_result" and block["tool_use_id"] == call["id"]:
                    content = block.get("content")
                    return (
                        content
                        if isinstance(content, str)
                        else "\n".join(
                            b.get("text", "") for b in content or [] if b.get("type") == "text"
                        )
                    )
    raise AssertionError(f"no tool_result for {call['name']} {call['input']}")


def bash(run: Run) -> list[str]:
    return [c["input"]["command"] for c in run.tool_calls("Bash")]


def finished(run: Run, marker: str) -> str:
    """The run succeeded without a denied tool; its final text, which starts with `marker`."""
    assert run.code == 0, run.stderr[-2000:]
    assert run.result["permission_denials"] == []
    final = run.result["result"]
    assert final.startswith(marker), final[:3000]
    return final


def git(project: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=project,
        check=True,
        capture_output=True,
    )


def repo_with_a_change(project: Path) -> None:
    """A repository whose working tree changes app.py (adds an eval) and holds a .env."""
    git(project, "init", "-q")
    (project / "app.py").write_text("import os\nprint(os.environ['EXPR'])\n")
    git(project, "add", "app.py")
    git(project, "commit", "-q", "-m", "first")
    (project / "app.py").write_text(BUGGY)
    (project / ".env").write_text(SECRET + "\n")


# --- /multi-model:ask -------------------------------------------------------------------------


def test_ask_sends_the_question_verbatim_and_returns_both_answers(
    claude: Claude, clis: Recorded
) -> None:
    question = "Tabs or {spaces}? Say \"which\" 'and' why;\n  second line: $HOME `x` \\n done"
    run = claude.run(f"/multi-model:ask codex,gemini {question}", env={"PATH": clis.path})
    final = finished(run, "ASK-DONE")
    assert bash(run) == [
        f"{MM} council prepare",
        f"{MM} ask --models codex,gemini --prompt-file "
        f"{run.tool_calls('Write')[0]['input']['file_path']}",
    ]
    [write] = run.tool_calls("Write")
    assert write["input"]["content"] == question
    asked = {c["cli"]: c["stdin"] for c in clis.calls()}
    assert asked == {"codex": question, "gemini": question}  # byte for byte, nothing else
    answers = json.loads(tool_result(run, run.tool_calls("Bash")[1]))
    assert [(a["model"], a["status"]) for a in answers] == [("codex", "ok"), ("gemini", "ok")]
    echo = 'You asked: "Tabs or {spaces}? Say "which" \'and\' why;"'  # the first line
    assert answers[0]["text"].startswith(f"[DEMO stand-in for codex] {echo}")
    assert answers[1]["text"].startswith(f"[DEMO stand-in for gemini] {echo}")
    assert all(a["cli_used"] == str(clis.bin / a["model"]) for a in answers)
    assert "[DEMO stand-in for codex]" in final and "[DEMO stand-in for gemini]" in final


# --- /multi-model:detect ----------------------------------------------------------------------


def test_detect_shows_the_table_of_clis(claude: Claude, clis: Recorded) -> None:
    run = claude.run("/multi-model:detect", env={"PATH": clis.path})
    finished(run, "DETECT-DONE")
    assert bash(run) == [f"{MM} detect --check-auth"]
    table = tool_result(run, run.tool_calls("Bash")[0])
    rows = {line.split()[0]: line for line in table.splitlines() if line.strip()}
    for name, version in (
        ("codex", "0.0.0-demo"),
        ("gemini", "0.0.0-demo"),
        ("cursor-agent", "2026.01.01-demo"),
    ):
        assert version in rows[name] and str(clis.bin / name) in rows[name], rows.get(name)
    assert "logged in" in rows["codex"] and "not installed" in rows["agy"]


# --- /multi-model:review: a change, named files -----------------------------------------------


@pytest.mark.parametrize(
    "args, sent",
    [
        ("", " app.py>>>\ndiff --git a/app.py b/app.py\n"),
        ("app.py .env", f" app.py>>>\n{BUGGY}\n<<<END "),
    ],
    ids=["change", "named-files"],
)
def test_review_sends_the_change_to_the_reviewers_but_never_the_env_file(
    claude: Claude, clis: Recorded, args: str, sent: str
) -> None:
    run = claude.run(
        f"/multi-model:review {args}".strip(),
        setup=repo_with_a_change,
        env={"PATH": clis.path, "CLAUDE_PLUGIN_OPTION_REVIEWERS": "codex,gemini"},
    )
    final = finished(run, "REVIEW-DONE")
    assert bash(run) == [f"{MM} review {args}".strip()]
    output = tool_result(run, run.tool_calls("Bash")[0])
    assert output.startswith("## Review: 1 finding(s) (reviewers: codex ok (1), gemini ok (1))")
    assert FINDING in output and "Not sent: .env: on the deny list" in output
    assert output in final  # shown as listed
    prompts = clis.calls()
    assert sorted(c["cli"] for c in prompts) == ["codex", "gemini"]
    for call in prompts:  # the diff, or the whole named file
        assert sent in call["stdin"] and "eval(os.environ['EXPR'])" in call["stdin"]
    everything = json.dumps(clis.calls(with_input=False))
    assert "do-not-send" not in everything and not re.search(r"<<<BEGIN \S+ \.env>>>", everything)


# --- /multi-model:review on | status | off ----------------------------------------------------


def test_review_on_status_off_switch_the_projects_mode(claude: Claude, tmp_path: Path) -> None:
    project = tmp_path / "project"
    env = {"HOME": str(claude.home)}

    def review(word: str) -> str:
        run = claude.run(f"/multi-model:review {word}", project=project)
        finished(run, "REVIEW-DONE")
        assert bash(run) == [f"{MM} review {word}"]
        return tool_result(run, run.tool_calls("Bash")[0])

    assert resolve_mode(env, str(project))[0] == "off"
    said = review("on")
    assert said.startswith(f"Review of Claude's edits: edit for {project}.")
    assert resolve_mode(env, str(project)) == ("edit", f"`mm review` for {project}")
    said = review("status")
    assert said.startswith(f"## Edit review: edit (set by `mm review` for {project})")
    assert f"No review session yet for {project}." in said
    said = review("off")
    assert said.startswith(f"Review of Claude's edits: off for {project}.")
    assert resolve_mode(env, str(project)) == ("off", f"`mm review` for {project}")
