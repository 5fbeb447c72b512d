"""Background jobs: `mm ask --background` and `mm jobs`, with real worker processes and fake
CLIs: the id comes back at once, results survive the process, an identical request joins,
cancel stops the process group, and a worker killed with SIGKILL is marked failed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time

import pytest

from multi_model.jobs import Jobs, _alive
from multi_model.store import Store
from tests.conftest import FakeCLIs, run_mm


@pytest.fixture
def fakes(fake_clis: FakeCLIs, monkeypatch: pytest.MonkeyPatch) -> FakeCLIs:
    monkeypatch.setenv("PATH", fake_clis.env()["PATH"])
    monkeypatch.setenv("HOME", str(fake_clis.home))
    return fake_clis


def mm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_mm(capsys, *argv)


def start(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    began = time.monotonic()
    code, out, _ = mm(
        capsys, "ask", "--background", "--models", "codex:gpt-5.4", "--prompt", "hello", *extra
    )
    assert code == 0 and time.monotonic() - began < 5
    return json.loads(out)


def wait_status(job: str, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while (row := Jobs(os.environ).get(job))["status"] != status:
        assert time.monotonic() < deadline, row
        time.sleep(0.1)
    return row


def test_background_returns_at_once_and_the_result_survives(
    fakes: FakeCLIs, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.set("codex", fixture="codex/ok.exec-json.jsonl", sleep=2)
    job = start(capsys)
    assert (job["joined"], job["status"]) == (False, "running")
    code, _, err = mm(capsys, "jobs", "result", job["job"])
    assert code == 7 and "still running" in err
    row = wait_status(job["job"], "done")
    assert row["summary"] == "1 of 1 answered"
    code, out, _ = mm(capsys, "jobs", "result", job["job"])
    [answer] = json.loads(out)
    assert code == 0 and answer["status"] == "ok" and answer["text"]
    [call] = Store.of(os.environ).calls()
    assert (call["run_id"], call["source"]) == (job["job"], "job")
    code, out, _ = mm(capsys, "jobs", "list")
    assert job["job"] in out and "1 of 1 answered" in out


def test_identical_request_joins_unless_fresh(
    fakes: FakeCLIs, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.set("codex", fixture="codex/ok.exec-json.jsonl", sleep=2)
    first = start(capsys)
    again = start(capsys)
    assert again == {**first, "joined": True}
    other = start(capsys, "--fresh")
    assert other["job"] != first["job"] and not other["joined"]
    different = json.loads(
        mm(
            capsys, "ask", "--background", "--models", "codex:gpt-5.4", "--prompt", "something else"
        )[1]
    )
    assert different["job"] not in (first["job"], other["job"])
    for job in (first, other, different):
        wait_status(job["job"], "done")


def test_cancel_stops_the_process_group(
    fakes: FakeCLIs, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.set("codex", mode="hang")
    job = start(capsys)
    deadline = time.monotonic() + 30
    while not [c for c in fakes.calls("codex") if "exec" in c["argv"]]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    cli_pid = next(c for c in fakes.calls("codex") if "exec" in c["argv"])["pid"]
    worker = Jobs(os.environ).get(job["job"])["pid"]
    code, out, _ = mm(capsys, "jobs", "cancel", job["job"])
    assert code == 0 and out.strip() == f"job {job['job']}: cancelled"
    deadline = time.monotonic() + 10
    while _alive(cli_pid) or _alive(worker):
        assert time.monotonic() < deadline, "the CLI or the worker outlived the cancel"
        time.sleep(0.1)
    assert Jobs(os.environ).get(job["job"])["status"] == "cancelled"
    code, _, err = mm(capsys, "jobs", "result", job["job"])
    assert code == 5 and "cancelled" in err


def test_kill_9_leaves_a_consistent_store_and_a_failed_job(
    fakes: FakeCLIs, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.set("codex", mode="hang")
    job = start(capsys)
    worker = Jobs(os.environ).get(job["job"])["pid"]
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _alive(worker):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    row = Jobs(os.environ).get(job["job"])
    assert row["status"] == "failed" and "worker gone" in row["error"]
    conn = sqlite3.connect(Store.of(os.environ).path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for c in fakes.calls("codex"):  # the orphaned CLI of the killed worker
        if "exec" in c["argv"] and _alive(c["pid"]):
            os.killpg(c["pgid"], signal.SIGKILL)


def test_unknown_job_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = mm(capsys, "jobs", "status", "nope")
    assert code == 2 and err.strip() == "mm: no job 'nope' (see `mm jobs list`)"


def test_a_job_of_a_kind_nobody_registered_is_a_clear_error(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    Jobs(os.environ).register("nope", {"x": 1}, "job-1", tmp_path)
    code, out, _ = mm(capsys, "jobs", "list", "--format", "json")
    assert code == 0 and json.loads(out)[0]["status"] == "running"  # listed as it is
    for action in ("status", "result", "cancel"):
        code, _, err = mm(capsys, "jobs", action, "job-1")
        assert code == 2 and "a job of kind 'nope' cannot be handled here" in err, err


def test_a_background_turn_of_a_session(
    fakes: FakeCLIs, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.set("codex", fixture="codex/ok.exec-json.jsonl")
    job = start(capsys, "--session", "bg")
    wait_status(job["job"], "done")
    code, out, _ = mm(
        capsys, "ask", "--models", "codex:gpt-5.4", "--session", "bg", "--prompt", "turn two"
    )
    assert code == 0 and json.loads(out)[0]["metadata"]["session"]["turn"] == 2
    assert fakes.calls("codex")[-1]["argv"][-3] == "resume"
    fakes.install("grok")
    code, _, err = mm(
        capsys, "ask", "--background", "--models", "grok", "--session", "bg", "--prompt", "x"
    )  # refused at once, not in the worker
    assert code == 2 and "grok keeps no sessions" in err and len(Jobs(os.environ).list()) == 1
