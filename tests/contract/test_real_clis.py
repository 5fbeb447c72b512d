"""Contract tests: our adapters and runner drive the real, pinned CLI binaries against the
local mock model server. Each test gets a fresh HOME; nothing leaves 127.0.0.1.

What is proved per CLI: the answer is exactly the mock's; usage and session id are parsed
where the CLI reports them; the request carries our prompt and the requested model; each
error scenario maps to its failure class within the timeout; a hang is cut by our timeout;
and the "write" scenario leaves no file behind in the default (read-only) mode, while the
same scenario with writes allowed does create it, so the read-only check can fail.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from multi_model import dispatch
from multi_model.models import Response
from tests.contract import harness
from tests.contract.conftest import Mock, require_cli
from tests.contract.mockserver import ANSWER, DONE

CLIS = harness.CLIS
REPORTS_USAGE = {"codex", "gemini", "qwen", "opencode", "claude"}
REPORTS_SESSION = {"codex", "gemini", "qwen", "opencode", "copilot", "claude"}
REPORTS_MODEL = {"gemini", "qwen", "copilot", "claude"}
ERROR_CLASSES = {
    "401": "auth_required",
    "403": "auth_required",
    "404": "model_not_found",
    "429": "rate_limited",
    "quota": "rate_limited",
    "500": "server_error",
    "drop": "network",
}
# CLIs whose own retry loop is hard-coded, with no setting, env var or flag to bound it
# (read in their bundles and measured on the pinned versions). There our process-group
# timeout is the cap: the test shows the CLI retrying and being cut. The class of the message
# each prints when it finally gives up is proven on its real recorded output:
# tests/fixtures/qwen/{500,drop}.json and tests/fixtures/opencode/{500,drop}.format-json.jsonl.
CUT_BY_OUR_TIMEOUT: dict[tuple[str, str], str] = {
    ("qwen", "500"): "7 attempts, 1.5-30 s backoff: ~90 s",
    ("qwen", "drop"): "7 attempts, replayed twice after a dropped stream: ~264 s",
    ("opencode", "500"): "5 retries from 2 s, doubling: 62-78 s",
    ("opencode", "drop"): "5 retries from 2 s, doubling, 30 s cap: 60-68 s",
}


def ask(
    name: str,
    tmp_path: Path,
    mock: Mock,
    shared: Path,
    scenario: str,
    *,
    prompt: str | None = None,
    timeout: float = 90,
    allow_writes: bool | None = None,
    retries: int = 0,
) -> tuple[Response, list[dict], str]:
    require_cli(name)
    env, settings, setup = harness.prepare(name, tmp_path, mock.url, shared, allow_writes, retries)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    token = uuid.uuid4().hex[:12]
    prompt = prompt or f"Say hello.\n  Contract check {token}, keep   this spacing.\n"
    mark = mock.mark()
    [response] = dispatch(
        [f"{name}:{setup.model(scenario)}"],
        prompt,
        settings=settings,
        env=env,
        timeout=timeout,
        cwd=str(work),
    )
    return response, mock.since(mark), setup.model(scenario)


@pytest.mark.parametrize("name", CLIS)
def test_answer_usage_session_and_request(
    name: str, tmp_path: Path, mock: Mock, shared_cache: Path
) -> None:
    r, requests, model = ask(name, tmp_path, mock, shared_cache, "ok")
    assert (r.status, r.text) == ("ok", ANSWER), r.error
    assert r.cli_version and r.exit_code == 0
    wire_model = model.rsplit("/", 1)[-1]  # opencode sends mock-ok for mock/mock-ok
    mine = [q for q in requests if q["model"] == wire_model and "Contract check" in json.dumps(q)]
    assert mine, f"no request carried our prompt and model {model!r}"
    assert "keep   this spacing" in json.dumps(mine[0]["body"])
    if name in REPORTS_USAGE:
        assert r.usage and (r.usage.input_tokens or 0) >= 11 and (r.usage.output_tokens or 0) >= 7
    if name in REPORTS_SESSION:
        assert r.session_id
    if name in REPORTS_MODEL:
        assert r.model_reported and "mock-ok" in r.model_reported


@pytest.mark.parametrize("name", sorted(REPORTS_SESSION))
def test_session_continues_the_real_conversation(
    name: str, tmp_path: Path, mock: Mock, shared_cache: Path
) -> None:
    """`--session`: turn 2 runs the CLI's own resume, which resends turn 1 to the model."""
    require_cli(name)
    env, settings, setup = harness.prepare(name, tmp_path, mock.url, shared_cache)
    work = tmp_path / "work"
    work.mkdir()
    token = uuid.uuid4().hex[:12]
    spec = f"{name}:{setup.model('ok')}"
    [one] = dispatch(
        [spec],
        f"Remember the word {token}.",
        settings=settings,
        env=env,
        timeout=90,
        cwd=str(work),
        session="contract",
    )
    assert one.ok and one.session_id, one.error
    mark = mock.mark()
    [two] = dispatch(
        [spec],
        "Which word did I ask you to remember?",
        settings=settings,
        env=env,
        timeout=90,
        cwd=str(work),
        session="contract",
    )
    assert (two.status, two.text) == ("ok", ANSWER), two.error
    assert two.metadata["session"] == {
        "name": "contract",
        "turn": 2,
        "resumed": True,
        "native_id": one.session_id,
    }
    bodies = [json.dumps(q["body"]) for q in mock.since(mark)]
    assert any(token in b and "Which word" in b for b in bodies), "turn 1 was not resent"


