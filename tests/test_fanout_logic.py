"""Fan-out logic with the in-process scripted provider: order, isolation, statuses, callbacks."""

from __future__ import annotations

import time

import pytest

from multi_model import dispatch, providers
from multi_model.config import Settings
from multi_model.errors import UnknownProvider
from multi_model.models import Parsed
from tests.fakes.clock import FakeClock
from tests.fakes.scripted import Delayed, ScriptedProvider

S = Settings()


def test_answers_come_back_in_input_order(scripted: ScriptedProvider) -> None:
    scripted.enqueue(Delayed(0.4, "slow"), model="a")
    scripted.enqueue(Delayed(0.0, "fast"), model="b")
    scripted.enqueue(Delayed(0.2, "middle"), model="c")
    start = time.monotonic()
    out = dispatch(["scripted:a", "scripted:b", "scripted:c"], "q", settings=S, env={})
    assert [r.text for r in out] == ["slow", "fast", "middle"]
    assert time.monotonic() - start < 0.55  # the three waits overlapped (serial: 0.6 s)


def test_prompt_and_model_reach_the_provider_unchanged(scripted: ScriptedProvider) -> None:
    dispatch(["scripted:m1"], "  keep\n my  whitespace \n", settings=S, env={})
    [req] = scripted.calls
    assert (req.prompt, req.model, req.timeout) == ("  keep\n my  whitespace \n", "m1", 300)


def test_failures_are_statuses_and_do_not_sink_others(scripted: ScriptedProvider) -> None:
    scripted.enqueue(RuntimeError("adapter bug"), model="boom")
    scripted.enqueue(Parsed(status="rate_limited", error="429", retry_after_s=20), model="rl")
    scripted.enqueue("   \n", model="blank")
    scripted.enqueue("fine", model="ok")
    boom, rl, blank, ok = dispatch(
        ["scripted:boom", "scripted:rl", "scripted:blank", "scripted:ok"],
        "q",
        settings=S,
        env={},
        clock=FakeClock(),
    )
    assert boom.status == "crashed" and "adapter bug" in (boom.error or "")
    assert boom.metadata["route"] == "explicit provider"
    assert (rl.status, rl.retry_after_s) == ("rate_limited", 20)
    assert blank.status == "empty_output" and blank.text == "   \n"
    assert (ok.status, ok.text, ok.cli_used) == ("ok", "fine", "in-process")


def test_on_result_sees_each_index_once(scripted: ScriptedProvider) -> None:
    seen: list[int] = []
    dispatch(
        ["scripted:x", "scripted:y", "scripted:z"],
        "q",
        settings=S,
        env={},
        on_result=lambda i, r: seen.append(i),
    )
    assert sorted(seen) == [0, 1, 2]


def test_empty_model_list_returns_nothing(scripted: ScriptedProvider) -> None:
    assert dispatch([], "q", settings=S, env={}) == []
    assert scripted.calls == []


def test_unregistered_provider_is_unknown() -> None:
    with pytest.raises(UnknownProvider):
        dispatch(["scripted:m1"], "q", settings=S, env={})


def test_builtin_names_cannot_be_replaced() -> None:
    impostor = ScriptedProvider()
    impostor.name = "codex"
    with pytest.raises(ValueError):
        providers.register(impostor)
