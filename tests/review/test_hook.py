"""The edit-review hooks as Claude Code runs them: `python3 -S hooks/review_hook.py` as a
subprocess, fed the exact JSON Claude Code 2.1.197 sends (reference samples), asserting the
stdout JSON, the exit code and that no process is left behind.

The background reviewer is the real one: started by the hook through the plugin's launcher
(one environment built per test session), running the demo stand-ins (they flag lines with
eval( / TODO) or the fake CLIs as reviewers through the dispatch engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from multi_model import demo
from multi_model.review.session import Session
from tests.conftest import FakeCLIs

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "hooks" / "review_hook.py"
LAUNCHER = ROOT / "scripts" / "mm"
PATH_TAIL = "/usr/local/bin:/usr/bin:/bin"


@pytest.fixture(scope="session")
def launcher_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The launcher's environment, built once (as on a user's first run)."""
    home = tmp_path_factory.mktemp("launcher")
    done = subprocess.run(
        [str(LAUNCHER), "--version"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
        env={
            "PATH": PATH_TAIL,
            "HOME": str(home),
            "MULTI_MODEL_HOME": str(home),
            "LANG": "C.UTF-8",
        },
    )
    assert done.returncode == 0, done.stderr
    return home / "data" / "venv"


class Hooks:
    """One Claude Code session's hook calls against one project folder."""

    def __init__(self, root: Path, venv: Path) -> None:
        self.home = Path(os.environ["MULTI_MODEL_HOME"])
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        (self.home / "data" / "venv").symlink_to(venv)
        self.project = root / "project"
        self.project.mkdir()
        self.bin = root / "bin"
        demo.install(self.bin)
        self.session_id = str(uuid.uuid4())
        self.extra_env: dict[str, str] = {}
        self.errors_expected = False  # the hook logs internal errors and prints nothing

    def config(self, **review: object) -> None:
        lines = ["[review]"] + [f"{k} = {json.dumps(v)}" for k, v in review.items()]
        (self.home / "config.toml").write_text("\n".join(lines) + "\n")

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:{PATH_TAIL}",
            "HOME": str(self.home.parent),
            "MULTI_MODEL_HOME": str(self.home),
            "CLAUDE_PROJECT_DIR": str(self.project),
            "CLAUDE_PLUGIN_ROOT": str(ROOT),
            "LANG": "C.UTF-8",
            **self.extra_env,
        }

    @property
    def session(self) -> Session:
        return Session.of({"MULTI_MODEL_HOME": str(self.home)}, self.session_id)

    def run(self, payload: dict | str, **env: str) -> tuple[int, dict | None, str]:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        done = subprocess.run(
            ["python3", "-S", str(HOOK)],
            input=data,
            capture_output=True,
            text=True,
            cwd=self.project,
            env={**self.env(), **env},
            timeout=240,
            check=False,
        )
        out = json.loads(done.stdout) if done.stdout.strip() else None
        return done.returncode, out, done.stderr

    def common(self, event: str) -> dict:
        return {
            "session_id": self.session_id,
            "transcript_path": f"{self.home}/.claude/projects/p/{self.session_id}.jsonl",
            "cwd": str(self.project),
            "prompt_id": str(uuid.uuid4()),
            "permission_mode": "acceptEdits",
            "effort": {"level": "high"},
            "hook_event_name": event,
        }

    def write(self, name: str, content: str, **extra: object) -> dict:
        """The PostToolUse payload of a Write that created `name` (sample from 2.1.197)."""
        path = self.project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return {
            **self.common("PostToolUse"),
            "tool_name": "Write",
            "tool_input": {"file_path": str(path), "content": content},
            "tool_response": {
                "type": "create",
                "filePath": str(path),
                "content": content,
                "structuredPatch": [],
                "originalFile": None,
                "userModified": False,
            },
            "tool_use_id": "toolu_" + uuid.uuid4().hex[:20],
            "duration_ms": 10,
            **extra,
        }

    def edit(self, name: str, old: str, new: str) -> dict:
        """The PostToolUse payload of an Edit replacing line 2 `old` by `new`."""
        path = self.project / name
        original = f"first\n{old}\nlast\n"
        path.write_text(original.replace(old, new))
        return {
            **self.common("PostToolUse"),
            "tool_name": "Edit",
            "tool_input": {
                "file_path": str(path),
                "old_string": old,
                "new_string": new,
                "replace_all": False,
            },
            "tool_response": {
                "filePath": str(path),
                "oldString": old,
                "newString": new,
                "originalFile": original,
                "structuredPatch": [
                    {
                        "oldStart": 1,
                        "oldLines": 3,
                        "newStart": 1,
                        "newLines": 3,
                        "lines": [" first", f"-{old}", f"+{new}", " last"],
                    }
                ],
                "userModified": False,
                "replaceAll": False,
            },
            "tool_use_id": "toolu_" + uuid.uuid4().hex[:20],
            "duration_ms": 8,
        }

    def read(self, name: str) -> dict:
        path = self.project / name
        return {
            **self.common("PostToolUse"),
            "tool_name": "Read",
            "tool_input": {"file_path": str(path)},
            "tool_response": {
                "type": "text",
                "file": {"filePath": str(path), "content": "x", "numLines": 1},
            },
            "tool_use_id": "toolu_" + uuid.uuid4().hex[:20],
            "duration_ms": 3,
        }

    def stop(self, active: bool = False) -> dict:
        return {
            **self.common("Stop"),
            "stop_hook_active": active,
            "last_assistant_message": "Done.",
            "background_tasks": [],
            "session_crons": [],
        }

    def wait_reviews(self, count: int, timeout: float = 60) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.session.reviews()) < count:
            assert time.monotonic() < deadline, (
                self.session.log.read_text() if self.session.log.exists() else "no log"
            )
            time.sleep(0.1)
        return self.session.reviews()

    def end(self) -> None:
        """SessionEnd, then the reviewer must be gone."""
        code, out, _ = self.run({**self.common("SessionEnd"), "reason": "other"})
        assert (code, out) == (0, None)
        assert_no_reviewer_left(self.session)


