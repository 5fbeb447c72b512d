"""`mm` command line: exit codes, prompt sources, output, and one-line errors.

Most tests call `cli.main` in-process; a few run the installed console scripts as real
subprocesses, so that the entry points themselves are covered.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from multi_model import cli
from tests.conftest import run_mm

BIN = Path(sys.executable).parent
OK = "codex/ok.exec-json.jsonl"


def mm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_mm(capsys, *argv)


def assert_one_line_error(err: str, *needles: str) -> None:
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    for needle in needles:
        assert needle in err


@pytest.fixture
def fakes(fake_clis, monkeypatch: pytest.MonkeyPatch):
    """fake_clis on the process PATH (the CLI reads os.environ) with a fresh HOME."""
    monkeypatch.setenv("PATH", f"{fake_clis.bin}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(fake_clis.home))
    return fake_clis


@pytest.fixture
def tty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty())


def prompt_seen(fakes, name: str = "codex") -> str:
    """The stdin of the last model call (not the `--version` probe that runs beside it)."""
    return [c for c in fakes.calls(name) if c["argv"] != ["--version"]][-1]["stdin"]


def user_config(text: str | bytes) -> Path:
    path = Path(os.environ["MULTI_MODEL_HOME"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


# --- mm ask: success and prompt sources --------------------------------------------------------


def test_ask_prints_json_and_exits_0(fakes, capsys) -> None:
    fakes.set("codex", fixture=OK)
    code, out, err = mm(capsys, "ask", "--models", "codex:gpt-5.4", "--prompt", "hi")
    assert code == 0
    [response] = json.loads(out)
    assert (response["status"], response["text"]) == ("ok", "MOCK_OK: hello from the mock model")
    assert err == ""


def test_ask_exits_0_when_one_of_several_answers(fakes, capsys) -> None:
    fakes.set("codex", fixture=OK)
    code, out, _ = mm(capsys, "ask", "--models", "codex,qwen:qwen3-coder", "--prompt", "hi")
    assert code == 0
    assert [r["status"] for r in json.loads(out)] == ["ok", "not_installed"]


def test_prompt_from_argument_reaches_the_cli_unchanged(fakes, capsys) -> None:
    fakes.set("codex", fixture=OK)
    assert mm(capsys, "ask", "--models", "codex", "--prompt", "  two\n lines \n")[0] == 0
    assert prompt_seen(fakes) == "  two\n lines \n"


def test_prompt_from_file(fakes, capsys, tmp_path: Path) -> None:
    fakes.set("codex", fixture=OK)
    prompt = tmp_path / "prompt.md"
    prompt.write_text("# Review\n\n  keep my indentation\n", encoding="utf-8")
    assert mm(capsys, "ask", "--models", "codex", "--prompt-file", str(prompt))[0] == 0
    assert prompt_seen(fakes) == "# Review\n\n  keep my indentation\n"


def test_prompt_from_piped_stdin(fakes, capsys, monkeypatch) -> None:
    fakes.set("codex", fixture=OK)
    monkeypatch.setattr(sys, "stdin", io.StringIO("piped prompt\n"))
    assert mm(capsys, "ask", "--models", "codex")[0] == 0
    assert prompt_seen(fakes) == "piped prompt\n"


def test_output_file_gets_the_json(fakes, capsys, tmp_path: Path) -> None:
    fakes.set("codex", fixture=OK)
    target = tmp_path / "answers.json"
    code, out, _ = mm(capsys, "ask", "--models", "codex", "--prompt", "hi", "--output", str(target))
    assert (code, out) == (0, "")
    assert json.loads(target.read_text())[0]["text"] == "MOCK_OK: hello from the mock model"


def test_verbose_prints_the_routing_summary_on_stderr(fakes, capsys) -> None:
    fakes.set("codex", fixture=OK)
    code, out, err = mm(capsys, "ask", "--models", "gpt-5.4", "--prompt", "hi", "--verbose")
    assert code == 0
    assert err.startswith("gpt-5.4 -> codex (family /")
    assert err.rstrip().endswith(": ok")
    assert json.loads(out)[0]["provider"] == "codex"


# --- mm ask: usage errors (exit 2) -------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["ask", "--prompt", "hi"], "--models is required"),
        (["ask", "--models", "codex", "--prompt", "  \n\t"], "the prompt is empty"),
        (["ask", "--models", "codex", "--prompt", "a", "--prompt-file", "b"], "not allowed with"),
        (
            ["ask", "--models", "codex", "--prompt-file", "/nonexistent/p.md"],
            "cannot read --prompt-file",
        ),
        (
            ["ask", "--models", "codex", "--prompt", "hi", "--timeout", "0"],
            "--timeout 0: must be a positive",
        ),
        (
            ["ask", "--models", "codex", "--prompt", "hi", "--timeout", "-3"],
            "--timeout -3: must be a positive",
        ),
        (
            ["ask", "--models", "codex", "--prompt", "hi", "--timeout", "soon"],
            "invalid float value",
        ),
        (
            ["ask", "--models", "codex", "--prompt", "hi", "--output", "/nonexistent/dir/o.json"],
            "cannot write --output",
        ),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(fakes, capsys, argv: list[str], needle: str) -> None:
    fakes.set("codex", fixture=OK)
    code, out, err = mm(capsys, *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, needle)


def test_no_prompt_on_a_terminal_exits_2(fakes, capsys, tty_stdin) -> None:
    code, _, err = mm(capsys, "ask", "--models", "codex")
    assert code == 2
    assert_one_line_error(err, "no prompt")
    assert fakes.calls() == []


@pytest.mark.parametrize(
    "content, needle",
    [
        ("timeout = [unclosed\n", "config.toml"),
        ("timeout = -1\n", "timeout"),
        ("no_such_setting = 1\n", "no_such_setting"),
        (b'timeout = "\xff\xfe"\n', "config.toml"),
    ],
)
def test_bad_config_file_exits_2(fakes, capsys, content: str | bytes, needle: str) -> None:
    fakes.set("codex", fixture=OK)
    user_config(content)
    code, out, err = mm(capsys, "ask", "--models", "codex", "--prompt", "hi")
    assert (code, out) == (2, "")
    assert_one_line_error(err, needle)
    assert fakes.calls() == []


# --- mm ask: routing refusals and failures -----------------------------------------------------


def test_claude_model_exits_3_and_starts_nothing(fakes, capsys) -> None:
    fakes.install("codex", "cursor-agent", "claude", "agent")
    code, out, err = mm(capsys, "ask", "--models", "codex,claude-sonnet-4-5", "--prompt", "hi")
    assert (code, out) == (3, "")
    assert_one_line_error(err, "'claude-sonnet-4-5' is a Claude model", "Agent tool")
    assert fakes.calls() == []


def test_unknown_provider_exits_4(fakes, capsys) -> None:
    code, out, err = mm(capsys, "ask", "--models", "nope:some-model", "--prompt", "hi")
    assert (code, out) == (4, "")
    assert_one_line_error(err, "unknown provider 'nope'")


def test_all_not_installed_exits_4(fakes, capsys) -> None:
    code, out, err = mm(capsys, "ask", "--models", "codex,gemini", "--prompt", "hi")
    assert code == 4
    assert [r["status"] for r in json.loads(out)] == ["not_installed", "not_installed"]
    assert "Traceback" not in err


def test_all_failed_exits_5(fakes, capsys) -> None:
    fakes.set("codex", fixture="codex/401-with-retries.exec-json.jsonl", exit=1)
    code, out, err = mm(capsys, "ask", "--models", "codex:gpt-5.4,codex:o3", "--prompt", "hi")
    assert code == 5
    assert [r["status"] for r in json.loads(out)] == ["auth_required", "auth_required"]
    assert "Traceback" not in err


def test_interrupt_exits_130(fakes, capsys, monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("multi_model.fanout.dispatch", interrupted)
    code, _, err = mm(capsys, "ask", "--models", "codex", "--prompt", "hi")
    assert code == 130
    assert_one_line_error(err, "interrupted")


# --- mm detect ---------------------------------------------------------------------------------


def by_name(infos: list[dict]) -> dict[str, dict]:
    return {i["name"]: i for i in infos}


def test_detect_json_lists_installed_clis(fakes, capsys) -> None:
    fakes.set("codex", version="codex-cli 1.2.3").set("gemini", version="0.9.1")
    code, out, _ = mm(capsys, "detect", "--json")
    assert code == 0
    infos = by_name(json.loads(out))
    assert infos["codex"]["installed"] and infos["codex"]["version"] == "1.2.3"
    assert infos["codex"]["path"] == str(fakes.bin / "codex")
    assert infos["gemini"]["version"] == "0.9.1"
    assert infos["qwen"]["installed"] is False
    assert infos["codex"]["auth"] is None


def test_detect_plain_table(fakes, capsys) -> None:
    fakes.set("codex", version="codex-cli 1.2.3")
    code, out, _ = mm(capsys, "detect")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "1.2.3" in lines["codex"] and str(fakes.bin / "codex") in lines["codex"]
    assert "not installed" in lines["gemini"]


def test_detect_check_auth_reports_logged_out(fakes, capsys) -> None:
    fakes.set("codex", version="codex-cli 1.2.3", auth={"stdout": "Not logged in", "exit": 1})
    code, out, _ = mm(capsys, "detect", "--json", "--check-auth")
    assert code == 0
    assert by_name(json.loads(out))["codex"]["auth"] == "logged_out"
    assert ["login", "status"] in [c["argv"] for c in fakes.calls("codex")]
    code, out, _ = mm(capsys, "detect", "--check-auth")
    codex_line = next(line for line in out.splitlines() if line.startswith("codex"))
    assert "NOT logged in (to log in: codex login)" in codex_line


# --- mm config ---------------------------------------------------------------------------------


@pytest.fixture
def layered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A user file, a project file in the working directory, and OLLAMA_HOST."""
    user = user_config("timeout = 60\nprobe_timeout = 4\n")
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "multi-model.toml").write_text("probe_timeout = 5\n")
    monkeypatch.chdir(project)
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9999")
    return {"user": str(user), "project": str(project / ".claude" / "multi-model.toml")}


