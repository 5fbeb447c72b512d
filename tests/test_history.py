"""The state store's history, cost estimates, `mm history`, and `[policy]`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from multi_model import cli, history, store
from multi_model.config import Settings, load_settings
from multi_model.errors import ConfigError, PolicyViolation
from multi_model.fanout import dispatch
from multi_model.models import Response, Usage
from multi_model.prices import estimate
from multi_model.store import CallRecord, Store
from tests.conftest import FakeCLIs, run_mm

ROOT = Path(__file__).resolve().parents[1]


def db() -> Store:
    return Store.of(os.environ)


def row(
    provider: str = "codex",
    status: str = "ok",
    duration: float = 1.0,
    t: float | None = None,
    cost: float | None = 0.01,
    model: str = "gpt-5.4",
    **extra: object,
) -> CallRecord:
    fields = dict(
        t=t or time.time(),
        spec=model,
        provider=provider,
        model_requested=model,
        model_reported=None,
        status=status,
        error=None,
        duration_s=duration,
        input_tokens=100,
        cached_tokens=40,
        output_tokens=10,
        cost_usd=cost,
        cost_source="price table gpt-5*",
        attempt=1,
        run_id=None,
        source=None,
        prompt_hash="h",
    )
    return CallRecord(**{**fields, **extra})


# --- recording --------------------------------------------------------------------------------


def test_dispatch_records_each_call_with_its_context(fake_clis: FakeCLIs) -> None:
    fake_clis.set("codex", fixture="codex/ok.exec-json.jsonl")
    with store.context(run_id="run-1", source="test"):
        [out] = dispatch(
            ["codex:gpt-5.4"], "secret prompt", env=fake_clis.env(), settings=Settings()
        )
    [rec] = db().calls()
    assert (rec["provider"], rec["status"], rec["run_id"], rec["source"]) == (
        "codex",
        "ok",
        "run-1",
        "test",
    )
    assert rec["input_tokens"] == out.usage.input_tokens and rec["cost_usd"] > 0
    assert rec["prompt"] is None and rec["answer"] is None  # texts only when asked
    assert rec["prompt_hash"] == store.prompt_hash("secret prompt")
    keep = Settings.model_validate({"history": {"keep_text": True}})
    dispatch(["codex:gpt-5.4"], "kept prompt", env=fake_clis.env(), settings=keep)
    assert db().calls(limit=1)[0]["prompt"] == "kept prompt"
    assert oct(db().path.stat().st_mode & 0o777) == "0o600"


def test_twenty_processes_writing_at_once_lose_no_row(tmp_path: Path) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "from multi_model.store import Store; from tests.test_history import row;"
        "s = Store.of({'MULTI_MODEL_HOME': sys.argv[3]});"
        "[s.add_calls([row(run_id=sys.argv[4])]) for _ in range(50)]"
    )
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                code,
                str(ROOT / "src"),
                str(ROOT),
                os.environ["MULTI_MODEL_HOME"],
                f"p{n}",
            ]
        )
        for n in range(20)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 20
    rows = db().calls()
    assert len(rows) == 1000
    assert {r["run_id"] for r in rows} == {f"p{n}" for n in range(20)}


def test_kill_9_mid_writes_leaves_a_consistent_store() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "from multi_model.store import Store; from tests.test_history import row;"
        "s = Store.of({'MULTI_MODEL_HOME': sys.argv[3]});"
        "[s.add_calls([row()] * 20) for _ in range(100000)]"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(ROOT / "src"), str(ROOT), os.environ["MULTI_MODEL_HOME"]]
    )
    deadline = time.monotonic() + 60
    while not (db().path.exists() and db().calls(limit=1)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(db().path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0] % 20 == 0  # whole batches


# --- costs ------------------------------------------------------------------------------------


def test_cost_prices_cached_input_as_cached_and_prefers_a_reported_cost() -> None:
    usage = Usage(input_tokens=1_000_000, cached_input_tokens=400_000, output_tokens=100_000)
    r = Response(model="gpt-5.4", provider="codex", status="ok", usage=usage)
    # 600k fresh x 1.25 + 400k cached x 0.125 + 100k out x 10, per million
    assert estimate(r, Settings()) == (0.75 + 0.05 + 1.0, "price table gpt-5*")
    custom = Settings.model_validate({"prices": {"gpt-5.4": {"input": 1, "output": 2}}})
    assert estimate(r, custom) == (1.0 + 0.2, "price table gpt-5.4")  # cached = input price
    reported = r.model_copy(update={"usage": usage.model_copy(update={"cost_usd": 0.42})})
    assert estimate(reported, Settings()) == (0.42, "reported")
    assert estimate(r.model_copy(update={"model": "mystery-9", "metadata": {}}), Settings()) == (
        None,
        None,
    )
    assert estimate(r.model_copy(update={"provider": "ollama"}), Settings()) == (0.0, "local")


# --- mm history --------------------------------------------------------------------------------


def mm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_mm(capsys, "history", *argv)


def test_stats_costs_and_formats(capsys: pytest.CaptureFixture[str]) -> None:
    now = time.time()
    db().add_calls(
        [row(duration=d) for d in (1, 2, 3, 4, 10)]
        + [row(status="timeout", duration=30, cost=None)]
        + [row("gemini", model="gemini-3-pro", duration=5, cost=0.02)]
        + [row("gemini", t=now - 3 * 86400)]
    )  # outside --since 24h
    code, out, _ = mm(capsys, "--stats", "--since", "24h", "--format", "json")
    stats = {s["provider"]: s for s in json.loads(out)}
    assert code == 0 and set(stats) == {"codex", "gemini"}
    c = stats["codex"]
    assert (c["calls"], c["ok"], c["success_rate"], c["p50_s"], c["p95_s"]) == (
        6,
        5,
        round(5 / 6, 3),
        3.0,
        30.0,
    )
    assert (c["input_tokens"], c["cached_tokens"], c["output_tokens"], c["cost_usd"]) == (
        600,
        240,
        60,
        0.05,
    )
    code, out, _ = mm(capsys, "--costs", "--format", "csv")
    lines = out.splitlines()
    assert lines[0] == ",".join(history.COSTS_COLUMNS)
    assert lines[1].startswith("codex,gpt-5.4,6,") and lines[2].startswith("gemini,gemini-3-pro,")
    code, out, _ = mm(capsys, "--provider", "gemini", "--limit", "1")
    assert out.splitlines()[0].split()[:3] == ["time", "provider", "model"]
    assert len(out.splitlines()) == 2 and "gemini-3-pro" in out


def test_bad_since_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = mm(capsys, "--since", "yesterday")
    assert code == 2 and err.count("\n") == 1 and "use a span like 24h" in err


def test_parse_since_and_percentile() -> None:
    assert history.parse_since("1d2h", now=100_000) == 100_000 - 93_600
    assert history.parse_since("2026-11-01") == time.mktime((2026, 11, 1, 0, 0, 0, 0, 0, -1))
    assert history.percentile([1, 2, 3, 4, 10], 0.5) == 3
    assert history.percentile([1, 2, 3, 4, 10], 0.95) == 10
    assert history.percentile([], 0.5) is None


# --- policy -----------------------------------------------------------------------------------


def policy(**rules: object) -> Settings:
    return Settings.model_validate({"policy": rules})


def test_blocked_and_unlisted_providers_fail_fast(fake_clis: FakeCLIs) -> None:
    fake_clis.set("codex", fixture="codex/ok.exec-json.jsonl")
    with pytest.raises(PolicyViolation, match=r"codex:m: policy\.block lists codex"):
        dispatch(["codex:m"], "hi", env=fake_clis.env(), settings=policy(block=["codex"]))
    with pytest.raises(PolicyViolation, match=r"policy\.allow does not list codex"):
        dispatch(["codex:m"], "hi", env=fake_clis.env(), settings=policy(allow=["ollama"]))
    with pytest.raises(PolicyViolation, match=r"policy\.hook_providers does not list codex"):
        dispatch(
            ["codex:m"],
            "hi",
            env=fake_clis.env(),
            for_hooks=True,
            settings=policy(hook_providers=["gemini"]),
        )
    with pytest.raises(PolicyViolation, match=r"over policy\.max_timeout"):
        dispatch(
            ["codex:m"], "hi", env=fake_clis.env(), timeout=900, settings=policy(max_timeout=600)
        )
    assert fake_clis.calls("codex") == [] or all(
        "exec" not in c["argv"] for c in fake_clis.calls("codex")
    )


def test_call_caps_count_the_recorded_calls(
    fake_clis: FakeCLIs, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake_clis.set("codex", fixture="codex/ok.exec-json.jsonl")
    capped = policy(max_calls_per_hour={"codex": 2})
    db().add_calls([row(t=time.time() - 7200)] * 5)  # older than an hour: not counted
    for _ in range(2):
        assert dispatch(["codex:m"], "hi", env=fake_clis.env(), settings=capped)[0].ok
    with pytest.raises(PolicyViolation, match=r"policy\.max_calls_per_hour is 2 and 2 call"):
        dispatch(["codex:m"], "hi", env=fake_clis.env(), settings=capped)
    config = Path(os.environ["MULTI_MODEL_HOME"]) / "config.toml"
    config.write_text('[policy]\nblock = ["codex"]\n')
    code = cli.main(["ask", "--models", "codex:m", "--prompt", "hi"])
    _, err = capsys.readouterr()
    assert code == 8 and err.strip() == "mm: codex:m: policy.block lists codex"


def test_policy_is_user_file_only(tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "multi-model.toml").write_text('[policy]\nallow = ["evil"]\n')
    with pytest.raises(ConfigError, match=r"policy\.allow may only be set in the user config"):
        load_settings(tmp_path, {"MULTI_MODEL_HOME": str(tmp_path / "h")})
