"""The --demo panel: stand-ins installed safely, speaking each CLI's real format, labelled."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from multi_model import cli, demo, runner
from multi_model.config import Settings, data_dir
from multi_model.errors import ClaudeModelRefused, UsageError
from multi_model.models import Request, Response
from multi_model.providers import builtin
from tests.conftest import run_mm
from tests.fakes.httpmock import closed_port_url

PROMPT = "Should the cache live on disk?\nSecond line is context.\n"


@pytest.fixture
def bindir() -> Path:
    return demo.install(data_dir(os.environ) / "demo-bin")


def run_standin(path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(path), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={"PATH": "/nonexistent"},
        timeout=30,
        check=False,
    )


def test_setup_installs_standins_alone_on_path_with_default_settings() -> None:
    env, settings, models = demo.setup(None)
    bindir = data_dir(os.environ) / "demo-bin"
    assert env["PATH"] == str(bindir)
    assert settings == Settings()
    assert models == demo.DEFAULT_PANEL == "codex:gpt-5.4,gemini:gemini-3-pro,cursor-agent:grok-4"
    for name in demo.STANDINS:
        path = bindir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o755
        assert path.read_text().splitlines()[0] == f"#!{sys.executable}"


def test_setup_keeps_the_requested_models() -> None:
    assert demo.setup("gemini:gemini-3-flash")[2] == "gemini:gemini-3-flash"


@pytest.mark.parametrize("spec", ["qwen:qwen3-coder", "ollama:llama3", "opencode"])
def test_setup_refuses_models_without_a_standin(spec: str) -> None:
    with pytest.raises(UsageError, match="stand-ins only for codex, gemini, cursor-agent"):
        demo.setup(spec)


def test_setup_refuses_claude_like_mm_ask() -> None:
    with pytest.raises(ClaudeModelRefused):
        demo.setup("claude-sonnet-4-5")


def test_install_leaves_unchanged_files_alone(bindir: Path) -> None:
    before = (bindir / "codex").stat().st_mtime_ns
    os.utime(bindir / "codex", ns=(before - 10**9, before - 10**9))
    demo.install(bindir)
    assert (bindir / "codex").stat().st_mtime_ns == before - 10**9


def test_install_repairs_modes_and_stale_copies(bindir: Path) -> None:
    (bindir / "gemini").write_text("stale")
    (bindir / "gemini").chmod(0o600)
    demo.install(bindir)
    assert stat.S_IMODE((bindir / "gemini").stat().st_mode) == 0o755
    assert run_standin(bindir / "gemini", "--version").stdout == "0.0.0-demo\n"


@pytest.mark.parametrize(
    "name, version",
    [
        ("codex", "codex-cli 0.0.0-demo"),
        ("gemini", "0.0.0-demo"),
        ("cursor-agent", "2026.01.01-demo"),
    ],
)
def test_standin_versions(bindir: Path, name: str, version: str) -> None:
    done = run_standin(bindir / name, "--version")
    assert (done.returncode, done.stdout) == (0, version + "\n")


def test_standin_without_prompt_fails(bindir: Path) -> None:
    done = run_standin(bindir / "codex", "exec", "--json", "-")
    assert done.returncode == 1
    assert "no prompt" in done.stderr
    assert done.stdout == ""


def test_codex_standin_tolerates_unknown_flags_and_is_deterministic(bindir: Path) -> None:
    argv = ("exec", "--json", "--brand-new-flag", "--sandbox", "read-only", "-c", "x=1", "-")
    first = run_standin(bindir / "codex", *argv, stdin=PROMPT)
    assert first.returncode == 0
    events = [json.loads(line) for line in first.stdout.splitlines()]
    assert [e["type"] for e in events] == [
        "thread.started",
        "turn.started",
        "item.completed",
        "turn.completed",
    ]
    assert first.stdout == run_standin(bindir / "codex", *argv, stdin=PROMPT).stdout


def test_shebang_is_the_interpreter_when_it_fits() -> None:
    assert demo.shebang("/opt/py/bin/python3") == "#!/opt/py/bin/python3\n"
    assert demo.shebang("/my dir/python").startswith("#!/bin/sh\n")


def test_standins_run_from_an_interpreter_path_with_spaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = tmp_path / "py with space"
    odd.mkdir()
    (odd / "python").symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(odd / "python"))
    bindir = demo.install(tmp_path / "bin")
    assert run_standin(bindir / "codex", "--version").stdout == "codex-cli 0.0.0-demo\n"
    done = run_standin(bindir / "codex", "exec", "--json", "-", stdin=PROMPT)
    assert "[DEMO stand-in for codex]" in done.stdout


CASES = [("codex", "gpt-5.4"), ("gemini", "gemini-3-pro"), ("cursor-agent", "grok-4")]


@pytest.mark.parametrize("name, model", CASES)
def test_standin_output_parses_with_the_real_adapter(bindir: Path, name: str, model: str) -> None:
    prov = builtin(name)
    exe = str(bindir / name)
    inv = prov.build(Request(prompt=PROMPT, model=model), prov.env_for({"PATH": str(bindir)}), exe)
    parsed = prov.parse(runner.run(inv, timeout=30))
    assert parsed.status == "ok", parsed.error
    assert parsed.text.startswith(
        f'[DEMO stand-in for {name}] You asked: "Should the cache live on disk?"'
    )
    assert "no model was asked" in parsed.text
    assert parsed.session_id


def test_demo_answers_differ_per_cli(bindir: Path) -> None:
    texts = set()
    for name, model in CASES:
        prov = builtin(name)
        inv = prov.build(
            Request(prompt=PROMPT, model=model), {"PATH": str(bindir)}, str(bindir / name)
        )
        texts.add(prov.parse(runner.run(inv, timeout=30)).text.split("\n", 1)[1])
    assert len(texts) == 3


def test_label_marks_each_response_and_keeps_metadata() -> None:
    original = Response(
        model="codex",
        provider="codex",
        status="ok",
        text="x",
        metadata={"route": "explicit provider"},
    )
    [labelled] = demo.label([original])
    assert labelled.metadata == {"route": "explicit provider", "demo": True}
    assert original.metadata == {"route": "explicit provider"}


def test_mm_ask_demo_runs_the_whole_panel(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "--demo", "--prompt", PROMPT]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert [r["model"] for r in out] == demo.DEFAULT_PANEL.split(",")
    assert [r["status"] for r in out] == ["ok", "ok", "ok"]
    assert [r["cli_version"] for r in out] == ["0.0.0-demo", "0.0.0-demo", "2026.01.01-demo"]
    for r in out:
        assert r["metadata"]["demo"] is True
        assert r["text"].startswith(f"[DEMO stand-in for {r['provider']}]")
        assert r["cli_used"] == str(data_dir(os.environ) / "demo-bin" / r["provider"])
    assert captured.err.startswith("DEMO panel:")


def test_demo_never_reaches_a_real_cli(
    fake_clis, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_clis.set("codex", stdout="REAL CODEX WAS CALLED")
    monkeypatch.setenv("PATH", f"{fake_clis.bin}:/usr/bin:/bin")
    assert cli.main(["ask", "--demo", "--models", "codex", "--prompt", "hi"]) == 0
    [response] = json.loads(capsys.readouterr().out)
    assert response["text"].startswith("[DEMO stand-in for codex]")
    assert fake_clis.calls("codex") == []


def test_demo_ignores_the_user_config(capsys: pytest.CaptureFixture[str]) -> None:
    config = Path(os.environ["MULTI_MODEL_HOME"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('timeout = 0.01\n[providers.codex]\nbinary = "/nonexistent/codex"\n')
    assert cli.main(["ask", "--demo", "--models", "codex:gpt-5.4", "--prompt", "hi"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "ok"


def test_demo_is_not_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "--prompt", "hi"]) == 2
    assert "--models is required" in capsys.readouterr().err
    assert not (data_dir(os.environ) / "demo-bin").exists()


def test_a_demo_council_has_a_winner_a_dissenter_and_a_bias(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stand-ins' ballots differ by seat: no three-way tie of 1.50 any more."""
    monkeypatch.setenv("MM_DEMO_DELAY_S", "0")
    assert cli.main(["council", "--demo", "--format", "json", "--prompt", PROMPT]) == 0
    result = json.loads(capsys.readouterr().out)
    codex, gemini, cursor = demo.DEFAULT_PANEL.split(",")
    assert [(r["seat"], r["mean_rank"]) for r in result["standings"]] == [
        (codex, 1.0),
        (gemini, 1.5),
        (cursor, 2.0),
    ]
    assert {b["status"] for b in result["ballots"]} == {"valid"}
    assert result["aggregate_ranks"] == {codex: 1.0, gemini: 1.5, cursor: 2.0}
    audit = result["metadata"]["audit"]
    assert audit["agreement"]["dissenters"] == [cursor]
    partisan = [r for r in audit["self_preference"]["reviewers"] if r["reviewer"] == cursor]
    assert partisan == [{"reviewer": cursor, "own_position": 1, "others_mean_position": 3.0}]
    assert audit["self_preference"]["mean_gap"] > 0


