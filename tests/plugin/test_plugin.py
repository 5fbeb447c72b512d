"""The plugin inside the real Claude Code: validation, loading, the council command end to end
with Claude seats as subagents, the skill, and a marketplace install. The model is the
scripted Messages API of claudeapi.py; the provider CLIs are fakes first on PATH."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.plugin.conftest import ROOT, Claude

COMMANDS = ("council", "ask", "detect", "review")
AGENTS = ("panelist", "panelist-opus", "panelist-sonnet", "panelist-haiku")
CONTEXT_BUDGET = 1500


def frontmatter(path: Path) -> dict[str, str]:
    head = path.read_text().split("---\n")[1]
    pairs = (line.split(": ", 1) for line in head.splitlines() if ": " in line)
    return {k: json.loads(v) if v.startswith('"') else v for k, v in pairs}


def test_context_budget_of_every_listed_description() -> None:
    """Command, skill and agent descriptions are listed to the model in every session."""
    texts = [frontmatter(ROOT / "commands" / f"{c}.md")["description"] for c in COMMANDS]
    skill = frontmatter(ROOT / "skills" / "multi-model" / "SKILL.md")
    texts += [skill["description"], skill.get("when_to_use", "")]
    texts += [frontmatter(ROOT / "agents" / f"{a}.md")["description"] for a in AGENTS]
    total = sum(len(t) for t in texts)
    assert total <= CONTEXT_BUDGET, f"{total} characters of descriptions"
    assert sorted(p.stem for p in (ROOT / "commands").glob("*.md")) == sorted(COMMANDS)
    assert sorted(p.stem for p in (ROOT / "agents").glob("*.md")) == sorted(AGENTS)


# --- 1. validation ----------------------------------------------------------------------------

def test_validate_strict_passes_on_the_repository(claude: Claude, tmp_path: Path) -> None:
    for target in (ROOT, ROOT / ".claude-plugin" / "plugin.json"):
        done = claude.cli("plugin", "validate", "--strict", str(target), config=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Validation passed" in done.stdout and "warning" not in done.stdout.lower()


@pytest.mark.parametrize("change, message", [
    ({"keywords": "council"}, "keywords: Invalid input: expected array, received string"),
    ({"name": "multi model"}, "name: Plugin name cannot contain spaces"),
    ({"commands": "commands/council.md"}, "commands: Invalid input"),
])
def test_validate_strict_fails_on_broken_manifests(claude: Claude, tmp_path: Path,
                                                   change: dict, message: str) -> None:
    plugin = tmp_path / "broken"
    shutil.copytree(ROOT / ".claude-plugin", plugin / ".claude-plugin")
    (plugin / ".claude-plugin" / "marketplace.json").unlink()
    manifest = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text())
    (plugin / ".claude-plugin" / "plugin.json").write_text(json.dumps({**manifest, **change}))
    done = claude.cli("plugin", "validate", "--strict", str(plugin), config=tmp_path / "cfg")
    assert done.returncode == 1
    assert message in done.stdout + done.stderr


def test_validate_strict_checks_the_hooks_file(claude: Claude, tmp_path: Path) -> None:
    plugin = tmp_path / "broken"
    shutil.copytree(ROOT / ".claude-plugin", plugin / ".claude-plugin")
    (plugin / ".claude-plugin" / "marketplace.json").unlink()
    hooks = json.loads((ROOT / "hooks" / "hooks.json").read_text())
    hooks["hooks"]["PostToolUze"] = hooks["hooks"].pop("PostToolUse")
    (plugin / "hooks").mkdir()
    (plugin / "hooks" / "hooks.json").write_text(json.dumps(hooks))
    done = claude.cli("plugin", "validate", "--strict", str(plugin / ".claude-plugin" /
                                                             "plugin.json"), config=tmp_path)
    assert done.returncode == 1
    assert "hooks.PostToolUze: Invalid key in record" in done.stdout + done.stderr


# --- 2. loading -------------------------------------------------------------------------------

def test_init_lists_the_plugin_commands_skill_and_agents(claude: Claude) -> None:
    run = claude.run("say hi")
    init = run.init
    assert {"name": "multi-model", "source": "multi-model@inline"}.items() <= next(
        p for p in init["plugins"] if p["name"] == "multi-model").items()
    assert not init.get("plugin_errors")
    for name in (*COMMANDS, "multi-model"):
        assert f"multi-model:{name}" in init["slash_commands"]
    assert "multi-model:multi-model" in init.get("skills", [])
    for agent in AGENTS:
        assert f"multi-model:{agent}" in init["agents"]
    assert run.result["result"] == "MOCK-REPLY"


# --- 3. the council command -------------------------------------------------------------------

def test_council_command_runs_cli_and_subagent_seats_end_to_end(claude: Claude) -> None:
    question = 'Tabs or spaces? Answer as {"choice": "..."} if you like.'
    run = claude.run(f"/multi-model:council {question}", env={
        "CLAUDE_PLUGIN_OPTION_PANEL": "codex:gpt-5.4,gemini:gemini-3-pro,opus,sonnet"})
    assert run.code == 0, run.stderr[-2000:]
    assert run.result["permission_denials"] == []
    first = json.dumps(run.requests[0]["body"]["messages"])
    assert "<command-name>/multi-model:council</command-name>" in first
    assert str(ROOT / "scripts" / "mm") in first  # ${CLAUDE_PLUGIN_ROOT} was substituted

    final = run.result["result"]
    assert final.startswith("COUNCIL-DONE"), final[:3000]
    result = json.loads(final[final.index("{"):])["result"]
    assert result["question"] == question
    seats = {r["model"]: r for r in result["stage1_responses"]}
    assert {m: r["status"] for m, r in seats.items()} == dict.fromkeys(
        ["codex:gpt-5.4", "gemini:gemini-3-pro", "opus", "sonnet"], "ok")
    assert seats["codex:gpt-5.4"]["exit_code"] == 0 and seats["codex:gpt-5.4"]["cli_version"]
    assert seats["opus"]["provider"] == "agent"
    assert seats["opus"]["text"].startswith("ANSWER from the subagent on claude-opus")
    assert seats["sonnet"]["text"].startswith("ANSWER from the subagent on claude-sonnet")
    assert {b["reviewer"]: b["status"] for b in result["stage2_rankings"]} == dict.fromkeys(
        seats, "valid")
    assert result["stage3_synthesis"]["text"]

    agents = [c["input"]["subagent_type"] for c in run.tool_calls("Agent")]
    assert sorted(set(agents)) == ["multi-model:panelist-opus", "multi-model:panelist-sonnet"]
    sub = run.subagent_requests()
    assert {r["body"]["model"].split("-")[1] for r in sub} == {"opus", "sonnet"}
    assert {tuple(sorted(t["name"] for t in r["body"]["tools"])) for r in sub} == {
        ("Glob", "Grep", "Read")}  # read-only seats
    bash = [c["input"]["command"] for c in run.tool_calls("Bash")]
    assert all(c.startswith(str(ROOT / "scripts" / "mm") + " council ") for c in bash)
    assert [re.search(r"council (\w+)", c).group(1) for c in bash] == [
        "prepare", "start", "rank", "synthesize", "result"]


# --- 4. the skill -----------------------------------------------------------------------------

def test_the_model_invokes_the_skill_and_its_text_arrives(claude: Claude) -> None:
    run = claude.run("PLEASE_SKILL multi-model:multi-model", "--allowedTools", "Skill")
    assert run.code == 0, run.stderr[-2000:]
    [call] = run.tool_calls("Skill")
    assert call["input"]["skill"] == "multi-model:multi-model"
    later = json.dumps(run.requests[-1]["body"]["messages"])
    assert "multi-model: other models as advisers" in later
    assert str(ROOT / "scripts" / "mm") in later
    assert run.result["result"] == "SKILL-DONE"


# --- 5. marketplace install -------------------------------------------------------------------

def test_marketplace_add_and_install_offline(claude: Claude, tmp_path: Path) -> None:
    source = tmp_path / "multi-model"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    config = tmp_path / "config"
    added = claude.cli("plugin", "marketplace", "add", str(source), config=config)
    assert added.returncode == 0, added.stdout + added.stderr
    installed = claude.cli("plugin", "install", "multi-model@multi-model", config=config)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    listed = claude.cli("plugin", "list", "--json", config=config)
    [entry] = [p for p in json.loads(listed.stdout) if p["id"] == "multi-model@multi-model"]
    assert entry["enabled"] and entry["version"] == "0.1.0"
    copy = Path(entry["installPath"])
    assert (copy / "commands" / "council.md").is_file() and (copy / "scripts" / "mm").is_file()