def test_config_json_gives_each_value_with_its_source(layered, capsys) -> None:
    code, out, _ = mm(capsys, "config", "--json")
    assert code == 0
    rows = {row["key"]: (row["value"], row["source"]) for row in json.loads(out)}
    assert rows["timeout"] == (60, layered["user"])
    assert rows["probe_timeout"] == (5, layered["project"])
    assert rows["ollama_host"] == ("127.0.0.1:9999", "env OLLAMA_HOST")
    assert rows["output_cap_mb"] == (10.0, "default")


def test_config_plain_view(layered, capsys) -> None:
    code, out, _ = mm(capsys, "config")
    assert code == 0
    assert f"timeout = 60.0    # {layered['user']}" in out.splitlines()
    assert f"probe_timeout = 5.0    # {layered['project']}" in out.splitlines()
    assert "output_cap_mb = 10.0    # default" in out.splitlines()


def test_config_with_a_broken_file_exits_2(capsys) -> None:
    user_config("[providers.codex\n")
    code, _, err = mm(capsys, "config")
    assert code == 2
    assert_one_line_error(err, "config.toml")


# --- console scripts, as real processes --------------------------------------------------------


def script(
    name: str, *args: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def proc_env(fake_clis) -> dict[str, str]:
    return fake_clis.env(MULTI_MODEL_HOME=os.environ["MULTI_MODEL_HOME"])


def test_mm_ask_script_with_piped_prompt(fake_clis, proc_env) -> None:
    fake_clis.set("codex", fixture=OK)
    done = script("mm-ask", "--models", "codex:gpt-5.4", env=proc_env, stdin="from a pipe\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["text"] == "MOCK_OK: hello from the mock model"
    assert prompt_seen(fake_clis) == "from a pipe\n"


def test_mm_script_usage_error_is_one_line(proc_env) -> None:
    done = script(
        "mm", "ask", "--models", "codex", "--prompt", "hi", "--timeout", "0", env=proc_env
    )
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "--timeout 0: must be a positive")


def test_mm_detect_script(fake_clis, proc_env) -> None:
    fake_clis.set("codex", version="codex-cli 1.2.3")
    done = script("mm-detect", "--json", env=proc_env)
    assert done.returncode == 0, done.stderr
    assert by_name(json.loads(done.stdout))["codex"]["version"] == "1.2.3"


def test_mm_council_script_runs_the_demo_council(proc_env) -> None:
    done = script(
        "mm-council", "--demo", "--prompt", "Tabs or spaces?", "--seed", "1", env=proc_env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("**DEMO**") and "## Synthesis (chairman:" in done.stdout
    assert "stage 2/3: blind peer review" in done.stderr


def test_council_quorum_not_met_exits_6_naming_every_seat(fakes, capsys) -> None:
    fakes.set("codex", fixture=OK)
    fakes.set("gemini", fixture="gemini/no-auth.json-mode.real.stderr.txt", exit=41)
    code, out, err = mm(capsys, "council", "--panel", "codex,gemini", "--prompt", "q")
    assert (code, out) == (6, "")
    assert_one_line_error(err, "quorum not met", "codex: ok", "gemini: auth_required")


def test_council_claude_seat_is_refused_before_anything_runs(fakes, capsys) -> None:
    fakes.set("codex", fixture=OK)
    code, _, err = mm(capsys, "council", "--panel", "codex,opus", "--prompt", "q")
    assert code == 3 and "Agent tool" in err
    assert not [c for c in fakes.calls("codex") if c["argv"][:1] == ["exec"]]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--panel", "codex,gemini", "--min-answers", "1"], "--min-answers"),
        (["--panel", "codex,gemini", "--min-answers", "3"], "--min-answers"),
        ([], "no default panel"),
    ],
)
def test_council_usage_errors_exit_2(fakes, capsys, argv: list[str], needle: str) -> None:
    code, _, err = mm(capsys, "council", *argv, "--prompt", "q")
    assert code == 2
    assert_one_line_error(err, needle)


