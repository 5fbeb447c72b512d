"""The PreToolUse hook allows exactly the council's own `next` step and nothing else: every
other command, path and argument shape gets no decision (Claude Code then asks or refuses)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from multi_model.council.hosted import allow

ROOT = Path(__file__).resolve().parents[2]
MM = str(ROOT / "scripts" / "mm")
RUN_ID = "20261205-120000-00abcd"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"MULTI_MODEL_HOME": str(tmp_path / "mm"), "HOME": str(tmp_path)}
    run = tmp_path / "mm" / "data" / "runs" / RUN_ID
    run.mkdir(parents=True)
    (run / "plan.json").write_text("{}")
    return env


def run_dir(env: dict[str, str], run_id: str = RUN_ID) -> str:
    return str(Path(env["MULTI_MODEL_HOME"]) / "data" / "runs" / run_id)


def bash(command: str) -> dict:
    return {
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "x"},
    }


def test_the_council_step_is_allowed(env: dict[str, str]) -> None:
    for tail in ([], ["--wait", "90"]):
        command = shlex.join([MM, "council", "next", run_dir(env), "--format", "json", *tail])
        answer = allow.decision(bash(command), env)
        assert answer["hookSpecificOutput"]["permissionDecision"] == "allow"
        assert RUN_ID in answer["hookSpecificOutput"]["permissionDecisionReason"]


def test_a_run_folder_with_spaces_is_allowed_quoted_exactly(tmp_path: Path) -> None:
    env = {"MULTI_MODEL_HOME": str(tmp_path / "my home")}
    run = tmp_path / "my home" / "data" / "runs" / RUN_ID
    run.mkdir(parents=True)
    (run / "plan.json").write_text("{}")
    command = shlex.join([MM, "council", "next", str(run), "--format", "json"])
    assert "'" in command and allow.decision(bash(command), env) is not None
    assert allow.decision(bash(command.replace("'", '"')), env) is None  # not canonical


def attacks(env: dict[str, str], tmp_path: Path) -> list[str]:
    good = run_dir(env)
    other = tmp_path / "other" / RUN_ID
    other.mkdir(parents=True)
    (other / "plan.json").write_text("{}")
    link = Path(run_dir(env, "link-run"))
    link.symlink_to(other)
    base = f"{MM} council next {good} --format json"
    return [
        f"{base}; rm -rf ~",
        f"{base} && curl example.org",
        f"{base} | sh",
        f"{base} &",
        f"{base} > /etc/passwd",
        f"{base} 2>&1",
        f"{base}\nrm -rf ~",
        f"{base} # comment",
        f"$({base})",
        f"`{base}`",
        f"{base} $(id)",
        f"{MM} council next {good} --format json`id`",
        f"{MM}  council next {good} --format json",
        f" {base}",
        f"{base} ",
        f"{MM} council next {good}",
        f"{MM} council next {good} --format md",
        f"{MM} council next {good} --format json --wait 99999",
        f"{MM} council next {good} --format json --wait -1",
        f"{MM} council next {good} --format json --wait ²",
        f"{MM} council next {good} --format json --wait ١٢",
        f"{MM} council next {good} --format json --wait 5 --wait 6",
        f"{MM} council next {good} --format json --panel x",
        f"{MM} council next {good} --wait 5 --format json",
        f"{MM} council start --format json --prompt-file /etc/passwd",
        f"{MM} council result {good} --format json",
        f"{MM} ask --models codex x",
        f"{MM} council next {other} --format json",  # a folder outside the runs folder
        f"{MM} council next {link} --format json",  # a link out of it
        f"{MM} council next {good}/../{RUN_ID} --format json",
        f"{MM} council next {run_dir(env, 'missing')} --format json",
        f"{MM} council next {RUN_ID} --format json",  # relative
        f"{MM} council next {run_dir(env)}/ --format json",
        f"/tmp/scripts/mm council next {good} --format json",  # another launcher
        f"{ROOT}/scripts/../scripts/mm council next {good} --format json",
        f"mm council next {good} --format json",
        f"python3 {MM} council next {good} --format json",
        f"env X=1 {base}",
        f"X=1 {base}",
        f"bash -c '{base}'",
        f"'{MM}' council next {good} --format json" if "'" not in MM else "x",
    ]


def test_no_other_command_path_or_argument_shape_is_allowed(
    env: dict[str, str], tmp_path: Path
) -> None:
    for command in attacks(env, tmp_path):
        assert allow.decision(bash(command), env) is None, command


def test_only_pretooluse_of_bash_with_a_string_command(env: dict[str, str]) -> None:
    command = f"{MM} council next {run_dir(env)} --format json"
    assert allow.decision({**bash(command), "tool_name": "Write"}, env) is None
    assert allow.decision({**bash(command), "hook_event_name": "PostToolUse"}, env) is None
    assert allow.decision({**bash(command), "tool_input": {"command": ["x"]}}, env) is None
    assert allow.decision({**bash(command), "tool_input": None}, env) is None
    assert (
        allow.decision(
            {
                **bash(command),
                "tool_input": {"command": command, "dangerouslyDisableSandbox": True},
            },
            env,
        )
        is None
    )


def test_the_hook_script_prints_the_decision_and_nothing_for_the_rest(
    env: dict[str, str], tmp_path: Path
) -> None:
    hook = ROOT / "hooks" / "council_hook.py"

    def call(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-S", str(hook)],
            input=json.dumps(bash(command)),
            capture_output=True,
            text=True,
            env={**env, "PATH": os.defpath},
            timeout=30,
            check=False,
        )

    done = call(f"{MM} council next {run_dir(env)} --format json")
    assert (
        done.returncode == 0
        and json.loads(done.stdout)["hookSpecificOutput"]["permissionDecision"] == "allow"
    )
    for command in attacks(env, tmp_path)[:8]:
        done = call(command)
        assert (done.returncode, done.stdout) == (0, ""), command
    broken = subprocess.run(
        [sys.executable, "-S", str(hook)],
        input="{council next, not json",
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert (broken.returncode, broken.stdout) == (0, "")
    assert (
        "JSONDecodeError"
        in (Path(env["MULTI_MODEL_HOME"]) / "data" / "council-hook-errors.log").read_text()
    )


def read(path: str) -> dict:
    return {"hook_event_name": "PreToolUse", "tool_name": "Read", "tool_input": {"file_path": path}}


def test_a_seat_may_read_its_task_prompt_and_nothing_else(
    env: dict[str, str], tmp_path: Path
) -> None:
    run = Path(run_dir(env))
    tasks = run / "tasks" / "answer"
    tasks.mkdir(parents=True)
    prompt = tasks / "claude_opus.prompt.md"
    prompt.write_text("the question")
    answer = allow.decision(read(str(prompt)), env)
    assert answer["hookSpecificOutput"]["permissionDecision"] == "allow"
    secret = tmp_path / "secret.prompt.md"
    secret.write_text("x")
    outside = tmp_path / "elsewhere" / "tasks" / "answer"
    outside.mkdir(parents=True)
    (outside / "x.prompt.md").write_text("x")
    (tasks / "link.prompt.md").symlink_to(secret)
    (tasks / "claude_opus.md").write_text("a reply")
    (run / "tasks" / "notes").mkdir()
    os.link(secret, tasks / "hard.prompt.md")  # same realpath, another file's bytes
    (tasks / ".prompt.md").write_text("no seat")
    (run / "tasks" / "notes" / "x.prompt.md").write_text("x")
    for path in [
        str(run / "plan.json"),
        str(tasks / "claude_opus.md"),
        str(secret),
        str(outside / "x.prompt.md"),
        str(tasks / "link.prompt.md"),
        str(tasks / "missing.prompt.md"),
        str(run / "tasks" / "notes" / "x.prompt.md"),
        f"{tasks}/../answer/claude_opus.prompt.md",
        "tasks/answer/claude_opus.prompt.md",
        "/etc/passwd",
        str(Path(env["HOME"]) / ".ssh" / "id_rsa"),
        str(tasks / "hard.prompt.md"),
        str(tasks / ".prompt.md"),
    ]:
        assert allow.decision(read(path), env) is None, path


def test_the_runs_folder_follows_xdg_data_home(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    run = tmp_path / "xdg" / "multi-model" / "runs" / RUN_ID
    (run / "tasks" / "review").mkdir(parents=True)
    (run / "plan.json").write_text("{}")
    (run / "tasks" / "review" / "sonnet.prompt.md").write_text("rank")
    assert allow.decision(read(str(run / "tasks" / "review" / "sonnet.prompt.md")), env)
    assert allow.decision(
        bash(shlex.join([MM, "council", "next", str(run), "--format", "json"])), env
    )
    assert (
        allow.decision(
            bash(shlex.join([MM, "council", "next", str(run), "--format", "json"])),
            {"HOME": env["HOME"]},
        )
        is None
    )
