"""One CLI grammar: `mm` alone, help pages that list every command and step and end with
examples and the exit codes, `--format text|md|json` with `--json` as its alias, the
readable `mm ask` on a real terminal, errors that name the flag the user typed, and shell
completion that completes for real in bash."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from multi_model.commands import (
    COMMANDS,
    COUNCIL_STEPS,
    EXAMPLES,
    REVIEW_CONTROLS,
    SUBCOMMANDS,
    exits,
)
from tests.conftest import run_mm

BIN = Path(sys.executable).parent
OK = "codex/ok.exec-json.jsonl"


@pytest.fixture
def fakes(fake_clis, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", f"{fake_clis.bin}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(fake_clis.home))
    return fake_clis


def test_mm_alone_prints_the_usage_and_exits_2(capsys) -> None:
    code, out, err = run_mm(capsys)
    assert (code, out) == (exits.Exit.USAGE, "")
    assert err.startswith("usage: mm ")
    assert all(f"    {name}" in err for name in COMMANDS)


def test_mm_help_lists_every_command_and_step_with_one_line(capsys) -> None:
    code, out, _ = run_mm(capsys, "--help")
    assert code == 0
    for name, (_, text) in COMMANDS.items():
        assert name in out and text.split()[0] in out
    for step, text in COUNCIL_STEPS.items():
        assert f"mm council {step}  " in out or f"mm council {step} " in out
        assert text in out.replace("\n", " ") or text[:40] in out
    for word, text in REVIEW_CONTROLS.items():
        assert (f"mm review {word} " in out) == bool(text)  # _watch is not listed


def test_council_help_lists_its_steps(capsys) -> None:
    code, out, _ = run_mm(capsys, "council", "--help")
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("  mm council ")]
    assert [line.split()[2] for line in lines[: len(COUNCIL_STEPS)]] == list(COUNCIL_STEPS)


@pytest.mark.parametrize("page", sorted(EXAMPLES))
def test_every_help_page_ends_with_examples_and_the_exit_codes(capsys, page: str) -> None:
    code, out, _ = run_mm(capsys, *page.split()[1:], "--help")
    assert code == 0
    assert out.endswith(exits.epilog()), out[-400:]
    examples = out[out.index("\nexamples:\n") :]
    assert all(line in examples for line in EXAMPLES[page])


def test_every_command_and_step_has_examples() -> None:
    pages = {f"mm {name}" for name in COMMANDS}
    for name, (words, _) in SUBCOMMANDS.items():
        pages |= {f"mm {name} {w}" for w, text in words.items() if text}
    assert pages <= set(EXAMPLES)


def test_exit_code_epilog_is_the_exit_table() -> None:
    assert [int(line.split()[0]) for line in exits.epilog().splitlines()[1:]] == [
        int(code) for code in exits.Exit
    ]


@pytest.mark.parametrize("command", ["detect", "models", "config", "jobs list", "sessions"])
def test_format_json_and_the_json_alias_agree(fakes, capsys, command: str) -> None:
    words = command.split()
    code, long_form, _ = run_mm(capsys, *words, "--format", "json")
    assert code == 0
    json.loads(long_form)
    assert run_mm(capsys, *words, "--json")[:2] == (0, long_form)
    code, text, _ = run_mm(capsys, *words, "--format", "text")
    assert code == 0 and text != long_form


def test_format_table_is_still_accepted_as_text(fakes, capsys) -> None:
    assert (
        run_mm(capsys, "jobs", "list", "--format", "table")[:2]
        == run_mm(capsys, "jobs", "list", "--format", "text")[:2]
    )


def test_an_unknown_format_is_a_usage_error(capsys) -> None:
    code, _, err = run_mm(capsys, "detect", "--format", "yaml")
    assert code == exits.Exit.USAGE and "invalid choice" in err


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `argv` with stdout on a real pseudo-terminal; (exit code, what it printed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        argv, stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env
    )
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        code = proc.wait(timeout=60)
    return code, b"".join(chunks).decode().replace("\r\n", "\n")


def test_ask_on_a_terminal_prints_answers_and_one_status_line_per_seat(fake_clis) -> None:
    fake_clis.set("codex", fixture=OK)
    env = fake_clis.env(MULTI_MODEL_HOME=os.environ["MULTI_MODEL_HOME"])
    argv = [str(BIN / "mm"), "ask", "--models", "codex,gemini", "--prompt", "hi"]
    code, out = _on_a_terminal(argv, env)
    assert code == 0, out
    assert out.startswith("=== codex (codex, ")
    assert "MOCK_OK: hello from the mock model\n" in out
    status = out[out.index("--- status ---\n") :].splitlines()[1:]
    assert len(status) == 2 and status[0].startswith("codex: ok via codex")
    piped = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert json.loads(piped.stdout)[0]["status"] == "ok"


def test_ask_format_md_and_json_on_request(fakes, capsys) -> None:
    fakes.set("codex", fixture=OK)
    code, out, _ = run_mm(capsys, "ask", "--models", "codex", "--prompt", "hi", "--format", "md")
    assert code == 0 and out.startswith("## codex (codex, ") and "\n## Status\n\n- codex: ok" in out
    code, out, _ = run_mm(capsys, "ask", "--models", "codex", "--prompt", "hi", "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "ok"


def test_a_one_seat_panel_names_the_panel_flag(fakes, capsys) -> None:
    code, _, err = run_mm(capsys, "council", "--panel", "codex", "--prompt", "q")
    assert code == exits.Exit.USAGE
    assert "--panel codex gives 1 seat; a council needs at least 2" in err
    assert "--min-answers" not in err


def test_min_answers_names_its_value_and_the_panel(fakes, capsys) -> None:
    argv = ["council", "--panel", "codex,gemini", "--min-answers", "3", "--prompt", "q"]
    code, _, err = run_mm(capsys, *argv)
    assert code == exits.Exit.USAGE
    assert "--min-answers 3: must be between 2 and the 2 seats of --panel codex,gemini" in err


def test_hosted_start_names_the_panel_flag(fakes, capsys, tmp_path: Path) -> None:
    argv = ["council", "start", "--panel", "codex", "--prompt", "q", "--runs-dir", str(tmp_path)]
    code, _, err = run_mm(capsys, *argv)
    assert code == exits.Exit.USAGE and "--panel codex gives 1 seat" in err


@pytest.mark.parametrize(
    "line, want",
    [
        ("mm cou", "council"),
        ("mm council ne", "next"),
        ("mm review o", "on off"),
        ("mm ask --for", "--format"),
        ("mm history --include-d", "--include-demo"),
    ],
)
def test_bash_completion_completes_for_real(line: str, want: str) -> None:
    bash = shutil.which("bash")
    assert bash, "bash is needed for this test"
    script = subprocess.run(
        [str(BIN / "mm"), "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    words = line.split()
    probe = (
        'source /dev/stdin; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
        'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _shtab_mm; echo "${COMPREPLY[*]}"'
    )
    done = subprocess.run(
        [bash, "--norc", "-c", probe, "bash", *words],
        input=script,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout.strip() == want, done.stderr


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_completion_scripts_for_zsh_and_fish(capsys, shell: str) -> None:
    code, out, _ = run_mm(capsys, "completion", shell)
    assert code == 0 and "council" in out and "--format" in out


def _heartbeat_lines(stream_fd: int, read_fd: int) -> str:
    from multi_model.render import Heartbeat  # noqa: PLC0415 - only these tests use it

    with os.fdopen(stream_fd, "w", closefd=False) as stream:
        beat = Heartbeat(stream, every=0.05)
        beat.stage("answers")
        beat.add(["codex", "gemini"])
        beat.done("codex")
        time.sleep(0.3)
        beat.close()
    os.set_blocking(read_fd, False)
    try:
        return os.read(read_fd, 65536).decode()
    except BlockingIOError:
        return ""


def test_heartbeat_on_a_terminal_names_elapsed_time_and_pending_seats() -> None:
    master, slave = pty.openpty()
    try:
        out = _heartbeat_lines(slave, master)
    finally:
        os.close(slave), os.close(master)
    assert "  ... answers: 0s, waiting for gemini" in out
    assert "codex" not in out


def test_no_heartbeat_on_a_pipe() -> None:
    read, write = os.pipe()
    try:
        assert _heartbeat_lines(write, read) == ""
    finally:
        os.close(read), os.close(write)


def test_demo_council_says_demo_on_stderr(capsys) -> None:
    code, out, err = run_mm(capsys, "council", "--demo", "--prompt", "q")
    assert code == 0
    assert err.startswith("DEMO panel: stand-in executables")
    assert out.startswith("**DEMO**")
