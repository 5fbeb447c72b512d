"""Retry, failover and quota memory: the rules in-process, then every path through the real
dispatch with fake CLIs that fail the way the real ones do (fixtures recorded from them)."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from multi_model import cli, failover
from multi_model.config import RetrySettings, Settings
from multi_model.fanout import dispatch
from multi_model.models import Response
from multi_model.routing import Route, route
from multi_model.store import Store
from tests.conftest import FakeCLIs, fixture_path
from tests.fakes.clock import FakeClock

FAST = Settings.model_validate({"retry": {"base_delay": 0.2, "max_delay": 1.0}})
CURSOR_OK = fixture_path("cursor-agent", "ok.json-mode.from-docs.json")
LONG_LIMIT = "ERROR: You've hit your usage limit. Resets in 156h13m.\n"


def resp(
    status: str, provider: str = "codex", retry_after: float | None = None, error: str | None = None
) -> Response:
    return Response(
        model="m",
        provider=provider,
        status=status,
        retry_after_s=retry_after,
        error=error or (None if status == "ok" else status),
        text="answer",
    )


# --- rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "response, kind",
    [
        (resp("ok"), "done"),
        (resp("rate_limited"), "retry"),
        (resp("rate_limited", retry_after=30), "retry"),
        (resp("rate_limited", retry_after=3600), "failover"),
        (
            resp("rate_limited", error="Quota exceeded. Check your plan and billing details."),
            "failover",
        ),
        (resp("server_error"), "retry"),
        (resp("network"), "retry"),
        (resp("not_installed"), "failover"),
        (resp("auth_required"), "failover"),
        (resp("model_not_found"), "failover"),
        (resp("timeout"), "done"),
        (resp("bad_output"), "done"),
    ],
)
def test_classify(response: Response, kind: str) -> None:
    assert failover.classify(response, RetrySettings()) == kind


def test_backoff_is_exponential_with_jitter_and_honours_a_reset() -> None:
    rs = RetrySettings(base_delay=2.0, max_delay=30.0)
    rng = random.Random(7)
    for n, cap in enumerate((2.0, 4.0, 8.0, 16.0, 30.0, 30.0)):
        delays = [failover.backoff(n, None, rs, rng) for _ in range(200)]
        assert cap / 2 <= min(delays) and max(delays) <= cap
        assert max(delays) - min(delays) > cap / 4  # jittered, not fixed
    assert 20.0 <= failover.backoff(0, 20.0, rs, rng) <= 21.0


def test_alternatives_follow_the_family_and_never_carry_a_cli_model_id() -> None:
    settings = Settings()
    available = {"gemini": "logged_in", "agy": "logged_in", "cursor-agent": "logged_in"}.get
    family = route("gemini-3-pro", settings, available)
    assert [(r.provider, r.model) for r in failover.alternatives(family, settings)] == [
        ("agy", "gemini-3-pro"),
        ("cursor-agent", "gemini-3-pro"),
    ]
    bare = route("gemini", settings, available)  # a provider the user named: no failover
    assert bare.model is None and failover.alternatives(bare, settings) == []
    assert (
        failover.alternatives(route("gemini:gemini-2.5-pro", settings, available), settings) == []
    )
    off = Settings.model_validate({"retry": {"failover": False}})
    assert failover.alternatives(family, off) == []
    blocked = Settings.model_validate({"policy": {"block": ["agy"]}})
    assert [r.provider for r in failover.alternatives(family, blocked)] == ["cursor-agent"]


def test_run_stops_retrying_when_the_budget_is_spent() -> None:
    calls = []

    def once(r: Route, left: float) -> Response:
        calls.append(left)
        return resp("server_error")

    r = Route("codex:m", "codex", "m", "explicit provider")
    settings = Settings.model_validate({"retry": {"base_delay": 1.0, "max_retries": 10}})
    clock = FakeClock()
    out = failover.run([r], once, settings, 4.0, {}, lambda *a: None, clock=clock)
    assert sum(clock.waits) + failover.MIN_ATTEMPT_S <= 4.0  # no wait ran past the budget
    assert out.status == "server_error" and 2 <= len(calls) <= 3
    assert calls[0] == 4.0 and all(left < 4.0 for left in calls[1:])
    assert [a.next for a in out.attempts] == ["retry"] * (len(calls) - 1) + ["done"]


# --- through dispatch, with fake CLIs ---------------------------------------------------------


def test_transient_failures_are_retried_then_answered(fake_clis: FakeCLIs) -> None:
    fake_clis.set(
        "codex",
        sequence=[
            {"stdout_file": str(_fixture("codex/500.exec-json.jsonl")), "exit": 1},
            {"stdout_file": str(_fixture("codex/conn-refused.exec-json.jsonl")), "exit": 1},
            {"stdout_file": str(_fixture("codex/ok.exec-json.jsonl"))},
        ],
    )
    clock = FakeClock()
    [out] = dispatch(
        ["codex:gpt-5.4"], "hi", env=fake_clis.env(), settings=FAST, timeout=60, clock=clock
    )
    assert out.ok and out.text and len(clock.waits) == 2
    assert [(a.provider, a.status, a.next) for a in out.attempts] == [
        ("codex", "server_error", "retry"),
        ("codex", "network", "retry"),
        ("codex", "ok", "done"),
    ]
    assert len([c for c in fake_clis.calls("codex") if "exec" in c["argv"]]) == 3


def test_logged_out_provider_fails_over_along_the_family_route(fake_clis: FakeCLIs) -> None:
    fake_clis.set("gemini", stderr_file=str(_fixture("gemini/401.json-mode.stderr.txt")), exit=1)
    fake_clis.set("cursor-agent", stdout_file=str(CURSOR_OK))
    [out] = dispatch(
        ["gemini-3-pro"], "hi", env=fake_clis.env(GEMINI_API_KEY="k"), settings=FAST, timeout=60
    )
    assert (out.status, out.provider) == ("ok", "cursor-agent")
    assert [(a.provider, a.model, a.status, a.next) for a in out.attempts] == [
        ("gemini", "gemini-3-pro", "auth_required", "failover"),
        ("agy", "gemini-3-pro", "not_installed", "failover"),
        ("cursor-agent", "gemini-3-pro", "ok", "done"),
    ]
    [call] = [c for c in fake_clis.calls("cursor-agent") if "--print" in c["argv"]]
    assert "--model=gemini-3-pro" in call["argv"]
    rows = Store.of({"MULTI_MODEL_HOME": _home()}).calls()
    assert sorted((r["provider"], r["status"], r["attempt"]) for r in rows) == [
        ("agy", "not_installed", 2),
        ("cursor-agent", "ok", 3),
        ("gemini", "auth_required", 1),
    ]


def test_an_explicit_provider_never_fails_over(fake_clis: FakeCLIs) -> None:
    fake_clis.set("gemini", stderr_file=str(_fixture("gemini/401.json-mode.stderr.txt")), exit=1)
    fake_clis.set("cursor-agent", stdout_file=str(CURSOR_OK))
    [out] = dispatch(["gemini:gemini-3-pro"], "hi", env=fake_clis.env(), settings=FAST)
    assert (out.status, out.attempts) == ("auth_required", [])
    assert not [c for c in fake_clis.calls("cursor-agent") if "--print" in c["argv"]]


def test_a_long_quota_window_cools_the_provider_and_routing_skips_it(
    fake_clis: FakeCLIs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_clis.set("codex", stderr=LONG_LIMIT, exit=1)
    fake_clis.set("cursor-agent", stdout_file=str(CURSOR_OK))
    [first] = dispatch(["gpt-5.4"], "hi", env=fake_clis.env(), settings=FAST, timeout=30)
    assert (first.status, first.provider) == ("ok", "cursor-agent")
    assert first.attempts[0].status == "rate_limited" and first.attempts[0].retry_after_s == 562380
    until, reason = Store.of({"MULTI_MODEL_HOME": _home()}).cooling()["codex"]
    assert 562000 < until - time.time() <= 562380 and "Resets in 156h13m" in reason
    codex_calls = len(fake_clis.calls("codex"))
    [second] = dispatch(["gpt-5.4"], "hi", env=fake_clis.env(), settings=FAST, timeout=30)
    assert second.provider == "cursor-agent" and second.attempts == []
    assert "codex skipped: cooling" in str(second.metadata["route"])
    [explicit] = dispatch(["codex:gpt-5.4"], "hi", env=fake_clis.env(), settings=FAST)
    assert explicit.status == "rate_limited" and "cooling until" in explicit.error
    assert len(fake_clis.calls("codex")) == codex_calls  # asked no more
    monkeypatch.setenv("PATH", fake_clis.env()["PATH"])  # mm detect probes the fakes
    assert cli.main(["detect"]) == 0
    assert "COOLING until" in next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("codex")
    )


def _fixture(name: str) -> Path:
    provider, file = name.split("/", 1)
    return fixture_path(provider, file)


def _home() -> str:
    return os.environ["MULTI_MODEL_HOME"]