def test_python_dash_m_multi_model(proc_env) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "multi_model", "--version"],
        capture_output=True,
        text=True,
        env=proc_env,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "multi-model 0.1.0\n")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_per_model_when_stderr_is_a_terminal(
    scripted, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    code = cli.main(["ask", "--models", "scripted:a,scripted:b", "--prompt", "q"])
    lines = tty.getvalue().splitlines()
    assert code == 0
    assert sorted(lines) == sorted([line for line in lines if line.startswith(("[1/2]", "[2/2]"))])
    assert {line.split()[1] for line in lines} == {"scripted:a:", "scripted:b:"}


def test_no_progress_lines_when_stderr_is_not_a_terminal(scripted, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["ask", "--models", "scripted:a", "--prompt", "q"]) == 0
    assert "[1/1]" not in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "inf", "-3", "0"])
def test_timeout_must_be_a_finite_positive_number(fakes, capsys, value: str) -> None:
    code, _, err = mm(capsys, "ask", "--models", "codex", "--prompt", "x", "--timeout", value)
    assert code == 2 and "--timeout" in err and "Traceback" not in err


def test_non_utf8_prompt_on_stdin_exits_2(fakes, capsys, monkeypatch) -> None:
    class Stdin(io.TextIOWrapper):
        def isatty(self) -> bool:
            return False

    monkeypatch.setattr(sys, "stdin", Stdin(io.BytesIO(b"hi \xff there")))
    code, _, err = mm(capsys, "ask", "--models", "codex")
    assert code == 2 and "not UTF-8" in err


def test_invalid_route_regex_is_a_config_error(fakes, capsys) -> None:
    user_config('[[routes]]\nmatch = "("\nproviders = ["codex"]\n')
    code, _, err = mm(capsys, "ask", "--models", "gpt-5", "--prompt", "x")
    assert code == 2 and "regular expression" in err and "Traceback" not in err


def test_unwritable_output_folder_fails_before_any_call(fakes, capsys) -> None:
    code, _, err = mm(
        capsys, "ask", "--models", "codex", "--prompt", "x", "--output", "/nonexistent-dir/out.json"
    )
    assert code == 2 and "--output" in err
    assert not [c for c in fakes.calls("codex") if c["argv"][:1] == ["exec"]]
