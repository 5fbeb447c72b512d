"""The seed library's three documented examples run unchanged, on stand-in CLIs.

The examples are written as the seed's README writes them (keyword calls, no env or settings
argument): the stand-ins (`demo/bin/standin.py`, speaking the codex, gemini and cursor-agent
formats) are alone on the process PATH. The hybrid example's "Claude seat" is a function that
builds a seed-style Response by hand, as a plugin does with an Agent-tool reply; its text comes
from a stand-in so that its ballot is a real one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from multi_model import demo, dispatch
from multi_model.council import run_council, run_stage1, run_stage2, run_stage3
from multi_model.council.models import CouncilResult
from multi_model.models import Response
from multi_model.paths import data_dir

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")

PANEL = ["codex:gpt-5.4", "gemini:gemini-3-pro", "cursor-agent:grok-4"]
SEED_KEYS = {
    "question",
    "stage1_responses",
    "stage2_rankings",
    "aggregate_ranks",
    "stage3_synthesis",
    "chairman_model",
    "metadata",
}


@pytest.fixture(autouse=True)
def _stand_ins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bindir = demo.install(data_dir(os.environ) / "demo-bin")
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def assert_seed_shapes(result: CouncilResult, panel: list[str]) -> None:
    d = result.to_dict()
    assert set(d) >= SEED_KEYS
    assert list(d["stage1_responses"]) == panel
    assert all(isinstance(t, str) and t for t in d["stage1_responses"].values())
    assert set(d["stage2_rankings"]) == set(panel)
    for ranking in d["stage2_rankings"].values():
        assert sorted(ranking) == sorted(panel)  # seat names, de-anonymized, best first
    ranks = d["aggregate_ranks"]
    assert set(ranks) == set(panel) and all(isinstance(v, float) for v in ranks.values())
    assert list(ranks.values()) == sorted(ranks.values())  # best first
    assert isinstance(d["stage3_synthesis"], str) and d["stage3_synthesis"]
    assert d["chairman_model"] in panel
    assert isinstance(d["metadata"], dict)
    assert CouncilResult.model_validate_json(result.model_dump_json()) == result
    assert CouncilResult.model_validate(json.loads(json.dumps(d))) == result


def test_example_dispatch() -> None:
    responses = dispatch(prompt="Explain closures", models=PANEL[:2], timeout=300)
    assert [r.model for r in responses] == PANEL[:2]
    for r in responses:
        assert r.text and r.exit_code == 0 and r.error is None
        assert r.cli_used and r.duration_s >= 0 and isinstance(r.metadata, dict)


def test_example_run_council() -> None:
    result = run_council(prompt="Tabs or spaces?", panel=PANEL, chairman="gemini:gemini-3-pro")
    assert result.chairman_model == "gemini:gemini-3-pro"
    assert result.synthesis and result.stage3_synthesis == result.synthesis.text
    assert_seed_shapes(result, PANEL)


def test_example_hybrid_dispatch_fn() -> None:
    claude_seats = {"claude:opus"}

    def agent_tool(prompt: str) -> str:  # stands in for Claude Code's Agent tool
        return dispatch(["codex:gpt-5.4"], prompt, timeout=300)[0].text

    def dispatch_fn(prompt: str, models: list[str]) -> list[Response]:
        clis = [m for m in models if m not in claude_seats]
        cli_responses = iter(dispatch(prompt=prompt, models=clis, timeout=300) if clis else [])
        out = []
        for m in models:
            if m in claude_seats:
                text = agent_tool(prompt)
                out.append(
                    Response(model=m, text=text, cli_used="agent-tool", exit_code=0, duration_s=1.5)
                )
            else:
                out.append(next(cli_responses))
        return out

    panel = ["claude:opus", *PANEL[:2]]
    result = run_council(prompt="Tabs or spaces?", panel=panel, dispatch_fn=dispatch_fn)
    claude = result.answers[0]
    assert (claude.provider, claude.status) == ("agent", "ok")
    assert_seed_shapes(result, panel)


def test_stages_one_by_one() -> None:
    answers = run_stage1("Tabs or spaces?", PANEL)
    assert [a.model for a in answers] == PANEL and all(a.ok for a in answers)
    ballots = run_stage2("Tabs or spaces?", answers)
    assert [b.status for b in ballots] == ["valid"] * 3
    synthesis = run_stage3("Tabs or spaces?", answers, ballots, chairman="codex:gpt-5.4")
    assert synthesis is not None and synthesis.chairman == "codex:gpt-5.4" and synthesis.text


@pytest.mark.parametrize(
    ("given", "provider", "status"),
    [
        ({"cli_used": "agent-tool", "exit_code": 0, "text": "hi"}, "agent", "ok"),
        ({"cli_used": "/usr/bin/codex", "exit_code": 0, "text": ""}, "codex", "empty_output"),
        ({"cli_used": "/usr/bin/codex", "exit_code": 1, "error": "boom"}, "codex", "crashed"),
        ({"model": "gemini:gemini-3-pro", "text": "hi"}, "gemini", "ok"),
        ({"error": "no reply"}, "claude", "crashed"),
        ({}, "claude", "missing"),
    ],
)
def test_seed_style_response_is_completed(given: dict, provider: str, status: str) -> None:
    r = Response(**{"model": "claude", **given})
    assert (r.provider, r.status) == (provider, status)


def test_a_result_written_before_the_rename_loads(tmp_path: Path) -> None:
    old = {
        "question": "q",
        "stage1_responses": [{"model": "a", "provider": "codex", "status": "ok", "text": "x"}],
        "stage2_rankings": [],
        "aggregate_ranks": [],
        "stage3_synthesis": None,
        "chairman_model": None,
        "metadata": {},
    }
    result = CouncilResult.model_validate(old)
    assert [a.text for a in result.answers] == ["x"] and result.synthesis is None
    assert result.stage1_responses == {"a": "x"} and result.chairman_model == ""
