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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from multi_model import demo
from tests.contract import harness
from tests.contract.conftest import require_cli
from tests.plugin.hostcost import is_subagent

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
        return next(
            e for e in self.events if e.get("type") == "system" and e.get("subtype") == "init"
        )

    @property
    def result(self) -> dict:
        return next(e for e in reversed(self.events) if e.get("type") == "result")

    def tool_calls(self, name: str | None = None) -> list[dict]:
        return [
            b
            for e in self.events
            if e.get("type") == "assistant"
            for b in e["message"]["content"]
            if b.get("type") == "tool_use" and (name is None or b["name"] == name)
        ]

    def subagent_requests(self) -> list[dict]:
        return [r for r in self.requests if is_subagent(r)]


@dataclass
class Claude:
    binary: Path
    home: Path
    bin: Path
    tmp: Path
    version: str = ""

    @property
    def newer(self) -> bool:
        """2.1.198 and later: subagents in the background by default, hook output as system
        messages, validate --json."""
        return tuple(map(int, self.version.split("."))) >= (2, 1, 198)

    def run(
        self,
        prompt: str,
        *args: str,
        env: dict[str, str] | None = None,
        max_turns: int = 40,
        project: Path | None = None,
        setup: Callable[[Path], object] | None = None,
        mock: dict[str, str] | None = None,
        persist: bool = False,
    ) -> Run:
        """One headless run. `project`: the working folder (default: a fresh one per run);
        `setup(project)` fills it before Claude starts; `mock`: the scripted model's
        behaviour (CLAUDEAPI_* variables, see claudeapi.py); `persist`: keep session
        transcripts (subagents' included)."""
        folder = self.tmp / f"run-{time.monotonic_ns()}"
        project, config = project or folder / "project", folder / "config"
        prompt = prompt.replace("{project}", str(project))
        project.mkdir(parents=True, exist_ok=True)
        config.mkdir(parents=True)
        if setup:
            setup(project)
        with MockApi(folder, mock or {}) as api:
            full_env = {
                "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
                "HOME": str(self.home),
                "CLAUDE_CONFIG_DIR": str(config),
                "TERM": "dumb",
                "LANG": "C.UTF-8",
                "ANTHROPIC_BASE_URL": api.url,
                "ANTHROPIC_API_KEY": "dummy",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                "CLAUDE_CODE_MAX_RETRIES": "0",
                **(env or {}),
            }
            done = subprocess.run(
                [
                    str(self.binary),
                    "-p",
                    prompt,
                    "--output-format",
                    "stream-json",
                    "--verbose",
                    "--include-hook-events",
                    "--plugin-dir",
                    str(ROOT),
                    *([] if persist else ["--no-session-persistence"]),
                    "--max-turns",
                    str(max_turns),
                    *args,
                ],
                cwd=project,
                env=full_env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT_S,
                check=False,
            )
            requests = api.requests()
        events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return Run(done.returncode, events, requests, done.stderr, self.home)

    def cli(self, *args: str, config: Path) -> subprocess.CompletedProcess[str]:
        """A `claude` subcommand (plugin validate, marketplace, ...) with its own config dir."""
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "CLAUDE_CONFIG_DIR": str(config),
            "TERM": "dumb",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        }
        return subprocess.run(
            [str(self.binary), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


class MockApi:
    """claudeapi.py as a subprocess on 127.0.0.1: bounded lifetime, stopped by its PID."""

    def __init__(self, folder: Path, behaviour: dict[str, str]) -> None:
        self.port_file, self.log = folder / "api.port", folder / "api.jsonl"
        self.behaviour = behaviour

    def __enter__(self) -> MockApi:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(CLAUDEAPI),
                "--port-file",
                str(self.port_file),
                "--log",
                str(self.log),
                "--lifetime",
                str(RUN_TIMEOUT_S + 60),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **self.behaviour},
        )
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


@dataclass(frozen=True)
class Home:
    """The user's side shared by every release: HOME with the launcher's environment built
    (as on a user's first run) and the fake provider CLIs."""

    home: Path
    bin: Path
    tmp: Path


@pytest.fixture(scope="session")
def plugin_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    root = tmp_path_factory.mktemp("claude-code")
    home, bindir = root / "home", root / "bin"
    home.mkdir()
    demo.install(bindir)  # fake codex, gemini, cursor-agent that speak the real formats
    built = subprocess.run(  # the launcher's environment, as on a user's first run
        [str(ROOT / "scripts" / "mm"), "--version"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
        env={
            "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
        },
    )
    assert built.returncode == 0, built.stderr
    return Home(home, bindir, root)


@pytest.fixture(
    scope="session", params=harness.releases("claude"), ids=lambda pin: harness.PINS[pin]["version"]
)
def claude(request: pytest.FixtureRequest, plugin_home: Home) -> Claude:
    """The real Claude Code, once per pinned release (the oldest supported and the newest)."""
    binary = require_cli(request.param)
    return Claude(
        binary=binary,
        home=plugin_home.home,
        bin=plugin_home.bin,
        tmp=plugin_home.tmp,
        version=harness.PINS[request.param]["version"],
    )
