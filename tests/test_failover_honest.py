"""Failover that never surprises: a provider the user named answers or fails itself; a failed
chain reports its most actionable failure; a council's seats never collapse onto one provider.
Fake CLIs replay failures recorded from the real ones."""

from __future__ import annotations

import json
import os

import pytest

from multi_model import failover
from multi_model.config import Settings
from multi_model.fanout import dispatch
from multi_model.models import Response
from tests.conftest import FakeCLIs, fixture_path, run_mm
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")

FAST = Settings.model_validate({"retry": {"base_delay": 0.2, "max_delay": 1.0}})
CODEX_401 = {
    "stdout_file": str(fixture_path("codex", "401-with-retries.exec-json.jsonl")),
    "exit": 1,
}
GEMINI_QUOTA = {"stderr_file": str(fixture_path("gemini", "429.json-mode.stderr.txt")), "exit": 1}
CURSOR_OK = {"stdout_file": str(fixture_path("cursor-agent", "ok.json-mode.from-docs.json"))}


def model_calls(fakes: FakeCLIs, name: str) -> list[dict]:
    return [
        c for c in fakes.calls(name) if c["argv"] != ["--version"] and "status" not in c["argv"]
    ]


@pytest.mark.parametrize("cursor", [CURSOR_OK, {"mode": "hang"}], ids=["answers", "hangs"])
def test_issue_case_logged_out_codex_is_reported_not_answered_elsewhere(
    fake_clis: FakeCLIs,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    cursor: dict,
) -> None:
    fake_clis.set("codex", **CODEX_401).set("gemini", **GEMINI_QUOTA)
    fake_clis.set("cursor-agent", **cursor)
    monkeypatch.setenv("PATH", f"{fake_clis.bin}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(fake_clis.home))
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    code, out, err = run_mm(
        capsys, "ask", "--models", "codex,gemini", "--prompt", "hi", "--timeout", "5"
    )
    assert out, err
    codex, gemini = (Response.model_validate(r) for r in json.loads(out))
    assert code != 0
    assert (codex.provider, codex.status) == ("codex", "auth_required")
    assert codex.error and "codex login" in codex.error
    assert (gemini.provider, gemini.status) == ("gemini", "rate_limited")
    assert not model_calls(fake_clis, "cursor-agent")


def test_a_bare_model_id_still_fails_over_and_keeps_the_logout_visible(
    fake_clis: FakeCLIs,
) -> None:
    fake_clis.set("codex", **CODEX_401).set("cursor-agent", mode="hang")
    [out] = dispatch(
        ["gpt-5.4"], "hi", env=fake_clis.env(), settings=FAST, timeout=3, clock=FakeClock()
    )
    assert (out.provider, out.status) == ("codex", "auth_required")
    assert "codex login" in (out.error or "") and "cursor-agent: timeout" in (out.error or "")
    assert [(a.provider, a.status) for a in out.attempts] == [
        ("codex", "auth_required"),
        ("cursor-agent", "timeout"),
    ]


@pytest.mark.parametrize(("distinct", "provider"), [(False, "cursor-agent"), (True, "codex")])
def test_council_seats_never_collapse_onto_one_provider(
    fake_clis: FakeCLIs, distinct: bool, provider: str
) -> None:
    fake_clis.set("codex", **CODEX_401).set("cursor-agent", **CURSOR_OK)
    first, second = dispatch(
        ["gpt-5.4", "kimi-k2"], "hi", env=fake_clis.env(), settings=FAST, distinct=distinct
    )
    assert first.provider == provider and second.provider == "cursor-agent" and second.ok


def resp(status: str, provider: str, error: str = "") -> Response:
    return Response(model="m", provider=provider, status=status, error=error or status)


@pytest.mark.parametrize(
    ("ran", "expected"),
    [
        ([resp("timeout", "a"), resp("auth_required", "b")], "b"),
        ([resp("not_installed", "a"), resp("timeout", "b")], "a"),
        ([resp("rate_limited", "a"), resp("rate_limited", "b", "insufficient quota")], "b"),
        ([resp("rate_limited", "a", "quota spent"), resp("auth_required", "b")], "b"),
        ([resp("crashed", "a"), resp("crashed", "b")], "a"),
    ],
)
def test_most_actionable_failure(ran: list[Response], expected: str) -> None:
    number, best = failover.most_actionable(list(enumerate(ran, 1)))
    assert best.provider == expected and ran[number - 1].provider == expected
    assert "also tried" in (best.error or "")