def reviewer_pids(session: Session) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if proc.name.isdigit() and "_watch" in cmd and str(session.dir) in cmd:
            pids.append(int(proc.name))
    return pids


def assert_no_reviewer_left(session: Session, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while reviewer_pids(session) or session.worker_running():
        assert time.monotonic() < deadline, f"reviewer still running: {reviewer_pids(session)}"
        time.sleep(0.1)


@pytest.fixture
def hooks(tmp_path: Path, launcher_env: Path) -> Iterator[Hooks]:
    h = Hooks(tmp_path, launcher_env)
    h.config(reviewers=["codex", "gemini"], quiet=0.3, idle_exit=30)
    yield h
    for pid in reviewer_pids(h.session):  # a failed test must not leave one running
        os.kill(pid, 15)
    errors = h.home / "data" / "review" / "hook-errors.log"
    if errors.exists() and not h.errors_expected:
        pytest.fail("the hook failed silently:\n" + errors.read_text())


def turn_on(h: Hooks, mode: str = "edit") -> None:
    done = subprocess.run(
        [str(LAUNCHER), "review", "mode", mode],
        capture_output=True,
        text=True,
        cwd=h.project,
        env=h.env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"Review of Claude's edits: {mode} for {h.project}." in done.stdout


BUGGY = "import os\nprint(eval(os.environ['EXPR']))\n"


# --- mode off --------------------------------------------------------------------------------


def test_off_by_default_records_and_sends_nothing(hooks: Hooks) -> None:
    for payload in (hooks.write("app.py", BUGGY), hooks.read("app.py"), hooks.stop()):
        assert hooks.run(payload)[:2] == (0, None)
    assert not (hooks.home / "data" / "review" / "sessions").exists()
    assert not (hooks.home / "data" / "review-audit.jsonl").exists()


def test_kill_switch_wins_over_a_mode_turned_on(hooks: Hooks) -> None:
    turn_on(hooks)
    assert hooks.run(hooks.write("app.py", BUGGY), MULTI_MODEL_NO_REVIEW="1")[:2] == (0, None)
    assert not hooks.session.dir.exists()


# --- edit mode -------------------------------------------------------------------------------


def test_edit_mode_finding_reaches_the_next_hook_event_once(hooks: Hooks) -> None:
    turn_on(hooks)
    code, out, err = hooks.run(hooks.write("app.py", BUGGY))
    assert (code, out, err) == (0, None, "")
    entry = json.loads(hooks.session.queue.read_text().splitlines()[0])
    assert entry | {"t": 0, "tool_use_id": ""} == {
        "t": 0,
        "tool": "Write",
        "file": "app.py",
        "tool_use_id": "",
        "agent": None,
        "kind": "content",
        "text": BUGGY,
    }
    review = hooks.wait_reviews(1)[0]
    assert [(r["model"], r["status"]) for r in review["reviewers"]] == [
        ("codex", "ok"),
        ("gemini", "ok"),
    ]
    code, out, _ = hooks.run(hooks.read("app.py"))
    assert code == 0
    context = out["hookSpecificOutput"]
    assert context["hookEventName"] == "PostToolUse"
    assert context["additionalContext"].startswith("[multi-model review]")
    assert (
        "1. high app.py:2: [DEMO] eval() on data (2 of 2: codex, gemini)"
        in context["additionalContext"]
    )
    assert hooks.run(hooks.read("app.py"))[:2] == (0, None)  # delivered once
    audit = [
        json.loads(x) for x in (hooks.home / "data" / "review-audit.jsonl").read_text().splitlines()
    ]
    assert {(a["provider"], tuple(a["files"])) for a in audit} == {
        ("codex", ("app.py",)),
        ("gemini", ("app.py",)),
    }
    hooks.end()


def test_edit_hunk_is_reviewed_with_its_new_line_numbers(hooks: Hooks) -> None:
    turn_on(hooks)
    assert hooks.run(hooks.edit("lib.py", "x = 1", "x = eval(data)  # TODO"))[:2] == (0, None)
    review = hooks.wait_reviews(1)[0]
    found = {(f["file"], f["line"], f["severity"]) for f in review["findings"]}
    assert found == {("lib.py", 2, "high"), ("lib.py", 2, "low")}
    entry = json.loads(hooks.session.queue.read_text())
    assert entry["kind"] == "hunks" and entry["text"].startswith("@@ -1,3 +1,3 @@\n first\n-x")
    hooks.end()


def test_denied_file_is_never_stored_or_sent_and_secrets_are_redacted(hooks: Hooks) -> None:
    turn_on(hooks)
    key = "sk-ant-" + "a1B2c3D4" * 4
    hooks.run(hooks.write(".env", f"API_KEY={key}\n"))
    hooks.run(hooks.write("settings.py", f'API_KEY = "{key}"  # TODO rotate\n'))
    review = hooks.wait_reviews(1)[0]
    queue = hooks.session.queue.read_text()
    assert '"file": ".env"' in queue and queue.count(key) == 1  # settings.py only, not .env
    assert review["sent"] == ["settings.py"]
    assert review["skipped"] == [".env: on the deny list (.env)"]
    assert review["redactions"] == ["settings.py: Anthropic key"]
    calls = [
        json.loads(x)["files"]
        for x in (hooks.home / "data" / "review-audit.jsonl").read_text().splitlines()
    ]
    assert calls == [["settings.py"], ["settings.py"]]
    hooks.end()


def test_a_failing_reviewer_costs_a_status_line(hooks: Hooks, tmp_path: Path) -> None:
    fakes = FakeCLIs(tmp_path / "fakes")
    fakes.set("gemini", stdout="I think it is fine.", exit=0)
    shutil.copy(fakes.bin / "gemini", hooks.bin / "gemini")
    turn_on(hooks)
    hooks.run(hooks.write("app.py", BUGGY))
    review = hooks.wait_reviews(1)[0]
    assert [r["status"] for r in review["reviewers"]] == ["ok", "bad_output"]
    code, out, _ = hooks.run(hooks.read("app.py"))
    assert code == 0
    assert out["systemMessage"].startswith("multi-model review: gemini: bad_output")
    assert "(1 of 1: codex)" in out["hookSpecificOutput"]["additionalContext"]
    hooks.end()


def test_subagent_edits_are_recorded_but_findings_go_to_the_main_conversation(hooks: Hooks) -> None:
    turn_on(hooks)
    sub = {"agent_id": "a1", "agent_type": "multi-model:panelist"}
    hooks.run(hooks.write("app.py", BUGGY, **sub))
    hooks.wait_reviews(1)
    assert hooks.run({**hooks.read("app.py"), **sub})[:2] == (0, None)
    assert (
        "eval() on data"
        in hooks.run(hooks.read("app.py"))[1]["hookSpecificOutput"]["additionalContext"]
    )
    hooks.end()


def test_burst_of_edits_is_batched_and_parallel_hooks_start_one_reviewer(hooks: Hooks) -> None:
    hooks.config(reviewers=["codex"], quiet=2.0, idle_exit=30)
    turn_on(hooks)
    payloads = [hooks.write(f"m{i}.py", f"x{i} = {i}\n") for i in range(20)]
    procs = [
        subprocess.Popen(
            ["python3", "-S", str(HOOK)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=hooks.project,
            env=hooks.env(),
        )
        for _ in payloads
    ]
    for proc, payload in zip(procs, payloads, strict=True):
        proc.stdin.write(json.dumps(payload))
        proc.stdin.close()
    assert [p.wait(timeout=60) for p in procs] == [0] * 20
    entries = hooks.session.queue.read_text().splitlines()
    assert sorted(json.loads(x)["file"] for x in entries) == sorted(f"m{i}.py" for i in range(20))
    reviews = hooks.wait_reviews(1)
    deadline = time.monotonic() + 60
    while sum(r["edits"] for r in hooks.session.reviews()) < 20:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    reviews = hooks.session.reviews()
    assert len(reviews) <= 3, [r["edits"] for r in reviews]
    assert hooks.session.log.read_text().count("reviewer started") == 1
    hooks.end()


# --- the Stop gate ---------------------------------------------------------------------------


def test_stop_blocks_once_for_unaddressed_findings(hooks: Hooks) -> None:
    turn_on(hooks)
    hooks.run(hooks.write("app.py", BUGGY))
    code, out, _ = hooks.run(hooks.stop())
    assert code == 0 and out["decision"] == "block"
    assert "1 finding(s) at or above 'high' are not addressed" in out["reason"]
    assert "app.py:2: [DEMO] eval() on data" in out["reason"]
    assert hooks.run(hooks.stop(active=True))[:2] == (0, None)  # never a second block
    assert hooks.run(hooks.stop())[:2] == (0, None)  # next turn: not listed a second time
    assert hooks.run(hooks.read("app.py"))[:2] == (0, None)  # and is not delivered again
    hooks.end()


def test_stop_passes_when_claude_changed_the_file_after_seeing_the_finding(hooks: Hooks) -> None:
    turn_on(hooks)
    hooks.run(hooks.write("app.py", BUGGY))
    hooks.wait_reviews(1)
    assert "eval()" in hooks.run(hooks.read("app.py"))[1]["hookSpecificOutput"]["additionalContext"]
    hooks.run(hooks.edit("app.py", "print(eval(os.environ['EXPR']))", "print(1)"))
    code, out, _ = hooks.run(hooks.stop())
    assert (code, out) == (0, None)
    assert len(hooks.session.reviews()) == 2  # Stop waited for the fix to be reviewed
    hooks.end()


def test_low_findings_do_not_block(hooks: Hooks) -> None:
    turn_on(hooks)
    hooks.run(hooks.write("todo.py", "x = 1  # TODO\n"))
    assert hooks.run(hooks.stop())[:2] == (0, None)
    assert [f["severity"] for f in hooks.session.reviews()[0]["findings"]] == ["low"]
    hooks.end()


def test_stop_mode_reviews_the_turn_at_stop(hooks: Hooks) -> None:
    turn_on(hooks, "stop")
    hooks.run(hooks.write("app.py", BUGGY))
    hooks.run(hooks.write("b.py", "y = 2\n"))
    time.sleep(1)
    assert not hooks.session.worker_running() and hooks.session.reviews() == []
    code, out, _ = hooks.run(hooks.stop())
    assert code == 0 and out["decision"] == "block" and "app.py:2" in out["reason"]
    [review] = hooks.session.reviews()
    assert review["edits"] == 2 and review["sent"] == ["app.py", "b.py"]
    assert_no_reviewer_left(hooks.session)  # stop mode: it exits once the turn is reviewed


def test_stop_wait_is_bounded(hooks: Hooks, tmp_path: Path) -> None:
    fakes = FakeCLIs(tmp_path / "fakes")
    fakes.set("codex", mode="hang")
    shutil.copy(fakes.bin / "codex", hooks.bin / "codex")
    hooks.config(reviewers=["codex"], quiet=0.3, idle_exit=30, stop_wait=2, timeout=60)
    turn_on(hooks)
    hooks.run(hooks.write("app.py", BUGGY))
    started = time.monotonic()
    code, out, _ = hooks.run(hooks.stop())
    assert time.monotonic() - started < 15
    assert (code, out) == (
        0,
        {
            "systemMessage": "multi-model review: still reviewing the last "
            "edits; findings will follow"
        },
    )
    for pid in reviewer_pids(hooks.session):
        os.kill(pid, 15)  # SIGTERM stops the hanging reviewer CLI too
    assert_no_reviewer_left(hooks.session)


# --- robustness ------------------------------------------------------------------------------


def test_garbage_input_exits_zero_silently_and_logs(hooks: Hooks) -> None:
    hooks.errors_expected = True
    turn_on(hooks)
    assert hooks.run("not json")[:2] == (0, None)
    assert "JSONDecodeError" in (hooks.home / "data" / "review" / "hook-errors.log").read_text()
    assert hooks.run(
        {
            "hook_event_name": "PostToolUse",
            "session_id": "x",
            "tool_name": "Write",
            "tool_input": "??",
        }
    )[:2] == (0, None)


def test_the_hook_never_imports_pydantic_or_jsonschema(hooks: Hooks) -> None:
    turn_on(hooks)

    def imports(payload: dict) -> tuple[set[str], str]:
        done = subprocess.run(
            ["python3", "-S", "-X", "importtime", str(HOOK)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            cwd=hooks.project,
            env=hooks.env(),
            timeout=120,
            check=False,
        )
        return {
            line.split("|")[-1].strip()
            for line in done.stderr.splitlines()
            if line.startswith("import time:")
        }, done.stdout

    for payload, out in (
        (hooks.write("app.py", BUGGY), ""),
        (hooks.stop(), "block"),
        (hooks.write("b.py", "y = eval(z)\n"), ""),
        (hooks.read("b.py"), "additionalContext"),
    ):
        if out == "additionalContext":
            hooks.wait_reviews(2)
        imported, stdout = imports(payload)
        assert out in stdout
        assert "multi_model.review.session" in imported
        assert not {m for m in imported if m.split(".")[0] in ("pydantic", "jsonschema")}
    hooks.end()


def test_findings_beyond_the_context_limit_come_with_the_next_event(hooks: Hooks) -> None:
    turn_on(hooks)
    session = hooks.session
    session.create(str(hooks.project))
    session.add_review(
        {
            "id": 0,
            "t": time.time(),
            "reviewers": [],
            "findings": [
                {
                    "file": "a.py",
                    "line": n,
                    "severity": "high",
                    "title": f"issue {n}",
                    "detail": "d" * 1500,
                    "suggestion": "s" * 1000,
                    "reviewers": ["codex"],
                    "agreement": "1 of 1",
                }
                for n in range(1, 13)
            ],
        }
    )
    seen = []
    for _ in range(3):
        out = hooks.run(hooks.read("a.py"))[1]
        text = out["hookSpecificOutput"]["additionalContext"] if out else ""
        seen += [n for n in range(1, 13) if f"a.py:{n}: issue {n} " in text]
    assert sorted(seen) == list(range(1, 13))  # each once, none lost to the cut


def test_reviewers_run_in_an_empty_folder_not_the_project(hooks: Hooks, tmp_path: Path) -> None:
    fakes = FakeCLIs(tmp_path / "fakes")
    fakes.set("codex", fixture="codex/ok.exec-json.jsonl")
    shutil.copy(fakes.bin / "codex", hooks.bin / "codex")
    hooks.config(reviewers=["codex"], quiet=0.3, idle_exit=30)
    (hooks.project / ".env").write_text("SECRET=1\n")
    turn_on(hooks)
    hooks.run(hooks.write("app.py", BUGGY))
    hooks.wait_reviews(1)
    [call] = [
        c
        for c in map(json.loads, (fakes.bin / "calls.jsonl").read_text().splitlines())
        if "exec" in c["argv"]
    ]
    assert call["cwd"] != str(hooks.project) and "mm-review-" in call["cwd"]
    hooks.end()


def test_a_torn_queue_line_does_not_hold_up_stop(hooks: Hooks) -> None:
    hooks.config(reviewers=["codex"], quiet=0.3, idle_exit=30, stop_wait=30)
    turn_on(hooks)
    hooks.run(hooks.write("todo.py", "x = 1  # TODO\n"))
    hooks.wait_reviews(1)
    with open(hooks.session.queue, "ab") as f:
        f.write(b'{"t": 1, "file": "half')
    started = time.monotonic()
    assert hooks.run(hooks.stop())[:2] == (0, None)
    assert time.monotonic() - started < 10
    hooks.end()
