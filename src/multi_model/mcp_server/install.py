"""`mm mcp install`: this server in an MCP client's own config file, written in place
(idempotent: an entry already right is left alone; other entries and keys are kept).

    client  user scope                          project scope (working directory)
    claude  $CLAUDE_CONFIG_DIR/.claude.json     .mcp.json
    codex   $CODEX_HOME/config.toml             .codex/config.toml (read once codex trusts
                                                the project)
    gemini  ~/.gemini/settings.json             .gemini/settings.json
    qwen    ~/.qwen/settings.json               .qwen/settings.json

`trust` (gemini, qwen): run the tools without asking; headless runs (`-p`) offer or allow
them only then. `required` (codex): codex waits for the server before its first turn (else
`codex exec` may send that turn before our tools are listed) and starts no session without
it. TOML goes through tomlkit, which keeps the user's comments and layout.

Timeouts: codex 0.169 gives a server 30 s to start and a tool call 60 s, which could cut the
first `mm mcp` (the launcher installs the extra then) and would cut real asks; the entry
raises both.
Claude Code waits ~28 h for a tool call, gemini and qwen 10 minutes: their defaults stand.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from multi_model.errors import UsageError
from multi_model.util.fs import atomic_write

CLIENTS = ("claude", "codex", "gemini", "qwen")
SERVER = "mm"  # short, no underscore: gemini names our tools mcp_<server>_<tool>
STARTUP_S = 120
"""codex: seconds `mm mcp` may take to list its tools (a first run installs the extra)."""
TOOL_TIMEOUT_S = 600
"""codex: seconds one tool call may take: an ask's default per-model timeout (300 s) twice,
a failover included; longer work goes through `background` and `job_result`."""


def command(env: Mapping[str, str]) -> list[str]:
    """How a client starts `mm mcp`: the plugin's launcher when we run from it, else this
    interpreter with the installed package."""
    launcher = env.get("MM_LAUNCHER")
    return [launcher, "mcp"] if launcher else [sys.executable, "-m", "multi_model", "mcp"]


def entry(
    client: str, env: Mapping[str, str], trust: bool, demo: bool = False, required: bool = False
) -> dict[str, Any]:
    """The client's entry for `mm mcp` (`trust`: gemini, qwen; `required`: codex)."""
    argv = [*command(env), *(["--demo"] if demo else [])]
    found: dict[str, Any] = {"command": argv[0], "args": argv[1:]}
    if client == "claude":
        found = {"type": "stdio", **found}
    if env.get("MULTI_MODEL_HOME"):  # the same config and data as this `mm`
        found["env"] = {"MULTI_MODEL_HOME": env["MULTI_MODEL_HOME"]}
    if trust and client in ("gemini", "qwen"):
        found["trust"] = True
    if client == "codex":
        found |= {"startup_timeout_sec": STARTUP_S, "tool_timeout_sec": TOOL_TIMEOUT_S}
        if required:
            found["required"] = True
    return found


def config_path(client: str, scope: str, env: Mapping[str, str], cwd: Path) -> Path:
    home = Path(env.get("HOME") or Path.home())
    if scope == "project":
        name = {"claude": ".mcp.json", "codex": ".codex/config.toml"}.get(client)
        return cwd / (name or f".{client}/settings.json")
    if client == "claude":
        return Path(env.get("CLAUDE_CONFIG_DIR") or home) / ".claude.json"
    if client == "codex":
        return Path(env.get("CODEX_HOME") or home / ".codex") / "config.toml"
    return home / f".{client}" / "settings.json"


def render(client: str, new: Mapping[str, Any]) -> str:
    """The entry as it reads in the client's file (for --print)."""
    if client == "codex":
        import tomlkit  # noqa: PLC0415 - optional dependency (the mcp extra)

        return tomlkit.dumps({"mcp_servers": {SERVER: dict(new)}})
    return json.dumps({"mcpServers": {SERVER: new}}, indent=2) + "\n"


def install(client: str, path: Path, new: Mapping[str, Any]) -> str:
    """Write the entry into `path`; 'added', 'updated' or 'unchanged'."""
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    merged, outcome = (_toml if client == "codex" else _json)(text, path, new)
    if outcome != "unchanged":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
            atomic_write(path, merged, mode=mode)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc}") from None
    return outcome


def _json(text: str, path: Path, new: Mapping[str, Any]) -> tuple[str, str]:
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON ({exc}); fix it first") from None
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(servers, (dict, type(None))):
        raise UsageError(f"{path}: mcpServers is not an object; fix it first")
    old = (servers or {}).get(SERVER)
    if old == new:
        return text, "unchanged"
    data["mcpServers"] = {**(servers or {}), SERVER: dict(new)}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n", "updated" if old else "added"


def _toml(text: str, path: Path, new: Mapping[str, Any]) -> tuple[str, str]:
    import tomlkit  # noqa: PLC0415 - optional dependency (the mcp extra)
    from tomlkit.exceptions import TOMLKitError  # noqa: PLC0415 - see above

    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise UsageError(f"{path} is not valid TOML ({exc}); fix it first") from None
    servers = doc.get("mcp_servers")
    if servers is None:
        servers = tomlkit.table(is_super_table=True)
        doc["mcp_servers"] = servers
    old = servers.get(SERVER)
    if old is not None and old.unwrap() == dict(new):
        return text, "unchanged"
    table = tomlkit.table()
    for key, value in new.items():
        table[key] = value
    servers[SERVER] = table
    return tomlkit.dumps(doc), "updated" if old is not None else "added"


def note(client: str, scope: str) -> str:
    """What the user still has to know, or ''."""
    if client == "codex" and scope == "project":
        return "codex reads a project's .codex/config.toml only once you trust the project"
    if client == "claude" and scope == "project":
        return "Claude Code asks once before it starts a server from .mcp.json"
    return ""
