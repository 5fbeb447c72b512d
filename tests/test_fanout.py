"""dispatch end to end with a fake codex executable: order, parallelism, isolation of failures,
failure statuses from what the process did, routing refusals before anything starts, the env
allowlist, the on_result callback, and Responses that survive a JSON round trip.

One fake codex serves several models: `by_arg` in its scenario picks the behaviour from the
model name in argv, so `codex:m-slow` and `codex:m-ok` are different processes that act
differently.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import jsonschema
import pytest

from multi_model import dispatch
from multi_model.config import Settings
from multi_model.errors import ClaudeModelRefused, UnknownProvider
from multi_model.models import Response
from tests.conftest import FakeCLIs, fixture_path
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")

PROMPT = "Review this ✓\n  keep the trailing whitespace  \n"


def answer(text: str) -> str:
    """A successful `codex exec --json` run that answers `text`."""
    events = [
        {"type": "thread.started", "thread_id": "t-1"},
        {"type": "turn.started"},
        {"type": "item.completed", "item": {"id": "i1", "type": "agent_message", "text": text}},
        {"type": "turn.completed", "usage": {"input_tokens": 5, "output_tokens": 2}},
    ]
    return "".join(json.dumps(e) + "\n" for e in events)


def failed(message: str) -> str:
    events = [
        {"type": "thread.started", "thread_id": "t-2"},
        {"type": "error", "message": message},
        {"type": "turn.failed", "error": {"message": message}},
    ]
    return "".join(json.dumps(e) + "\n" for e in events)


RATE_LIMIT = (
    "Rate limit reached for gpt-5 in organization org-mock on tokens per min (TPM): "
    "Limit 30000, Used 30000, Requested 11. Please try again in 6.6s."
)

# model name -> (scenario, expected status)
FAILURES: dict[str, tuple[dict[str, object], str]] = {
    "m-crash": ({"mode": "crash", "stdout": '{"type": "turn.started"}\n'}, "crashed"),
    "m-hang": ({"mode": "hang"}, "timeout"),
    "m-garbage": ({"stdout": "\x1b[31m\x1b[1mSegfault?\x1b[0m ▒▒ garbage\n"}, "bad_output"),
    "m-401": (
        {"stdout_file": str(fixture_path("codex", "401-with-retries.exec-json.jsonl")), "exit": 1},
        "auth_required",
    ),
    "m-429": ({"stdout": failed(RATE_LIMIT), "exit": 1}, "rate_limited"),
}


def fake_codex(fake_clis: FakeCLIs, **by_model: dict[str, object]) -> FakeCLIs:
    """A fake codex that answers `ok <model>` by default and behaves as told per model."""
    overrides = {model: {"stdout": answer(f"ok {model}"), **s} for model, s in by_model.items()}
    return fake_clis.set("codex", stdout=answer("ok default"), by_arg=overrides)


def run(fake_clis: FakeCLIs, models: list[str], **kw: object) -> list[Response]:
    kw.setdefault("env", fake_clis.env(OPENAI_API_KEY="sk-mock"))
    kw.setdefault("clock", FakeClock())  # backoff costs no real time
    return dispatch(models, PROMPT, settings=kw.pop("settings", Settings()), **kw)  # type: ignore[arg-type]


def exec_calls(fake_clis: FakeCLIs) -> list[dict]:
    return [c for c in fake_clis.calls("codex") if c["argv"][:1] == ["exec"]]


def call_for(fake_clis: FakeCLIs, model: str) -> dict:
    return next(c for c in exec_calls(fake_clis) if f"--model={model}" in c["argv"])


def live_members(pgid: int) -> list[int]:
    """Processes of group `pgid` still running (zombies waiting for init do not count)."""
    members = []
    for entry in os.scandir("/proc"):
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and fields[0] not in (b"Z", b"X") and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


# --- order, parallelism, callback ------------------------------------------------------------


def test_results_in_input_order_when_the_first_is_slowest(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-slow": {"sleep": 1.0}, "m-b": {}, "m-c": {}})
    seen: list[int] = []
    specs = ["codex:m-slow", "codex:m-b", "codex:m-c"]
    results = run(fake_clis, specs, on_result=lambda i, r: seen.append(i))
    assert [r.model for r in results] == specs
    assert [r.text for r in results] == ["ok m-slow", "ok m-b", "ok m-c"]
    assert sorted(seen) == [0, 1, 2]
    assert seen[-1] == 0  # reported when done, returned in input order
    assert all(r.status == "ok" and r.provider == "codex" for r in results)
    assert {c["stdin"] for c in exec_calls(fake_clis)} == {PROMPT}


def test_calls_run_in_parallel(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{m: {"sleep": 1.0} for m in ("m-1", "m-2", "m-3")})
    start = time.monotonic()
    results = run(fake_clis, ["codex:m-1", "codex:m-2", "codex:m-3"])
    wall = time.monotonic() - start
    assert [r.status for r in results] == ["ok", "ok", "ok"]
    assert all(r.duration_s >= 1.0 for r in results)
    assert wall < 2.5, f"3 x 1.0 s took {wall:.2f} s: calls are not parallel"


def test_on_result_gets_each_index_once_with_the_returned_response(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-a": {}, "m-b": {"sleep": 0.3}, "m-c": {"exit": 0, "stdout": ""}})
    calls: list[tuple[int, Response]] = []
    results = run(
        fake_clis,
        ["codex:m-a", "codex:m-b", "codex:m-c", "codex:m-a"],
        on_result=lambda i, r: calls.append((i, r)),
    )
    assert sorted(i for i, _ in calls) == [0, 1, 2, 3]
    assert all(results[i] == r for i, r in calls)


def test_empty_model_list_returns_nothing(fake_clis: FakeCLIs) -> None:
    assert run(fake_clis, []) == []


# --- failures stay with their model ----------------------------------------------------------


@pytest.mark.parametrize("model", list(FAILURES))
def test_one_failure_does_not_affect_the_others(fake_clis: FakeCLIs, model: str) -> None:
    scenario, status = FAILURES[model]
    fake_codex(fake_clis, **{"m-ok1": {}, model: scenario, "m-ok2": {}})
    results = run(fake_clis, ["codex:m-ok1", f"codex:{model}", "codex:m-ok2"], timeout=1.5)
    assert [(r.status, r.text) for r in (results[0], results[2])] == [
        ("ok", "ok m-ok1"),
        ("ok", "ok m-ok2"),
    ]
    assert results[1].status == status, results[1]
    assert results[1].error


def test_all_failures_at_once_each_keep_their_status(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-ok": {}, **{m: s for m, (s, _) in FAILURES.items()}})
    specs = ["codex:m-ok", *(f"codex:{m}" for m in FAILURES)]
    start = time.monotonic()
    results = run(fake_clis, specs, timeout=1.5)
    assert time.monotonic() - start < 1.5 + 2.0 + 2.0  # one time-out, not five in a row
    assert [r.status for r in results] == ["ok", *(status for _, status in FAILURES.values())]
    assert results[0].text == "ok m-ok"


def test_rate_limit_reports_the_reset(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-429": FAILURES["m-429"][0]})
    [result] = run(fake_clis, ["codex:m-429"])
    assert result.status == "rate_limited"
    assert result.retry_after_s == pytest.approx(6.6)
    assert result.exit_code == 1 and result.session_id == "t-2"


def test_timeout_stops_the_process_group(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-hang": {"mode": "hang"}})
    start = time.monotonic()
    [result] = run(fake_clis, ["codex:m-hang"], timeout=1.0)
    assert time.monotonic() - start < 1.0 + 2.0 + 2.0
    assert result.status == "timeout"
    assert "1s" in (result.error or "")
    pgid = call_for(fake_clis, "m-hang")["pgid"]
    assert live_members(pgid) == []


def test_helper_holding_stdout_does_not_hold_the_answer(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-helper": {"mode": "child_holds_stdout"}})
    start = time.monotonic()
    [result] = run(fake_clis, ["codex:m-helper"], timeout=30)
    assert (result.status, result.text) == ("ok", "ok m-helper")
    assert time.monotonic() - start < 5  # not the helper's 60 s
    assert live_members(call_for(fake_clis, "m-helper")["pgid"]) == []


# --- statuses from what the process printed --------------------------------------------------


def test_exit_0_with_no_output_is_empty_output(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-empty": {"stdout": ""}})
    [result] = run(fake_clis, ["codex:m-empty"])
    assert (result.status, result.exit_code, result.text) == ("empty_output", 0, "")


def test_whitespace_only_answer_is_empty_output(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-blank": {"stdout": answer("  \n\t\n")}})
    [result] = run(fake_clis, ["codex:m-blank"])
    assert result.status == "empty_output"


def test_login_nag_with_exit_0_is_auth_required(fake_clis: FakeCLIs) -> None:
    nag = "You are not logged in. Please run `codex login` to sign in.\n"
    fake_codex(fake_clis, **{"m-nag": {"stdout": nag}})
    [result] = run(fake_clis, ["codex:m-nag"])
    assert result.status == "auth_required"
    assert "login" in (result.error or "").lower()


def test_login_nag_with_exit_0_is_never_ok(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-nag": {"stdout": "Please log in first: codex login\n"}})
    [result] = run(fake_clis, ["codex:m-nag"])
    assert result.status in ("empty_output", "bad_output", "auth_required")
    assert result.text == ""


def test_garbage_and_ansi_is_bad_output(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-garbage": FAILURES["m-garbage"][0]})
    [result] = run(fake_clis, ["codex:m-garbage"])
    assert result.status == "bad_output" and result.text == ""


def test_20_mib_flood_is_oversize_and_truncated(fake_clis: FakeCLIs) -> None:
    # A 1 MiB cap keeps this fast: at the default 10 MiB cap the adapter's error
    # classification of the cut output costs ~13 s of regex time (reported to the lead);
    # the runner tests cover the default cap itself.
    fake_codex(fake_clis, **{"m-flood": {"mode": "flood", "flood_mb": 20, "hang_after": True}})
    start = time.monotonic()
    [result] = run(fake_clis, ["codex:m-flood"], timeout=60, settings=Settings(output_cap_mb=1))
    assert time.monotonic() - start < 30  # stopped at the cap, not at the time-out
    assert result.status == "oversize" and result.truncated
    assert "cap" in (result.error or "")
    assert live_members(call_for(fake_clis, "m-flood")["pgid"]) == []


def test_invalid_utf8_is_replaced_not_fatal(fake_clis: FakeCLIs) -> None:
    line = b'{"type": "item.completed", "item": {"type": "agent_message", "text": "caf\xe9 ok"}}\n'
    fake_codex(
        fake_clis, **{"m-bytes": {"mode": "bad_utf8", "stdout": "", "stdout_hex": line.hex()}}
    )
    [result] = run(fake_clis, ["codex:m-bytes"])
    assert (result.status, result.text) == ("ok", "caf\ufffd ok")


def test_not_installed_says_how_to_install(fake_clis: FakeCLIs) -> None:
    [result] = run(fake_clis, ["codex:gpt-5.4"])  # no codex on the fake PATH
    assert result.status == "not_installed"
    assert "npm install -g @openai/codex" in (result.error or "")
    assert result.cli_used is None and fake_clis.calls() == []


def test_ok_response_carries_version_usage_and_session(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-ok": {}})
    [result] = run(fake_clis, ["codex:m-ok"])
    assert (result.status, result.text, result.session_id) == ("ok", "ok m-ok", "t-1")
    assert result.cli_version == "9.9.9-fake"
    assert result.cli_used == str(fake_clis.bin / "codex")
    assert result.usage and (result.usage.input_tokens, result.usage.output_tokens) == (5, 2)


# --- refused before anything runs ------------------------------------------------------------


@pytest.mark.parametrize(
    "spec", ["claude-sonnet-4-5", "opus", "claude:sonnet", "anthropic/claude-opus-4-1"]
)
def test_claude_model_is_refused_before_any_process(fake_clis: FakeCLIs, spec: str) -> None:
    fake_codex(fake_clis)
    with pytest.raises(ClaudeModelRefused):
        run(fake_clis, ["codex:m-ok", spec])
    assert fake_clis.calls() == []


def test_unknown_provider_raises_before_any_process(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis)
    with pytest.raises(UnknownProvider):
        run(fake_clis, ["codex:m-ok", "nosuch:model"])
    assert fake_clis.calls() == []


# --- environment ------------------------------------------------------------------------------


def test_codex_sees_only_its_own_vendor_keys(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis)
    env = fake_clis.env(
        OPENAI_API_KEY="sk-openai",
        ANTHROPIC_API_KEY="sk-ant",
        GEMINI_API_KEY="g-key",
        CLAUDECODE="1",
        MM_UNRELATED_SECRET="s",
    )
    [result] = run(fake_clis, ["codex:m-ok"], env=env)
    assert result.status == "ok"
    calls = fake_clis.calls("codex")
    assert {tuple(c["argv"][:1]) for c in calls} >= {("exec",)}
    for call in calls:  # the exec call and the --version probe alike
        assert call["env"]["OPENAI_API_KEY"] == "sk-openai"
        assert call["env"]["HOME"] == str(fake_clis.home)
        leaked = {"ANTHROPIC_API_KEY", "GEMINI_API_KEY", "CLAUDECODE", "MM_UNRELATED_SECRET"}
        assert leaked.isdisjoint(call["env"]), call["argv"]


# --- the JSON boundary ------------------------------------------------------------------------


def test_responses_round_trip_through_json(fake_clis: FakeCLIs) -> None:
    fake_codex(fake_clis, **{"m-ok": {}, **{m: s for m, (s, _) in FAILURES.items()}})
    results = run(fake_clis, ["codex:m-ok", *(f"codex:{m}" for m in FAILURES)], timeout=1.5)
    schema = Response.model_json_schema()
    for result in results:
        data = json.loads(result.model_dump_json())
        jsonschema.validate(data, schema)
        assert Response.model_validate_json(result.model_dump_json()) == result
        assert Response.model_validate(data) == result


def test_partial_answer_then_crash_is_not_ok(fake_clis: FakeCLIs) -> None:
    partial = "\n".join(answer("half an answer").splitlines()[:3]) + "\n"  # no turn.completed
    fake_codex(
        fake_clis,
        **{
            "m-crash": {
                "stdout": partial,
                "exit": 101,
                "stderr": "thread 'main' panicked at core.rs:12\n",
            }
        },
    )
    [result] = run(fake_clis, ["codex:m-crash"])
    assert result.status == "crashed" and result.exit_code == 101
    assert result.text == "half an answer"  # kept, but not passed off as a full answer
    assert "exited 101 after a partial answer" in (result.error or "")
    assert "panicked" in (result.error or "")
