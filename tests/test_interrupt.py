"""Interrupting a dispatch stops every child at once: the runner's cancel event, and a real
`mm ask` process hit by SIGINT or SIGTERM while its CLI hangs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from multi_model import runner
from multi_model.models import Invocation
from tests.conftest import FakeCLIs


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for init counts as gone
        return f.read().split(")")[-1].split()[0] == "Z"


def test_cancel_event_stops_the_run_and_its_group() -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    start = time.monotonic()
    out = runner.run(
        Invocation(
            argv=(sys.executable, "-c", "import time; time.sleep(60)"), env={"PATH": os.defpath}
        ),
        60,
        cancel=cancel,
    )
    assert out.cancelled and not out.timed_out
    assert time.monotonic() - start < 5


def wait_for_call(fake_clis: FakeCLIs, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        calls = [c for c in fake_clis.calls("codex") if c["argv"][:1] == ["exec"]]
        if calls:
            return calls[0]
        time.sleep(0.05)
    raise AssertionError("the fake codex was never started")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_mm_ask_interrupted_exits_130_and_leaves_no_process(fake_clis: FakeCLIs, sig: int) -> None:
    fake_clis.set("codex", mode="hang")
    env = {**fake_clis.env(), "MULTI_MODEL_HOME": str(fake_clis.home / "mm")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "multi_model",
            "ask",
            "--models",
            "codex:a",
            "--prompt",
            "hello",
            "--timeout",
            "120",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child = wait_for_call(fake_clis)
    start = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - start < 10, "interrupt waited for the CLI's timeout"
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert gone(child["pid"])
    assert json.dumps(child["argv"])  # the record is the real child's
