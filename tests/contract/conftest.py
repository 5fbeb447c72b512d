"""Fixtures for contract tests: the mock model server (a subprocess on 127.0.0.1 with a
bounded lifetime, stopped by PID) and the pinned real CLIs from scripts/install-clis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.contract import harness

MOCKSERVER = Path(__file__).with_name("mockserver.py")


@dataclass
class Mock:
    url: str
    log: Path

    def mark(self) -> int:
        """A position in the request log; `since` returns what came after it."""
        return len(self._records())

    def since(self, mark: int) -> list[dict]:
        return [r for r in self._records()[mark:] if r["method"] == "POST"]

    def _records(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


@pytest.fixture(scope="session")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mock]:
    folder = tmp_path_factory.mktemp("mock")
    port_file, log = folder / "port", folder / "requests.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(MOCKSERVER),
            "--port-file",
            str(port_file),
            "--log",
            str(log),
            "--lifetime",
            "1800",
        ],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the mock model server did not start")
            time.sleep(0.05)
        yield Mock(url=f"http://127.0.0.1:{port_file.read_text().strip()}", log=log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared between tests of a run (copilot unpacks 235 MB into its XDG cache once)."""
    return tmp_path_factory.mktemp("shared")


def require_cli(name: str) -> Path:
    """The pinned binary; in CI a missing one fails the run, elsewhere it skips with a hint."""
    path = harness.binary(name)
    if path.exists():
        return path
    pin = harness.PINS[name]
    message = (
        f"{pin['package']}@{pin['version']} is not installed "
        f"(expected {path}); run scripts/install-clis"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
