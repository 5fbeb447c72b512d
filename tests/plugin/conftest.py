"""The real Claude Code (pinned, from scripts/install-clis) run headless against the scripted
Messages API of claudeapi.py, with this checkout as `--plugin-dir`.

One HOME per test session (so the plugin launcher's environment under
~/.local/share/multi-model is built once); one Claude config dir, project dir and mock server
per test. Fake provider CLIs (the demo stand-ins, which write real ballots) come first on PATH.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from multi_model import demo
from tests.contract.conftest import require_cli

ROOT = Path(__file__).resolve().parents[2]
CLAUDEAPI = Path(__file__).with_name("claudeapi.py")
RUN_TIMEOUT_S = 240


@dataclass
class Run:
    """One `claude -p` run: its exit code, stream-json events and the API requests it made."""

    code: int
    events: list[dict]
    requests: list[dict]
    stderr: str
    home: Path
    extra: dict = field(default_factory=dict)

    @property
    def init(self) -> dict:
        return next(e for e in self.events if e.get("type") == "system"
                    and e.get("subtype") == "init")

    @property
    def result(self) -> dict:
        return next(e for e in reversed(self.events) if e.get("type") == "result")

    def tool_calls(self, name: str | None = None) -> list[dict]:
        return [b for e in self.events if e.get("type") == "assistant"
                for b in e["message"]["content"]
                if b.get("type") == "tool_use" and (name is None or b["name"] == name)]

    def subagent_requests(self) -> list[dict]:
        return [r for r in self.requests
                if {k.lower() for k in r["headers"]} & {"x-claude-code-agent-id"}]


@dataclass
class Claude:
    binary: Path
    home: Path
    bin: Path
    tmp: Path

    def run(self, prompt: str, *args: str, env: dict[str, str] | None = None,
            max_turns: int = 40) -> Run:
        folder = self.tmp / f"run-{time.monotonic_ns()}"
        project, config = folder / "project", folder / "config"
        prompt = prompt.replace("{project}", str(project))
        project.mkdir(parents=True)
        config.mkdir()
        with MockApi(folder) as api:
            full_env = {"PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin", "HOME": str(self.home),
                        "CLAUDE_CONFIG_DIR": str(config), "TERM": "dumb", "LANG": "C.UTF-8",
                        "ANTHROPIC_BASE_URL": api.url, "ANTHROPIC_API_KEY": "dummy",
                        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                        "CLAUDE_CODE_MAX_RETRIES": "0", **(env or {})}
            done = subprocess.run(
                [str(self.binary), "-p", prompt, "--output-format", "stream-json", "--verbose",
                 "--include-hook-events", "--plugin-dir", str(ROOT), "--no-session-persistence",
                 "--max-turns", str(max_turns), *args],
                cwd=project, env=full_env, stdin=subprocess.DEVNULL, capture_output=True,
                text=True, timeout=RUN_TIMEOUT_S, check=False)
            requests = api.requests()
        events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return Run(done.returncode, events, requests, done.stderr, self.home)

    def cli(self, *args: str, config: Path) -> subprocess.CompletedProcess[str]:
        """A `claude` subcommand (plugin validate, marketplace, ...) with its own config dir."""
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(self.home),
               "CLAUDE_CONFIG_DIR": str(config), "TERM": "dumb",
               "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
        return subprocess.run([str(self.binary), *args], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120, check=False)


class MockApi:
    """claudeapi.py as a subprocess on 127.0.0.1: bounded lifetime, stopped by its PID."""

    def __init__(self, folder: Path) -> None:
        self.port_file, self.log = folder / "api.port", folder / "api.jsonl"

    def __enter__(self) -> MockApi:
        self.proc = subprocess.Popen(
            [sys.executable, str(CLAUDEAPI), "--port-file", str(self.port_file), "--log",
             str(self.log), "--lifetime", str(RUN_TIMEOUT_S + 60)],
            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the mock Messages API did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port_file.read_text().strip()}"
        return self

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=10)

    def requests(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


@pytest.fixture(scope="session")
def claude(tmp_path_factory: pytest.TempPathFactory) -> Claude:
    binary = require_cli("claude")
    root = tmp_path_factory.mktemp("claude-code")
    home, bindir = root / "home", root / "bin"
    home.mkdir()
    demo.install(bindir)  # fake codex, gemini, cursor-agent that speak the real formats
    built = subprocess.run(  # the launcher's environment, as on a user's first run
        [str(ROOT / "scripts" / "mm"), "--version"], capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=600, check=False,
        env={"PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
             "LANG": "C.UTF-8"})
    assert built.returncode == 0, built.stderr
    return Claude(binary=binary, home=home, bin=bindir, tmp=root)
