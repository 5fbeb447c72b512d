"""The plugin inside the real Claude Code: validation, loading, the council command end to end
with Claude seats as subagents, the skill, and a marketplace install. The model is the
scripted Messages API of claudeapi.py; the provider CLIs are fakes first on PATH."""

from __future__ import annotations

import json
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


def validate(claude: Claude, target: Path, config: Path) -> tuple[int, str, dict | None]:
    """`plugin validate --strict`: exit code, text output, and the `--json` report where the
    release has one (2.1.198+); one text run either way, so both forms are checked."""
    done = claude.cli("plugin", "validate", "--strict", str(target), config=config)
    report = None
    if claude.newer:
        as_json = claude.cli("plugin", "validate", "--strict", "--json", str(target), config=config)
        report = json.loads(as_json.stdout)
        assert report["success"] is (as_json.returncode == 0) is (done.returncode == 0)
    return done.returncode, done.stdout + done.stderr, report


def messages(report: dict) -> list[str]:
    parts = [report["manifest"], *report.get("contents", [])]
    found = [w for part in parts for w in [*part["errors"], *part["warnings"]]]
    return [f"{w['path']}: {w['message']}" if w.get("path") else w["message"] for w in found]


def test_validate_strict_passes_on_the_repository(claude: Claude, tmp_path: Path) -> None:
    for target in (ROOT, ROOT / ".claude-plugin" / "plugin.json"):
        code, text, report = validate(claude, target, tmp_path)
        assert code == 0, text
        assert "Validation passed" in text
        if report is None:
            assert "warning" not in text.lower()
            continue
        assert messages(report) == []
        # the plugin directory's own checks (icon, README, ...): none, blocking or not
        assert report["directory"]["findings"] == [], report["directory"]["findings"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"keywords": "council"}, "keywords: Invalid input: expected array, received string"),
        ({"name": "multi model"}, "name: Plugin name cannot contain spaces"),
        ({"commands": "commands/council.md"}, "commands: Invalid input"),
    ],
)
def test_validate_strict_fails_on_broken_manifests(
    claude: Claude, tmp_path: Path, change: dict, message: str
) -> None:
    plugin = tmp_path / "broken"
    shutil.copytree(ROOT / ".claude-plugin", plugin / ".claude-plugin")
    (plugin / ".claude-plugin" / "marketplace.json").unlink()
    manifest = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text())
    (plugin / ".claude-plugin" / "plugin.json").write_text(json.dumps({**manifest, **change}))
    code, text, report = validate(claude, plugin, tmp_path / "cfg")
    assert code == 1
    assert message in text
    if report is not None:
        assert any(message in m for m in messages(report)), messages(report)


def test_validate_strict_checks_the_hooks_file(claude: Claude, tmp_path: Path) -> None:
    """2.1.197: an unknown hook event is an error; newer releases warn ("entry ignored at
    runtime"), which --strict still fails."""
    plugin = tmp_path / "broken"
    shutil.copytree(ROOT / ".claude-plugin", plugin / ".claude-plugin")
    (plugin / ".claude-plugin" / "marketplace.json").unlink()
    hooks = json.loads((ROOT / "hooks" / "hooks.json").read_text())
    hooks["hooks"]["PostToolUze"] = hooks["hooks"].pop("PostToolUse")
    (plugin / "hooks").mkdir()
    (plugin / "hooks" / "hooks.json").write_text(json.dumps(hooks))
    code, text, report = validate(claude, plugin / ".claude-plugin" / "plugin.json", tmp_path)
    assert code == 1
    expected = (
        "hooks.PostToolUze: unknown hook event; entry ignored at runtime"
        if claude.newer
        else "hooks.PostToolUze: Invalid key in record"
    )
    assert expected in text
    if report is not None:
        assert any(expected in m for m in messages(report)), messages(report)


# --- 2. loading -------------------------------------------------------------------------------


def test_init_lists_the_plugin_commands_skill_and_agents(claude: Claude) -> None:
    run = claude.run("say hi")
    init = run.init
    assert {"name": "multi-model", "source": "multi-model@inline"}.items() <= next(
        p for p in init["plugins"] if p["name"] == "multi-model"
    ).items()
    assert not init.get("plugin_errors")
    for name in (*COMMANDS, "multi-model"):
        assert f"multi-model:{name}" in init["slash_commands"]
    assert "multi-model:multi-model" in init.get("skills", [])
    for agent in AGENTS:
        assert f"multi-model:{agent}" in init["agents"]
    assert run.result["result"] == "MOCK-REPLY"


# --- 3. the council command: test_council.py ------------------------------------------


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
    files = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
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