def test_a_demo_council_with_k_reviewers_per_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MM_DEMO_DELAY_S", "0")
    assert cli.main(["council", "--demo", "--prompt", "hi", "--reviewers-per-answer", "0"]) == 2
    assert "--reviewers-per-answer 0: must be at least 1" in capsys.readouterr().err
    argv = ["council", "--demo", "--format", "json", "--prompt", "hi", "--reviewers-per-answer"]
    assert cli.main([*argv, "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [len(b["label_map"]) for b in result["ballots"]] == [1, 1, 1]
    assert [r["votes"] for r in result["standings"]] == [1, 1, 1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["ask", "--demo", "local", "--models", "codex"],
            "--demo local has only the seats smol-a, smol-b, smol-c",
        ),
        (["ask", "--demo", "local", "--task", "code"], "--demo local picks its own seats"),
        (["council", "start", "--demo", "local"], "--demo local runs with `mm ask` and"),
        (["ask", "--demo", "remote"], "invalid choice: 'remote'"),
        (["ask", "--demo", "local", "--background"], "--background does not run the --demo"),
    ],
)
def test_demo_local_refuses_what_it_cannot_run(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_mm(capsys, *argv, "--prompt", "hi")
    assert code == 2
    assert message in err


def test_demo_local_without_a_registry_fails_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No reachable package index: exit 4, one line that says why, nothing half-installed."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no index from the machine's pip config
    monkeypatch.setenv("PIP_INDEX_URL", f"{closed_port_url()}/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "1")
    code, _, err = run_mm(capsys, "ask", "--demo", "local", "--prompt", "hi")
    assert code == 4
    lines = [line for line in err.splitlines() if line.startswith("mm: ")]
    assert len(lines) == 1 and "could not install the local model" in lines[0]
    assert "first use of the local model: downloading 127 MB" in err
    assert not list(data_dir(os.environ).glob("llama-*"))
