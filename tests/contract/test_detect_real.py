"""`mm detect --check-auth` against the real pinned binaries, logged out (fresh HOME, no keys):
every CLI is found with its pinned version, and each login probe reads the real output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from multi_model.config import Settings
from multi_model.detect import detect_all
from tests.contract import harness
from tests.contract.conftest import require_cli

# opencode's free built-in provider needs no login, so "no credentials" is not "logged out"
LOGGED_OUT = {
    "codex": "logged_out",
    "claude": "logged_out",
    "gemini": "logged_out",
    "qwen": "logged_out",
    "copilot": "logged_out",
    "grok": "logged_out",
    "opencode": "unknown",
}


def real_env(home: Path, **extra: str) -> dict[str, str]:
    dirs = [str(require_cli(name).parent) for name in harness.CLIS]
    return {
        "PATH": ":".join([*dirs, "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "TMPDIR": str(home),
        "OLLAMA_HOST": "127.0.0.1:9",
        **extra,
    }


def installed_version(name: str) -> str:
    return (harness.binary(name).parents[2] / ".installed").read_text()


def test_detect_finds_every_pinned_cli_logged_out(tmp_path: Path) -> None:
    infos = {
        i.name: i
        for i in detect_all(Settings(probe_timeout=60), real_env(tmp_path), check_auth=True)
    }
    for name, state in LOGGED_OUT.items():
        info = infos[name]
        assert info.installed and info.path == str(harness.binary(name)), name
        assert info.version and info.version in installed_version(name), (name, info.version)
        assert info.auth == state, (name, info.auth, info.auth_detail)
    assert not infos["ollama"].installed


def test_detect_reads_a_real_logged_in_answer(tmp_path: Path) -> None:
    env = real_env(tmp_path, ANTHROPIC_API_KEY="sk-ant-dummy-0123456789")
    [claude] = [
        i
        for i in detect_all(Settings(probe_timeout=60), env, check_auth=True)
        if i.name == "claude"
    ]
    assert claude.auth == "logged_in" and "loggedIn=True" in (claude.auth_detail or "")


def test_mm_detect_json_command(tmp_path: Path) -> None:
    env = {**real_env(tmp_path), "MULTI_MODEL_HOME": str(tmp_path / "mm")}
    out = subprocess.run(
        [sys.executable, "-m", "multi_model", "detect", "--json", "--check-auth"],
        env={**env, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["codex"]["auth"] == "logged_out" and rows["codex"]["auth_detail"] == "Not logged in"
