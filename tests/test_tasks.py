"""Task-aware routing, profiles and fallback chains (`a|b`), through the real dispatch with
fake CLIs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from multi_model import tasks
from multi_model.config import Settings
from multi_model.errors import PolicyViolation, UsageError
from multi_model.fanout import dispatch
from multi_model.routing import route
from tests.conftest import FakeCLIs, fixture_path, run_mm

FAST = Settings.model_validate({"retry": {"base_delay": 0.2, "max_delay": 0.5}})


def mm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_mm(capsys, *argv)


def test_a_chain_asks_the_fallback_when_the_primary_fails(fake_clis: FakeCLIs) -> None:
    fake_clis.set(
        "codex", stdout_file=str(fixture_path("codex", "401-with-retries.exec-json.jsonl")), exit=1
    )
    fake_clis.set("gemini", stdout_file=str(fixture_path("gemini", "ok.json")))
    [out] = dispatch(
        ["codex:gpt-5.4|gemini:gemini-2.5-pro"],
        "hi",
        env=fake_clis.env(),
        settings=FAST,
        timeout=30,
    )
    assert (out.model, out.provider, out.status) == (
        "codex:gpt-5.4|gemini:gemini-2.5-pro",
        "gemini",
        "ok",
    )
    assert [(a.provider, a.status, a.next) for a in out.attempts] == [
        ("codex", "auth_required", "failover"),
        ("gemini", "ok", "done"),
    ]


def test_a_chain_shares_one_budget(fake_clis: FakeCLIs) -> None:
    fake_clis.set("codex", mode="hang")
    fake_clis.set("gemini", stdout_file=str(fixture_path("gemini", "ok.json")))
    [out] = dispatch(["codex:m|gemini:g"], "hi", env=fake_clis.env(), settings=FAST, timeout=3)
    assert out.status == "timeout" and out.provider == "codex"
    assert out.duration_s < 5 and not [
        c for c in fake_clis.calls("gemini") if "--version" not in c["argv"]
    ]


def test_task_table_profiles_and_their_sources(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings()
    assert tasks.task("code", settings)[0].models == ["codex|qwen|cursor-agent"]
    budget, source = tasks.apply_profile(settings, "budget")
    assert source == "profile budget (built-in)" and budget.timeout == 180
    assert tasks.task("code", budget) == (
        budget.tasks["code"],
        "[tasks.code] in the config or profile",
    )
    assert budget.tasks["code"].models == ["qwen|codex"]
    local, _ = tasks.apply_profile(settings, "local-only")
    assert local.policy.allow == ["ollama"] and local.review.reviewers == ["ollama"]
    mine = Settings.model_validate(
        {"profiles": {"budget": {"timeout": 42}}, "tasks": {"code": {"models": ["qwen"]}}}
    )
    over, source = tasks.apply_profile(mine, "budget")
    assert (over.timeout, source, over.tasks["code"].models) == (
        42,
        "profile budget (config)",
        ["qwen"],
    )
    with pytest.raises(UsageError, match="unknown profile 'cheap'; known: budget, local-only"):
        tasks.apply_profile(settings, "cheap")
    with pytest.raises(UsageError, match="unknown task 'poetry'"):
        tasks.task("poetry", settings)
    code, out, _ = mm(capsys, "config", "--task", "code", "--profile", "budget")
    assert code == 0 and out.splitlines()[:2] == [
        "task code: [tasks.code] in the config or profile, with profile budget (built-in)",
        "  seat 1: qwen | codex",
    ]


def test_ask_with_a_task_uses_its_seats(
    fake_clis: FakeCLIs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_clis.set("codex", fixture="codex/ok.exec-json.jsonl")
    monkeypatch.setenv("PATH", fake_clis.env()["PATH"])
    monkeypatch.setenv("HOME", str(fake_clis.home))
    code, out, _ = mm(capsys, "ask", "--task", "code", "--prompt", "hi")
    [answer] = json.loads(out)
    assert code == 0 and (answer["model"], answer["provider"], answer["status"]) == (
        "codex|qwen|cursor-agent",
        "codex",
        "ok",
    )
    code, _, err = mm(capsys, "ask", "--task", "code", "--models", "gemini", "--prompt", "hi")
    assert code == 2 and "--task picks the models" in err


@pytest.mark.parametrize(
    "host, allowed",
    [
        ("http://127.0.0.1:11434", True),
        ("localhost:11434", True),
        ("http://[::1]:11434", True),
        ("http://10.0.0.7:11434", False),
        ("http://ollama.example.com", False),
    ],
)
def test_private_stays_on_this_machine(host: str, allowed: bool) -> None:
    settings = Settings(ollama_host=host)
    routes = [route("ollama:llama3.2", settings, lambda name: "unknown")]
    if allowed:
        tasks.check_private(routes, settings, {})
    else:
        with pytest.raises(
            PolicyViolation,
            match=r"task private: ollama:llama3\.2 routes to "
            r"ollama, which is not on this machine",
        ):
            tasks.check_private(routes, settings, {})


def test_private_refuses_a_cloud_cli_and_a_remote_endpoint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = Path(os.environ["MULTI_MODEL_HOME"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        '[tasks.private]\nmodels = ["codex", "lan:m"]\n'
        '[endpoints.lan]\nbase_url = "http://192.168.1.9:4000/v1"\n'
    )
    code, _, err = mm(capsys, "ask", "--task", "private", "--prompt", "hi")
    assert code == 8 and "task private: codex routes to codex" in err
    config.write_text(
        '[tasks.private]\nmodels = ["lan:m"]\n'
        '[endpoints.lan]\nbase_url = "http://192.168.1.9:4000/v1"\n'
    )
    code, _, err = mm(capsys, "ask", "--task", "private", "--prompt", "hi")
    assert code == 8 and "lan:m routes to lan" in err


def test_local_only_allows_loopback_endpoints_and_nothing_remote() -> None:
    settings = Settings.model_validate(
        {
            "endpoints": {
                "llama": {"base_url": "http://127.0.0.1:8080/v1"},
                "box": {"base_url": "http://localhost:4000/v1"},
                "cloud": {"base_url": "https://llm.example.com/v1"},
            }
        }
    )
    local, _ = tasks.apply_profile(settings, "local-only")
    assert local.policy.allow == ["ollama", "llama", "box"]
