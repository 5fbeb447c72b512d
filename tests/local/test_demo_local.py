"""`--demo local` end to end: `mm council` and `mm ask` as a user runs them (a child process,
a fresh MULTI_MODEL_HOME whose data folder already holds the tests' cached server
environment, so no test downloads it again), the real model answering every stage, and the
server stopped by PID when `mm` ends, Ctrl-C/SIGTERM included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from multi_model import runner
from multi_model.demo import llama
from multi_model.demo.local import SEATS

QUESTION = "Should a team write tests first? Answer in two sentences."


def demo_home(tmp_path: Path, venv: Path) -> Path:
    """A MULTI_MODEL_HOME whose data folder holds the installed server (a link to it)."""
    home = tmp_path / "home"
    data = home / "data"
    data.mkdir(parents=True)
    (data / venv.name).symlink_to(venv)
    assert llama.env_dir(data) == data / venv.name  # the same lock and Python: reused as is
    return home


def mm(home: Path, *argv: str) -> subprocess.Popen[str]:
    env = {"MULTI_MODEL_HOME": str(home), "HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.Popen(
        [sys.executable, "-m", "multi_model", *argv],
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def server_pid(home: Path) -> int:
    return int((home / "data" / "demo-local" / "server.pid").read_text())


def test_council_demo_local_runs_every_stage_on_the_real_model(
    llama_venv: Path, tmp_path: Path
) -> None:
    home = demo_home(tmp_path, llama_venv)
    proc = mm(home, "council", "--demo", "local", "--prompt", QUESTION, "--format", "json")
    out, err = proc.communicate(timeout=900)
    assert proc.returncode in (0, 5), err  # 5: no synthesis, still a completed council
    result = json.loads(out)
    assert result["metadata"]["demo"] == "local"
    answers = result["answers"]
    assert [a["provider"] for a in answers] == list(SEATS)
    assert sum(a["status"] == "ok" for a in answers) >= 2, [a["error"] for a in answers]
    assert all(a["model_reported"] == llama.MODEL for a in answers if a["status"] == "ok")
    for record in result["ballots"]:  # every ballot valid or recorded invalid
        assert record["status"] in ("valid", "invalid"), record
        assert record["status"] == "valid" or record["errors"], record
    assert "first use" not in err  # installed already: nothing downloaded
    assert not runner.pid_alive(server_pid(home))


def test_sigterm_stops_the_server_with_mm(llama_venv: Path, tmp_path: Path) -> None:
    home = demo_home(tmp_path, llama_venv)
    proc = mm(home, "ask", "--demo", "local", "--prompt", "Write a long essay on the sea.")
    log = home / "data" / "demo-local" / "server.log"
    deadline = time.monotonic() + 120
    while "LISTENING" not in (log.read_text() if log.exists() else ""):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
        time.sleep(0.1)
    pid = server_pid(home)
    assert runner.pid_alive(pid)
    time.sleep(1.0)  # the three calls are in flight
    os.kill(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=30)  # not the calls. 300 s timeout: they end with the server
    assert proc.returncode == 130
    assert not runner.pid_alive(pid)