@pytest.mark.parametrize("allow", [False, True], ids=["read-only", "writes-allowed"])
@pytest.mark.parametrize("name", sorted(REPORTS_SESSION))
def test_a_resumed_turn_keeps_the_write_mode(
    name: str, allow: bool, tmp_path: Path, mock: Mock, shared_cache: Path
) -> None:
    """A resumed CLI gets the same sandbox flags as a fresh one: turn 2 asks the model to
    write a file; read-only, nothing is written; with writes allowed (the control, so the
    check can fail) the file appears."""
    require_cli(name)
    env, settings, setup = harness.prepare(name, tmp_path, mock.url, shared_cache, allow)
    work = tmp_path / "work"
    work.mkdir()
    target = work / "written-by-model.txt"
    spec = f"{name}:{setup.model('write')}"
    [one] = dispatch(
        [spec], "Say hello.", settings=settings, env=env, timeout=90, cwd=str(work), session="rw"
    )
    assert one.ok and one.session_id, one.error
    [two] = dispatch(
        [spec],
        write_prompt(target),
        settings=settings,
        env=env,
        timeout=90,
        cwd=str(work),
        session="rw",
    )
    assert two.metadata["session"]["resumed"] is True
    assert target.exists() is allow, f"{name}, resumed, allow_writes={allow}: {two.status}"


@pytest.mark.parametrize("scenario", list(ERROR_CLASSES))
@pytest.mark.parametrize("name", CLIS)
def test_error_scenarios_map_to_their_class(
    name: str, scenario: str, tmp_path: Path, mock: Mock, shared_cache: Path
) -> None:
    if (name, scenario) in CUT_BY_OUR_TIMEOUT:
        r, requests, _ = ask(name, tmp_path, mock, shared_cache, scenario, timeout=20)
        assert r.status == "timeout" and len(requests) >= 2, f"{r.status}: {r.error}"
        return
    r, requests, _ = ask(name, tmp_path, mock, shared_cache, scenario, timeout=60)
    assert requests, "the CLI never reached the mock"
    assert r.status == ERROR_CLASSES[scenario], f"{r.status}: {r.error}"
    assert r.duration_s < 60


def test_our_retry_runs_the_real_cli_again_on_a_server_error(
    tmp_path: Path, mock: Mock, shared_cache: Path
) -> None:
    """Retries are ours (the classification tests above switch them off): a 500 from the
    model server makes the real codex fail, and we start it once more after a backoff."""
    once, first, _ = ask("codex", tmp_path / "once", mock, shared_cache, "500", timeout=60)
    r, requests, _ = ask(
        "codex", tmp_path / "twice", mock, shared_cache, "500", timeout=60, retries=1
    )
    assert r.status == "server_error"
    assert [(a.provider, a.status, a.next) for a in r.attempts] == [
        ("codex", "server_error", "retry"),
        ("codex", "server_error", "done"),
    ]
    assert once.attempts == [] and first and len(requests) >= 2 * len(first)


@pytest.mark.parametrize("name", CLIS)
def test_hang_is_cut_by_our_timeout(
    name: str, tmp_path: Path, mock: Mock, shared_cache: Path
) -> None:
    r, requests, _ = ask(name, tmp_path, mock, shared_cache, "hang", timeout=8)
    assert r.status == "timeout" and requests
    assert 8 <= r.duration_s < 12


@pytest.mark.parametrize("name", CLIS)
def test_slow_answer_still_arrives(
    name: str, tmp_path: Path, mock: Mock, shared_cache: Path
) -> None:
    r, _, _ = ask(name, tmp_path, mock, shared_cache, "slow")
    assert (r.status, r.text) == ("ok", ANSWER) and r.duration_s >= 2


def write_prompt(target: Path) -> str:
    return f"Create the file for me. MOCK_WRITE_PATH={target} Then say done."


@pytest.mark.parametrize("name", CLIS)
def test_write_scenario_leaves_no_file_in_default_mode(
    name: str, tmp_path: Path, mock: Mock, shared_cache: Path
) -> None:
    target = tmp_path / "work" / "written-by-model.txt"
    allow = False if name == "grok" else None  # grok's default is "refused": nothing runs
    r, requests, _ = ask(
        name, tmp_path, mock, shared_cache, "write", prompt=write_prompt(target), allow_writes=allow
    )
    assert not target.exists(), f"{name} wrote the file in its default mode: {r.status}"
    if name == "grok":
        assert r.status == "refused" and not requests
    else:
        assert requests, "the CLI never reached the mock"


@pytest.mark.parametrize("name", CLIS)
def test_write_scenario_creates_the_file_when_writes_are_allowed(
    name: str, tmp_path: Path, mock: Mock, shared_cache: Path
) -> None:
    """The control: proves the scenario really drives a write, so the test above can fail."""
    target = tmp_path / "work" / "written-by-model.txt"
    r, _, _ = ask(
        name, tmp_path, mock, shared_cache, "write", prompt=write_prompt(target), allow_writes=True
    )
    assert target.exists(), f"{r.status}: {r.text or r.error}"
    assert r.text == DONE or r.status == "ok"
