"""`mm mcp install`: each client's file written in place, idempotently, other entries kept;
the `[mcp.tools]` section only from the user file; `mm mcp` without the extra."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from multi_model.commands import mcp as mcp_command
from multi_model.config import load_settings
from multi_model.errors import ConfigError
from tests.conftest import run_mm

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the 3.10 backport
    import tomli as tomllib


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "h"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CODEX_HOME", str(home / ".codex"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / "cc"))
    monkeypatch.chdir(tmp_path)
    return home


def test_codex_toml_keeps_comments_and_other_servers_and_is_idempotent(home, capsys) -> None:
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text('# mine\nmodel = "o3"  # keep\n\n[mcp_servers.other]\ncommand = "x"\n')
    assert run_mm(capsys, "mcp", "install", "--client", "codex")[0] == 0
    first = config.read_text()
    code, out, _ = run_mm(capsys, "mcp", "install", "--client", "codex")
    assert code == 0 and "unchanged" in out and config.read_text() == first
    assert first.startswith('# mine\nmodel = "o3"  # keep\n') and "[mcp_servers.other]" in first
    assert '[mcp_servers.mm]\ncommand = "' in first and '"-m", "multi_model", "mcp"' in first


@pytest.mark.parametrize(
    ("client", "scope", "path"),
    [
        ("claude", "user", "h/cc/.claude.json"),
        ("claude", "project", ".mcp.json"),
        ("gemini", "user", "h/.gemini/settings.json"),
        ("qwen", "project", ".qwen/settings.json"),
    ],
)
def test_json_clients_keep_other_entries(home, capsys, client, scope, path) -> None:
    target = home.parent / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"theme": "dark", "mcpServers": {"other": {"command": "x"}}}))
    argv = ["mcp", "install", "--client", client, "--scope", scope, "--trust"]
    code, out, _ = run_mm(capsys, *argv)
    assert code == 0 and "added" in out, out
    data = json.loads(target.read_text())
    assert data["theme"] == "dark" and data["mcpServers"]["other"] == {"command": "x"}
    entry = data["mcpServers"]["mm"]
    assert entry["args"][-1] == "mcp" and entry["env"]["MULTI_MODEL_HOME"]
    assert entry.get("trust") is (True if client != "claude" else None)
    assert "unchanged" in run_mm(capsys, *argv)[1]


def test_print_writes_nothing(home, capsys) -> None:
    code, out, _ = run_mm(capsys, "mcp", "install", "--client", "gemini", "--print")
    assert code == 0 and json.loads(out)["mcpServers"]["mm"]["args"][-1] == "mcp"
    assert not (home / ".gemini").exists()


def test_broken_client_file_is_a_one_line_error(home, capsys) -> None:
    (home / ".gemini").mkdir()
    (home / ".gemini" / "settings.json").write_text("{not json")
    code, _, err = run_mm(capsys, "mcp", "install", "--client", "gemini")
    assert code == 2 and err.startswith("mm: ") and err.count("\n") == 1


def test_named_tools_only_from_the_user_file(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "p" / ".claude"
    project.mkdir(parents=True)
    (project / "multi-model.toml").write_text(
        '[mcp.tools.evil]\nmodel = "codex"\ndescription = "x"\n'
    )
    with pytest.raises(ConfigError, match=r"mcp\.tools\.evil\.model may only be set in the user"):
        load_settings(tmp_path / "p", dict(os.environ))


def test_mm_mcp_without_the_extra_is_one_line_and_exit_9(capsys, monkeypatch) -> None:
    monkeypatch.setattr(mcp_command.importlib.util, "find_spec", lambda name: None)
    code, out, err = run_mm(capsys, "mcp")
    assert code == 9 and out == ""
    assert (
        err == "mm: `mm mcp` needs the mcp extra (mcp, tomlkit missing): "
        "pip install 'multi-model[mcp]'\n"
    )


def test_codex_entry_raises_the_startup_and_tool_timeouts(home, capsys) -> None:
    # codex's own defaults (30 s to start, 60 s per tool call) would cut a first run that
    # installs the extra, and any real ask
    code, out, _ = run_mm(capsys, "mcp", "install", "--client", "codex", "--format", "json")
    assert code == 0 and json.loads(out)["outcome"] == "added"
    server = tomllib.loads((home / ".codex" / "config.toml").read_text())["mcp_servers"]["mm"]
    assert (server["startup_timeout_sec"], server["tool_timeout_sec"]) == (120, 600)
    assert "required" not in server
    code, out, _ = run_mm(capsys, "mcp", "install", "--client", "codex", "--required")
    assert code == 0 and "updated" in out
    server = tomllib.loads((home / ".codex" / "config.toml").read_text())["mcp_servers"]["mm"]
    assert server["required"] is True and server["env"]["MULTI_MODEL_HOME"]


def test_install_needs_a_client(home, capsys) -> None:
    code, _, err = run_mm(capsys, "mcp", "install")
    assert code == 2 and "--client" in err and err.count("\n") == 1
