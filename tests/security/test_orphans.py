"""Orphan hunting: no process started for a call survives it — after an answer, a time-out, a
cancel, or the SIGKILL of the worker that started it — even one that left the CLI's process
group with setsid(); a restarted council worker never asks a seat whose first call still
runs; and a CLI ignoring SIGTERM is reported a bounded grace after its time-out.

Each fake CLI spawns a child and a setsid grandchild carrying the test's own marker in argv;
survivors are found by scanning /proc for it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from multi_model import dispatch, proctree, runner
from multi_model.config import Settings
from multi_model.jobs import Jobs
from multi_model.models import Invocation
from multi_model.providers import CLI_NAMES
from tests.conftest import FakeCLIs, run_mm
from tests.fakes.fakecli import BEAT_S
from tests.providers.test_contract import everyone

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
OK = "codex/ok.exec-json.jsonl"
REPORT_GRACE_S = 1.0  # the most a time-out may be reported late (it was 2-3 s)


def survivors(marker: str) -> list[int]:
    """Live (not zombie) processes with `marker` in their argv."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes()
            state = Path(entry.path, "stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker.encode() in cmdline.split(b"\0") and state not in (b"Z", b"X"):
            found.append(int(entry.name))
    return found


def assert_none_survive(marker: str, settle: float = 3.0) -> None:
    """None left (the short settle is for SIGKILLed processes still on their way out: a
    process left running for good sleeps an hour)."""
    deadline = time.monotonic() + settle
    while survivors(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert survivors(marker) == []


@pytest.fixture
def marker() -> Iterator[str]:
    mark = f"orphan-{uuid.uuid4().hex}"
    yield mark
    for pid in survivors(mark):  # what the code under test failed to stop
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def fakes(fake_clis: FakeCLIs, monkeypatch: pytest.MonkeyPatch) -> FakeCLIs:
    monkeypatch.setenv("PATH", fake_clis.env()["PATH"])
    monkeypatch.setenv("HOME", str(fake_clis.home))
    return fake_clis


def tree_up(fakes: FakeCLIs, count: int = 1, timeout: float = 60) -> None:
    """Wait until `count` fake calls have their setsid grandchild running."""
    deadline = time.monotonic() + timeout
    while len(list(fakes.bin.glob("tree-*.ready"))) < count:
        assert time.monotonic() < deadline, "the fake CLI's process tree never came up"
        time.sleep(0.05)


def fake_call(fakes: FakeCLIs, name: str) -> Invocation:
    return Invocation(argv=(name,), env=fakes.env(), stdin="q")


# --- a single call: answer, time-out, cancel --------------------------------------------------


@pytest.mark.parametrize("name", CLI_NAMES)
def test_a_cli_that_answers_leaves_no_setsid_grandchild(
    fake_clis: FakeCLIs, marker: str, name: str
) -> None:
    specs, settings = everyone()
    fake_clis.set(name, tree=marker, stdout="an answer\n")
    [spec] = [s for s in specs if s.startswith(f"{name}:")]
    [response] = dispatch([spec], "q", settings=settings, env=fake_clis.env(), timeout=60)
    assert response.exit_code == 0 and response.status != "timeout"
    assert_none_survive(marker)


def test_a_timed_out_call_leaves_nothing(fake_clis: FakeCLIs, marker: str) -> None:
    fake_clis.set("codex", tree=marker, mode="hang")
    [response] = dispatch(
        ["codex:gpt-5.4"], "q", settings=Settings(), env=fake_clis.env(), timeout=1.5
    )
    assert response.status == "timeout"
    assert_none_survive(marker)


def test_a_cli_ignoring_sigterm_is_stopped_a_bounded_grace_after_its_timeout(
    fake_clis: FakeCLIs, tmp_path: Path
) -> None:
    """Counted, not timed: the fake appends a beat every BEAT_S while it ignores SIGTERM, and
    a busy machine can only make fewer beats, never more."""
    beats = tmp_path / "beats"
    fake_clis.set("codex", mode="ignore_term", term_beats=str(beats))
    out = runner.run(fake_call(fake_clis, "codex"), 0.5)
    assert out.timed_out and out.exit_code == -signal.SIGKILL
    left_running = len(beats.read_text().splitlines()) if beats.exists() else 0
    assert left_running <= REPORT_GRACE_S / BEAT_S


def test_a_worker_that_lives_but_overstays_has_its_call_stopped_by_the_watchdog(
    marker: str,
) -> None:
    """The worker holds the watchdog's pipe open (it lives: stopped, say) and never stops
    its call: the watchdog does, once the call's limit passes."""
    call = "c" + marker
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(3600)", marker],
        env={**os.environ, proctree.CALL_VAR: call},
        start_new_session=True,
    )
    read, write = os.pipe()
    guard = subprocess.Popen(
        [sys.executable, "-I", "-S", runner._GUARD, call, "0.2"], stdin=read, start_new_session=True
    )
    os.close(read)
    try:
        assert_none_survive(marker)
    finally:
        os.close(write)
        guard.wait()
        sleeper.kill()
        sleeper.wait()


# --- background jobs: `mm ask --background` --------------------------------------------------


def start_ask(capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = run_mm(
        capsys,
        "ask",
        "--background",
        "--models",
        "codex:gpt-5.4",
        "--prompt",
        "q",
        "--timeout",
        "600",
    )
    assert code == 0
    return str(json.loads(out)["job"])


def test_mm_jobs_cancel_leaves_nothing(
    fakes: FakeCLIs, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.set("codex", tree=marker, mode="hang")
    job = start_ask(capsys)
    tree_up(fakes)
    code, _, _ = run_mm(capsys, "jobs", "cancel", job)
    assert code == 0
    assert_none_survive(marker)


def test_a_sigkilled_ask_worker_leaves_nothing_once_its_job_is_read(
    fakes: FakeCLIs, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.set("codex", tree=marker, mode="hang")
    job = start_ask(capsys)
    tree_up(fakes)
    os.killpg(Jobs(os.environ).get(job)["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while Jobs(os.environ).get(job)["status"] == "running":  # the reader sees it gone
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _, out, _ = run_mm(capsys, "jobs", "status", job, "--format", "json")
    assert json.loads(out)["status"] == "failed"
    assert_none_survive(marker)


def test_a_sigkilled_ask_worker_leaves_nothing_even_if_its_job_is_never_read(
    fakes: FakeCLIs, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nobody reads the job: the call's own watchdog sees its worker die and stops the CLI
    (its time-out, 600 s, is far off)."""
    fakes.set("codex", tree=marker, mode="hang")
    job = start_ask(capsys)
    tree_up(fakes)
    worker = Jobs(os.environ).get(job)["pid"]  # read while the worker lives: nothing to sweep
    os.killpg(worker, signal.SIGKILL)
    assert_none_survive(marker)


# --- council stage workers ---------------------------------------------------------------------


def council(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code, out, err = run_mm(capsys, "council", *argv, "--format", "json")
    assert "Traceback" not in err
    return code, json.loads(out) if out.strip() else {}


def start_council(fakes: FakeCLIs, capsys: pytest.CaptureFixture[str], marker: str) -> dict:
    """codex answers at once; gemini hangs with its process tree up."""
    fakes.set("codex", fixture=OK, tree=marker)
    fakes.set("gemini", fixture="gemini/ok.json", tree=marker, mode="hang")
    code, step = council(capsys, "start", "--panel", "codex,gemini", "--prompt", "q")
    assert code == 0
    tree_up(fakes, count=2)
    return step


def test_council_cancel_leaves_nothing(
    fakes: FakeCLIs,
    marker: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    step = start_council(fakes, capsys, marker)
    code, _, _ = run_mm(capsys, "jobs", "cancel", step["job"])
    assert code == 0
    assert_none_survive(marker)


def test_a_sigkilled_council_worker_leaves_nothing_even_if_its_run_is_never_read(
    fakes: FakeCLIs,
    marker: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    step = start_council(fakes, capsys, marker)
    worker = int((Path(step["run_dir"]) / "workers" / "answer.pid").read_text())
    os.killpg(worker, signal.SIGKILL)
    assert_none_survive(marker)


def test_a_restarted_council_worker_never_asks_a_seat_still_running(
    fakes: FakeCLIs,
    marker: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    step = start_council(fakes, capsys, marker)
    run_dir = Path(step["run_dir"])
    deadline = time.monotonic() + 30
    while not (run_dir / "stage1" / "codex.json").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(int((run_dir / "workers" / "answer.pid").read_text()), signal.SIGKILL)
    fakes.set("gemini", fixture="gemini/ok.json", tree=marker)  # answers, this time
    code, step = council(capsys, "rank", str(run_dir), "--wait", "60")
    assert code == 0 and step["stage"] == "review"
    asked = [c for c in fakes.calls() if c["stdin"] == "q"]
    assert sorted(c["name"] for c in asked) == ["codex", "gemini", "gemini"]
    assert [c["running"] for c in asked] == [[], [], []]  # never two calls of a seat at once
    assert_none_survive(marker)
