"""Real MCP clients against `mm mcp --demo`: the pinned codex, gemini and qwen, configured by
`mm mcp install`, run a mock model turn that calls our `ask` tool; the call reaches our server
(a job ran) and its answer goes back to the model (the mock's next request carries it). The
pinned Claude Code releases list our tools in their init event, every MCP server connected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from multi_model.jobs import Jobs
from multi_model.mcp_server import tools
from tests.contract import harness
from tests.contract.conftest import require_cli
from tests.contract.mockserver import DONE, MCP_PROMPT

RUNS = {
    "codex": ["exec", "--json", "--skip-git-repo-check", "--sandbox", "read-only"],
    "gemini": ["-p", "", "-o", "json", "--approval-mode", "default"],
    "qwen": ["-o", "json", "--approval-mode", "default"],
}


def client_env(name: str, root: Path, mock, shared: Path) -> dict[str, str]:
    env, _, _ = harness.prepare(name, root, mock.url, shared)
    return {**env, "MULTI_MODEL_HOME": os.environ["MULTI_MODEL_HOME"]}


def install(client: str, env: dict[str, str], cwd: Path, demo: bool = True) -> None:
    # --required: codex exec starts its turn without waiting for a server that is not
    # required, and offers no tool of ours when `mm mcp` takes over a second to start
    argv = [sys.executable, "-m", "multi_model", "mcp", "install", "--client", client]
    argv += ["--trust", *(["--demo"] if demo else [])]
    argv += ["--required"] if client == "codex" else []
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", list(RUNS))
def test_real_client_calls_our_ask_tool(name, mock, shared_cache, tmp_path: Path) -> None:
    binary = require_cli(name)
    env = client_env(name, tmp_path / name, mock, shared_cache)
    env["GEMINI_CLI_TRUST_WORKSPACE"] = "true"
    work = tmp_path / "work"
    work.mkdir()
    install(name, env, work)
    mark = mock.mark()
    start = time.perf_counter()
    done = subprocess.run(
        [str(binary), *RUNS[name], "--model", "mock-mcp", *(["-"] if name == "codex" else [])],
        input="please use the ask tool",
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=180,
    )
    took = time.perf_counter() - start
    print(f"{name}: one turn calling `ask` through mm mcp (demo panel): {took:.1f} s")
    assert f"{DONE} | saw: DEMO" in done.stdout, (done.stdout[-2000:], done.stderr[-2000:])
    jobs = Jobs(os.environ).list()
    assert [j["status"] for j in jobs] == ["done"]
    requests = mock.since(mark)
    back = [r for r in requests if "DEMO stand-in for codex" in json.dumps(r["body"])]
    assert back and MCP_PROMPT in json.dumps(back[0]["body"])  # our answer, in the next turn


@pytest.mark.parametrize("release", harness.releases("claude"))
def test_claude_code_lists_our_tools(release, mock, shared_cache, tmp_path: Path) -> None:
    binary = require_cli(release)
    env = client_env("claude", tmp_path / "c", mock, shared_cache)
    env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "c" / "config")
    env["MCP_CONNECTION_NONBLOCKING"] = "false"  # else -p may start while ours is "pending"
    install("claude", env, tmp_path)
    done = subprocess.run(
        [str(binary), "-p", "hi", "--output-format", "stream-json", "--verbose",
         "--no-session-persistence", "--max-turns", "1", "--model", "mock-ok"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    init = next(e for e in events if e.get("subtype") == "init")
    assert init["mcp_servers"] and all(s["status"] == "connected" for s in init["mcp_servers"])
    assert {f"mcp__mm__{t.name}" for t in tools.TOOLS} <= set(init["tools"])
